/**
 * The orchestrator's hub: learners join through its transport (hub-transport.ts), and it carries one
 * task at a time per learner — sendTask returns a handle, and when a held task may start is the
 * caller's policy (the cycle's compute slots). Each task's life is its channel's (task-channel.ts);
 * whether a task carries its model or names it is model sharing's (model-sharing.ts); a task frame
 * travels at its link's emulated rate (emulation/link.ts).
 */
import type { Clock } from '../../emulation/clock.ts';
import { sendPaced } from '../../emulation/link.ts';
import type { LearnerSpec } from '../../model/devices.ts';
import {
  CLOSE,
  encodeMessage,
  encodeTimedMessageParts,
  type ErrorMessage,
  type ModelRequest,
  partsLength,
  type Shard,
  type Task,
} from '../../protocol/messages.ts';
import { timerDelayMs } from '../../util/timers.ts';
import { TRAINING_DIVERGED_REASON } from '../divergence.ts';
import { type HubStats, type LearnerFrame, LearnerTransport, type TransportOptions } from './hub-transport.ts';
import { CONNECTION_LIMITS, type LearnerConnection } from './learner-connection.ts';
import { ModelSharing } from './model-sharing.ts';
import { refusedTask, type SendOptions, TaskChannel, type TaskHandle, type TaskOutcome } from './task-channel.ts';

export type { HubStats } from './hub-transport.ts';
export { CONNECTION_LIMITS } from './learner-connection.ts';
export type { Delivered, SendOptions, TaskHandle, TaskOutcome, TaskWall } from './task-channel.ts';

export interface HubOptions extends TransportOptions {
  clock: Clock;
}

