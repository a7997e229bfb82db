/**
 * One admitted learner's connection: what it may cost us before it is cut, and sending to it. Replies
 * go out only while the peer reads what it was sent; one that leaves too much unread, or sends too
 * many frames we refuse, is cut: its task is missing, and it may rejoin.
 */
import { WebSocket } from 'ws';
import type { LearnerSpec } from '../../model/devices.ts';
import { encodeMessage } from '../../protocol/messages.ts';
import type { HubEvent } from '../events.ts';

/**
 * What one connection may cost us before it is cut. An honest learner asks for a task's model once
 * (twice if a sibling's fetch died with its session), has few frames refused, and reads what we
 * send; a peer that does otherwise would make the orchestrator buffer frames for it without end.
 */
export const CONNECTION_LIMITS = {
  model_requests_per_task: 2,
  rejected_frames: 100,
  /** our replies and models it leaves unread, bytes (a task frame is sent regardless: it is paced) */
  unread_bytes: 16 * 2 ** 20,
} as const;

export function errorFrame(code: string, message: string, task_id?: string): Buffer {
  return encodeMessage({
    type: 'error',
    code,
    message: message.slice(0, 200),
    ...(task_id === undefined ? {} : { task_id }),
  });
}

/** What a connection tells the hub: a frame it refused, a cut. */
export interface ConnectionReports {
  rejected(): void;
  emit(event: HubEvent): void;
}

export class LearnerConnection {
  alive = true; // a pong or a frame arrived since the last beat
  missedBeats = 0; // consecutive beats without a sign of life
  dropReason?: string; // why the hub itself cut this connection
  private rejectedFrames = 0;

  constructor(
    readonly ws: WebSocket,
    readonly id: number,
    readonly profile: LearnerSpec,
    /** the process it comes from (address and pid): learners of one host share its CPU */
    readonly host: string,
    private readonly reports: ConnectionReports,
  ) {}

  /** Sends a frame whatever the peer left unread; resolves once the socket took it. */
  send(frame: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.ws.send(frame, (e) => (e ? reject(e) : resolve())));
  }

  /** Sends a small control frame while the connection is open (false: it is not). */
  sendIfOpen(frame: Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(frame);
    return true;
  }

  /** Sends unless the peer has left too much of what we sent unread: then it is cut (false). */
  sendUnlessBacklogged(frame: Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.ws.bufferedAmount + frame.byteLength > CONNECTION_LIMITS.unread_bytes) {
      this.cutFlooding(
        `left ${(this.ws.bufferedAmount / 2 ** 20).toFixed(1)} MiB of replies unread (at most ${CONNECTION_LIMITS.unread_bytes / 2 ** 20} MiB)`,
      );
      return false;
    }
    this.ws.send(frame);
    return true;
  }

  /** Refuses one of its frames with an error reply; one that has too many refused is cut. */
  reject(code: string, message: string, task_id?: string): void {
    this.reports.rejected();
    if (++this.rejectedFrames > CONNECTION_LIMITS.rejected_frames)
      return this.cutFlooding(
        `sent ${this.rejectedFrames} frames the orchestrator refused (at most ${CONNECTION_LIMITS.rejected_frames})`,
      );
    this.sendUnlessBacklogged(errorFrame(code, message, task_id));
  }

  /** A connection that costs more than any honest learner's is cut. */
  cutFlooding(what: string): void {
    if (this.dropReason !== undefined) return;
    this.reports.emit({ type: 'learner-error', learner: this.id, code: 'flooding', message: `cut: it ${what}` });
    this.cut(`cut for flooding: it ${what}`);
  }

  /** Cuts the connection without a close frame, as a crash looks; `reason` is why it left. */
  cut(reason: string): void {
    this.dropReason = reason;
    this.ws.terminate();
  }
}
