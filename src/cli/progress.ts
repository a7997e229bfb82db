/**
 * Progress while a run goes: on a terminal a status line (the running cycle, learners done,
 * elapsed time and the time left, from the cycles done so far) redrawn every second; without one, a
 * line every PROGRESS_EVERY_S while a cycle runs longer than that, so a log never goes silent.
 */
import type { RunEvent } from '../orchestrator/events.ts';

export const PROGRESS_EVERY_S = 15;

/** "42 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${String(t % 60).padStart(2, '0')} s`;
  return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')} min`;
}

interface Running {
  scheme: string;
  cycle: number;
  cycles: number;
  tau: number;
  active: number;
  done: number;
  startedAt_s: number;
}

export interface ProgressOptions {
  tty: boolean;
  /** writes raw text (the status line uses \r; lines end in \n) */
  write: (text: string) => void;
  /** seconds on a monotonic clock */
  now: () => number;
}

export class ProgressReporter {
  private readonly runStart_s: number;
  private running: Running | null = null;
  private readonly cycleWalls_s: number[] = [];
  private left: number | null = null; // cycles this session still has to run, current one included
  private lastLine_s = 0;
  private timer?: NodeJS.Timeout;
  private statusShown = false;

  constructor(private readonly o: ProgressOptions) {
    this.runStart_s = o.now();
  }

  /** Starts the periodic redraw (TTY) or check (no TTY); stop() ends it. */
  start(): void {
    this.timer = setInterval(() => this.tick(), this.o.tty ? 1000 : 1000 * Math.min(5, PROGRESS_EVERY_S));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.clearStatus();
    this.running = null;
  }

  /** Before an event line is printed: the status line must not be mixed into it. */
  clearStatus(): void {
    if (this.o.tty && this.statusShown) this.o.write('\r\x1b[K');
    this.statusShown = false;
  }

  onEvent(e: RunEvent): void {
    switch (e.type) {
      case 'cycle-start':
        this.running = {
          scheme: e.scheme,
          cycle: e.cycle,
          cycles: e.cycles,
          tau: e.tau,
          active: e.active,
          done: 0,
          startedAt_s: this.o.now(),
        };
        this.lastLine_s = this.o.now();
        break;
      case 'task-done':
      case 'missing':
        if (this.running && e.scheme === this.running.scheme && e.cycle === this.running.cycle) this.running.done++;
        break;
      case 'cycle-done':
        this.cycleWalls_s.push(e.wall_s);
        this.left = e.session_left;
        this.running = null;
        break;
      default:
        return;
    }
    if (this.o.tty) this.draw();
  }

  /** Seconds until the session ends, from the mean wall time of the cycles done so far; null before the first. */
  eta_s(): number | null {
    if (this.cycleWalls_s.length === 0 || this.left === null) return null;
    const mean = this.cycleWalls_s.reduce((a, b) => a + b, 0) / this.cycleWalls_s.length;
    const inCycle = this.running ? this.o.now() - this.running.startedAt_s : 0;
    // `left` counted the current cycle as still to run when the previous one ended.
    return Math.max(0, this.left * mean - inCycle);
  }

  /** The status text: what runs, how far it is, elapsed and time left. */
  status(): string {
    const elapsed = `elapsed ${formatDuration(this.o.now() - this.runStart_s)}`;
    const eta = this.eta_s();
    // "time left", not "ETA": eta is also a scheme's name, and the two met on one line ("eta cycle 2/2 … ETA 0 s").
    const times = `${elapsed}, ${eta === null ? 'time left known after the first cycle' : `about ${formatDuration(eta)} left`}`;
    const r = this.running;
    if (!r) return times;
    return `${r.scheme} cycle ${r.cycle}/${r.cycles}: ${r.done}/${r.active} learners done (τ=${r.tau}) · ${times}`;
  }

  private draw(): void {
    this.o.write(`\r\x1b[K${this.status()}`);
    this.statusShown = true;
  }

  private tick(): void {
    if (this.o.tty) {
      if (this.running) this.draw();
      return;
    }
    const r = this.running;
    if (!r || this.o.now() - this.lastLine_s < PROGRESS_EVERY_S) return;
    this.lastLine_s = this.o.now();
    this.o.write(`… ${this.status()}; this cycle has run ${formatDuration(this.o.now() - r.startedAt_s)}\n`);
  }
}