/** Peer-supplied text goes into the run log on one line: control characters are escaped. */
function oneLine(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this escapes
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export class LearnerHub {
  readonly stats: HubStats = {
    connections: 0,
    tasksNamingModel: 0,
    modelsSent: 0,
    authFailures: 0,
    handshakeFailures: 0,
    framesRejected: 0,
    disconnects: 0,
    heartbeatTimeouts: 0,
  };
  private readonly transport: LearnerTransport;
  private readonly sharing: ModelSharing;
  /** the task each learner's connection carries now */
  private readonly running = new Map<LearnerConnection, TaskChannel>();

  constructor(private readonly opts: HubOptions) {
    this.sharing = new ModelSharing(opts.clock.mode);
    this.transport = new LearnerTransport(opts, this.stats, {
      connected: (conn) => this.sharing.joined(conn.host),
      frame: (conn, message, frameBytes) => this.route(conn, message, frameBytes),
      undecodable: (conn, err) => {
        if (err.code === 'non_finite') this.running.get(conn)?.resultRejected(err.message);
      },
      disconnected: (conn, why) => {
        this.sharing.left(conn.host);
        this.running.get(conn)?.fail(why);
      },
    });
  }

  /**
   * Starts listening; resolves with the ws:// (wss:// with TLS) URL learners connect to. A port in
   * use or an address we cannot bind is the user's to fix (InputError); nothing is left running
   * when it fails.
   */
  start(): Promise<string> {
    return this.transport.start();
  }

  connectedIds(): number[] {
    return [...this.transport.connections()].map((c) => c.id).sort((a, b) => a - b);
  }

  isConnected(id: number): boolean {
    return this.transport.connection(id) !== undefined;
  }

  /** The process learner `id` runs in (address and pid): learners of one host share its CPU. */
  hostKeyOf(id: number): string {
    return this.transport.connection(id)?.host ?? `learner ${id}`;
  }

  profileOf(id: number): LearnerSpec | undefined {
    return this.transport.connection(id)?.profile;
  }

  onJoin(listener: (id: number) => void): () => void {
    return this.transport.onJoin(listener);
  }

  /**
   * Resolves with the ids still absent after `timeoutMs` (empty when all joined in time), or at
   * once when `signal` aborts (Ctrl-C must not wait out the join timeout).
   */
  waitFor(ids: number[], timeoutMs: number, signal?: AbortSignal): Promise<number[]> {
    const absent = () => ids.filter((id) => !this.isConnected(id));
    if (absent().length === 0 || signal?.aborted) return Promise.resolve(absent());
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', done);
        resolve(absent());
      };
      const off = this.onJoin(() => {
        if (absent().length === 0) done();
      });
      const timer = setTimeout(done, timerDelayMs(timeoutMs));
      signal?.addEventListener('abort', done);
    });
  }

  async sendShard(id: number, shard: Shard): Promise<void> {
    const conn = this.transport.connection(id);
    if (!conn) throw new Error(`learner ${id} is not connected`);
    // The shard is set-up, not part of any cycle: it is not paced.
    await conn.send(encodeMessage(shard));
  }

  /** Sends one task that starts at once and waits for its outcome (never rejects; failures are 'missing'). */
  runTask(id: number, task: Task, timeoutMs: number): Promise<TaskOutcome> {
    return this.sendTask(id, task, timeoutMs, { hold: false }).outcome;
  }

  /**
   * Sends one task now. A held task travels at once but the learner trains only after
   * `handle.start()` (the caller's compute-slot policy decides when); its timeout starts then,
   * because it covers the learner's work. The outcome never rejects: failures are 'missing'.
   */
  sendTask(id: number, task: Task, timeoutMs: number, opts: SendOptions): TaskHandle {
    const conn = this.transport.connection(id);
    if (!conn || this.running.has(conn)) {
      opts.onFrameFree?.();
      return refusedTask(conn ? 'previous task still running' : 'not connected');
    }
    const full = opts.hold ? { ...task, hold: true } : task;
    const modelRef = this.sharing.sharesWith(conn.host) ? this.sharing.refOf(task.weights) : undefined;
    const whole = encodeTimedMessageParts(full); // views of the task's arrays: nothing is copied
    const frame = modelRef === undefined ? whole : encodeTimedMessageParts(full, modelRef);
    if (modelRef !== undefined) this.stats.tasksNamingModel++;
    const channel: TaskChannel = new TaskChannel(task, {
      bytesSent: partsLength(whole),
      modelRef,
      timeoutMs,
      hold: opts.hold,
      sendStart: () => conn.sendIfOpen(encodeMessage({ type: 'start', task_id: task.task_id })),
      onEnd: () => {
        if (this.running.get(conn) === channel) this.running.delete(conn);
      },
    });
    this.running.set(conn, channel);
    sendPaced(conn.ws, frame, task.rate_bps, this.opts.clock)
      .then(
        (wall) => channel.frameSent(wall),
        (e: Error) => channel.sendFailed(e),
      )
      .finally(() => opts.onFrameFree?.());
    return channel.handle;
  }

  /** Drops a learner's connection (fault injection and shutdown). */
  disconnect(id: number, code: number = CLOSE.shutdown.code, reason: string = CLOSE.shutdown.reason): void {
    this.transport.disconnect(id, code, reason);
  }

  /**
   * Cuts a learner's connection without a close frame, as a crash looks (fault injection, a stuck
   * learner in a shared host): its task, if any, is missing with `reason`; the learner may rejoin.
   */
  cut(id: number, reason: string): void {
    this.transport.cut(id, reason);
  }

  /** Gives up every running task now (Ctrl-C): the cycle loop then finishes at once. */
  failPending(reason: string): void {
    for (const conn of this.transport.connections()) this.running.get(conn)?.fail(reason);
  }

  async close(reason = 'run finished'): Promise<void> {
    this.transport.stopAdmitting();
    this.failPending('orchestrator shutting down');
    await this.transport.close(reason);
  }

  /** A learner's frame after its hello goes to its task, or is refused. */
  private route(conn: LearnerConnection, message: LearnerFrame, frameBytes: number): void {
    const running = this.running.get(conn);
    const task = running?.task.task_id === message.task_id ? running : undefined;
    switch (message.type) {
      case 'trained':
      case 'compute_done':
      case 'result': {
        if (!task) return conn.reject('unexpected', `${message.type} for task ${message.task_id} that is not running`);
        const refused = task.receive(message, frameBytes);
        if (refused) conn.reject(refused.code, refused.message);
        return;
      }
      case 'model_request':
        return this.serveModel(conn, running, message);
      case 'error':
        return this.learnerError(conn, task, message);
    }
  }

  /** A learner host asks for the model its task named (model-sharing.ts). */
  private serveModel(conn: LearnerConnection, task: TaskChannel | undefined, message: ModelRequest): void {
    const weights = this.sharing.model(message.model);
    if (!task?.names(message.model) || !weights)
      return conn.reject('unexpected', `model ${message.model} is not named by a running task`, message.task_id);
    const asked = task.askedForModel();
    if (asked > CONNECTION_LIMITS.model_requests_per_task)
      return conn.cutFlooding(
        `asked ${asked} times for the model of task ${task.task.task_id} (at most ${CONNECTION_LIMITS.model_requests_per_task})`,
      );
    if (conn.sendUnlessBacklogged(encodeMessage({ type: 'model', model: message.model, weights })))
      this.stats.modelsSent++;
  }

  /** An error frame: its task fails, or, outside any task, it is reported. */
  private learnerError(conn: LearnerConnection, task: TaskChannel | undefined, message: ErrorMessage): void {
    if (task) {
      // Its own training produced NaN/Inf (too high a learning rate): the learner is fine, the run's settings are not.
      const reason =
        message.code === 'non_finite'
          ? TRAINING_DIVERGED_REASON
          : oneLine(`learner failed the task: ${message.code}: ${message.message}`);
      return task.fail(reason);
    }
    this.opts.onEvent?.({
      type: 'learner-error',
      learner: conn.id,
      code: oneLine(message.code),
      message: oneLine(message.message),
    });
  }
}
