/**
 * One task's life on the orchestrator's side, from its frame leaving to its one end, the outcome:
 *
 *   computing ──compute_done──▶ computed ──result──▶ ended (ok)
 *   computing ──result (computeDoneWithResult)─────▶ ended (ok)
 *   computing | computed ──learner error, rejected result, timeout, disconnect, failed send──▶ ended (missing)
 *
 * `trained` only lets the compute slot go early (the learner pads its compute after training). A held
 * task also waits for start(): the learner trains only after it, and the timeout, which covers the
 * learner's work, starts then. The channel knows no socket: the hub hands it what arrived for the
 * task and sends what it is asked to.
 */
import { monotonicSeconds } from '../../emulation/clock.ts';
import type { ComputeDone, Result, Task, Trained } from '../../protocol/messages.ts';
import { timerDelayMs } from '../../util/timers.ts';

export interface TaskWall {
  send_s: number; // paced send of the task frame (orchestrator side)
  compute_s: number; // training + padding, reported by the learner
  return_s: number; // compute_done → result received
}

export interface SendOptions {
  /** held: the learner trains only after handle.start() */
  hold: boolean;
  /**
   * called once the frame has left (or failed to): the task's arrays, which the socket writes as
   * they are (never copied into a frame), may be reused
   */
  onFrameFree?: () => void;
}

/** A task on its way: the caller decides when a held task may start. */
export interface TaskHandle {
  /** the task frame was handed to the socket (or the task already ended) */
  sent: Promise<void>;
  /** training is over (compute_done arrived) or the task ended: a compute slot may be released */
  computed: Promise<void>;
  /** lets a held task start training; no-op once the task ended */
  start(): void;
  /** never rejects */
  outcome: Promise<TaskOutcome>;
}

/** A result that arrived: the learner's weights and what its task measured. */
export interface Delivered {
  result: Result;
  computeDone: ComputeDone;
  bytesSent: number;
  bytesReturned: number;
  wall: TaskWall;
}

/**
 * ok: the result arrived; lost: it arrived but is lost on the way to the average (fault injection),
 * so its timeline is known; missing: there is no result (not connected, died, timed out, refused).
 */
export type TaskOutcome =
  | ({ status: 'ok' } & Delivered)
  | ({ status: 'lost'; reason: string } & Delivered)
  | { status: 'missing'; reason: string; bytesSent: number };

export type TaskPhase = 'computing' | 'computed' | 'ended';

/** Why a frame for this task is refused: the hub answers it with an error frame. */
export interface Refusal {
  code: string;
  message: string;
}

export interface ChannelOptions {
  /** the full task frame's length, weights included, however the weights travelled */
  bytesSent: number;
  /** the model the task named instead of carrying it: the only one its learner may ask for */
  modelRef?: string;
  timeoutMs: number;
  hold: boolean;
  /** sends the task's `start` frame; false when the connection is no longer open */
  sendStart: () => boolean;
  /** the task ended: its learner may take the next one */
  onEnd: () => void;
}

