/**
 * The hub's heartbeat: every beat each peer (a learner's connection, a host's claim) is pinged, and one
 * that showed no sign of life (a pong or a frame) for two beats in a row is dropped. A beat that fires
 * late means this process itself was stalled (a long evaluation, a loaded host): pongs may sit unread
 * in the socket, so that beat judges nobody.
 */
import type { WebSocket } from 'ws';
import { monotonicSeconds } from '../../emulation/clock.ts';
import { timerDelayMs } from '../../util/timers.ts';

/** A peer's signs of life, as the heartbeat keeps them. */
export interface Pulse {
  ws: WebSocket;
  alive: boolean; // a pong or a frame arrived since the last beat
  missedBeats: number; // consecutive beats without a sign of life
}

/** One beat for one peer: true when it must be dropped; else it is pinged and must answer by the next beat. */
export function beatOnce(peer: Pulse, stalled: boolean): boolean {
  if (peer.alive) peer.missedBeats = 0;
  else if (!stalled) peer.missedBeats++;
  if (peer.missedBeats >= 2) return true;
  peer.alive = false;
  peer.ws.ping();
  return false;
}

export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private lastBeatAt = 0;

  constructor(
    private readonly periodMs: number,
    /** `stalled`: this beat came late, so it must judge nobody */
    private readonly onBeat: (stalled: boolean) => void,
  ) {}

  start(): void {
    this.lastBeatAt = monotonicSeconds();
    this.timer = setInterval(() => this.beat(), timerDelayMs(this.periodMs));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private beat(): void {
    const now = monotonicSeconds();
    const stalled = now - this.lastBeatAt > (1.5 * this.periodMs) / 1000;
    this.lastBeatAt = now;
    this.onBeat(stalled);
  }
}