/** A task that never went out: it ends at once, missing for `reason`. */
export function refusedTask(reason: string): TaskHandle {
  return {
    sent: Promise.resolve(),
    computed: Promise.resolve(),
    start: () => {},
    outcome: Promise.resolve({ status: 'missing', reason, bytesSent: 0 }),
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export class TaskChannel {
  readonly handle: TaskHandle;
  private state: TaskPhase = 'computing';
  private held: boolean;
  private modelRequests = 0;
  private sendWall_s = 0;
  private computeDone?: ComputeDone;
  private computeDoneAt = 0;
  private timer?: NodeJS.Timeout;
  private readonly sent = deferred<void>();
  private readonly computed = deferred<void>();
  private readonly outcome = deferred<TaskOutcome>();

  constructor(
    readonly task: Task,
    private readonly opts: ChannelOptions,
  ) {
    this.held = opts.hold;
    this.handle = {
      sent: this.sent.promise,
      computed: this.computed.promise,
      start: () => this.start(),
      outcome: this.outcome.promise,
    };
    if (!this.held) this.armTimeout();
  }

  get phase(): TaskPhase {
    return this.state;
  }

  get bytesSent(): number {
    return this.opts.bytesSent;
  }

  /** Whether `model` is the one this task named (the only model its learner may ask for). */
  names(model: string): boolean {
    return this.opts.modelRef === model;
  }

  /** Counts a request for the task's model: how many there have been. */
  askedForModel(): number {
    return ++this.modelRequests;
  }

  /** The frame has left: how long its paced send took on the wall. */
  frameSent(wall_s: number): void {
    this.sendWall_s = wall_s;
    this.sent.resolve();
  }

  sendFailed(e: Error): void {
    this.fail(`send failed: ${e.message}`);
  }

  /** A held task may train now; its timeout starts. Happens once. */
  private start(): void {
    if (this.state === 'ended' || !this.held || !this.opts.sendStart()) return;
    this.held = false;
    this.armTimeout();
  }

  private armTimeout(): void {
    const { timeoutMs } = this.opts;
    this.timer = setTimeout(
      () => this.fail(`no result within ${(timeoutMs / 1000).toFixed(0)} s`),
      timerDelayMs(timeoutMs),
    );
  }

  /** A frame its learner sent for this task: null, or why it is refused. */
  receive(message: Trained | ComputeDone | Result, frameBytes: number): Refusal | null {
    switch (message.type) {
      case 'trained':
        // Training is over, only padding is left: the compute slot may go.
        this.computed.resolve();
        return null;
      case 'compute_done':
        return this.computeDoneArrived(message);
      case 'result':
        return this.resultArrived(message, frameBytes);
    }
  }

  private computeDoneArrived(message: ComputeDone): Refusal | null {
    if (this.state !== 'computing')
      return { code: 'unexpected', message: `compute_done for task ${message.task_id} that is not running` };
    this.state = 'computed';
    this.computeDone = message;
    this.computeDoneAt = monotonicSeconds();
    this.computed.resolve();
    return null;
  }

  private resultArrived(message: Result, frameBytes: number): Refusal | null {
    const { task } = this;
    if (message.samples !== task.samples || message.cycle !== task.cycle)
      return {
        code: 'bad_field',
        message: `result for ${message.samples} samples of cycle ${message.cycle}, task was ${task.samples} of cycle ${task.cycle}`,
      };
    const now = monotonicSeconds();
    const computeDone = this.computeDone ?? this.computeDoneWithResult(message, now);
    this.end({
      status: 'ok',
      result: message,
      computeDone,
      bytesSent: this.bytesSent,
      bytesReturned: frameBytes,
      wall: { send_s: this.sendWall_s, compute_s: computeDone.compute_wall_s, return_s: now - this.computeDoneAt },
    });
    return null;
  }

  /**
   * A result with no compute_done before it (the protocol does not oblige a learner to send one):
   * the result carries the same compute report, so compute_done is taken to arrive with it, and
   * the return leg, which nothing measured, lasts 0.
   */
  private computeDoneWithResult(message: Result, now: number): ComputeDone {
    this.state = 'computed';
    this.computeDoneAt = now;
    this.computeDone = {
      type: 'compute_done',
      task_id: message.task_id,
      train_wall_s: message.train_wall_s,
      compute_wall_s: message.compute_wall_s,
      overrun_s: message.overrun_s,
    };
    return this.computeDone;
  }

  /**
   * A frame its learner sent could not be read intact (e.g. NaN weights). Once compute_done came, the
   * next frame is the result: the task fails now. Before, the frame cannot be told to be the result.
   */
  resultRejected(why: string): void {
    if (this.state === 'computed') this.fail(`result rejected: ${why}`);
  }

  /** The task ends without a result (its learner failed it, left or timed out; Ctrl-C). */
  fail(reason: string): void {
    this.end({ status: 'missing', reason, bytesSent: this.bytesSent });
  }

  /** The one end of a task: every waiter is released, the outcome is settled, later calls do nothing. */
  private end(outcome: TaskOutcome): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearTimeout(this.timer);
    this.opts.onEnd();
    this.sent.resolve(); // a failed send must not leave a slot waiting for it
    this.computed.resolve();
    this.outcome.resolve(outcome);
  }
}
