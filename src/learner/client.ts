/**
 * A learner: connect → hello → (task → train τ local iterations → compute_done → result)*.
 * The same loop runs as a spawned child of the orchestrator or by hand on another machine.
 * A malformed frame gets an error reply and is dropped; it never ends the session.
 */
import { LARGEST_SAMPLE_PIXELS } from '../data/datasets.ts';
import type { LearnerSpec } from '../model/devices.ts';
import WebSocket from 'ws';
import { createEngine, layoutOf, type Engine, type EngineChoice, type TrainResult } from '../nn/mlp.ts';
import { MAX_MODEL_PARAMETERS } from '../nn/model-spec.ts';
import type { ImageSet } from '../data/mnist.ts';
import { createClock, monotonicSeconds, type Clock } from '../emulation/clock.ts';
import { padCompute, type ThrottleResult } from '../emulation/compute.ts';
import { sendPaced } from '../emulation/link.ts';
import { computeSeconds } from '../emulation/timing.ts';
import {
  assertFiniteWeights,
  CLOSE,
  decodeToLearner,
  encodeMessage,
  encodeTimedMessageParts,
  maxFrameToLearner,
  PROTOCOL_VERSION,
  ProtocolError,
  type LearnerSettings,
  type WireMessage,
  type ReceivedTask,
  type Shard,
  type ToLearner,
} from '../protocol/messages.ts';
import { createRng } from '../util/rng.ts';
import { createModelCache, type ModelCache } from './model-cache.ts';
import { tlsClientOptions, watchConnect, type TlsTrust } from './tls.ts';

export interface LearnerClientOptions {
  url: string;
  token: string;
  learnerId: number;
  /** absent: the orchestrator takes this id's entry of its fleet */
  profile?: LearnerSpec;
  log?: (line: string) => void;
  /** Largest frame accepted before the welcome tells the real sizes (default: 60,000 samples of any data set). */
  maxFrameBytes?: number;
  /** The engine for the run's choice (default: a new one); a learner that rejoins passes the same one back. */
  engineFor?: (choice: EngineChoice) => Promise<Engine>;
  /** The models this process holds (default: the session's own); a learner host shares one among its learners. */
  models?: ModelCache;
  /** how a wss:// orchestrator is trusted (default: Node's CAs) */
  tls?: TlsTrust;
  /** a host that claimed its ids (--learner-ids auto:N): the claim, named in every hello */
  claim?: string;
  /** called once the orchestrator welcomed this learner */
  onJoined?: () => void;
}

export interface SessionEnd {
  /**
   * 'bye': the orchestrator ended the run; 'unreachable': no connection was made (reason: the
   * socket error); 'refused': closed during the handshake; 'lost': the connection dropped;
   * 'rejected': the connection itself cannot work (TLS on one side only, a certificate that does
   * not verify) — the same for every learner of the process, and no retry fixes it.
   */
  kind: 'bye' | 'unreachable' | 'refused' | 'lost' | 'rejected';
  code: number;
  reason: string;
  tasksDone: number;
}

const DEFAULT_MAX_SAMPLES = 60_000;
/** Before the welcome the data set is unknown: room for the largest model and the largest samples. */
const MAX_FRAME_BEFORE_WELCOME = maxFrameToLearner(MAX_MODEL_PARAMETERS, DEFAULT_MAX_SAMPLES, LARGEST_SAMPLE_PIXELS);

/** The process's peak RSS, read at most every 100 ms: a host with 500 learners would otherwise ask the kernel 500 times a cycle. */
let rssRead = { at: -Infinity, kb: 0 };
function peakRssKb(): number {
  const now = performance.now();
  if (now - rssRead.at > 100) rssRead = { at: now, kb: process.resourceUsage().maxRSS };
  return rssRead.kb;
}

/** The d_k samples a federated learner trains on this cycle: a seeded draw from its shard (wrapping if d_k > shard). */
export function samplesFromShard(shard: Shard, samples: number, seed: number): ImageSet {
  const order = createRng(seed).shuffle(Uint32Array.from({ length: shard.samples }, (_, i) => i));
  const pixels = shard.images.length / shard.samples; // the run's sample size (784 for MNIST)
  const images = new Uint8Array(samples * pixels);
  const labels = new Uint8Array(samples);
  for (let i = 0; i < samples; i++) {
    const src = order[i % shard.samples];
    images.set(shard.images.subarray(src * pixels, (src + 1) * pixels), i * pixels);
    labels[i] = shard.labels[src];
  }
  return { images, labels, count: samples };
}

/** Why this learner cannot train the run's model, or null when it can. */
function modelProblem(settings: LearnerSettings): string | null {
  let count: number;
  try {
    count = layoutOf(settings.model, settings.input).count;
  } catch (e) {
    return `this learner cannot build the run's model: ${(e as Error).message}`;
  }
  const name = settings.model ?? 'of the paper';
  return settings.param_count !== count
    ? `the run's model ${name} has ${settings.param_count} parameters, this learner builds it with ${count}`
    : null;
}

export function runLearnerSession(opts: LearnerClientOptions): Promise<SessionEnd> {
  return new LearnerSession(opts).run();
}

/** What the welcome gives a learner: the run's settings, its clock and the engine that trains. */
interface Joined {
  settings: LearnerSettings;
  clock: Clock;
  engine: Engine;
}

/** A task sent on hold: it waits for its `start` (its model is fetched meanwhile). */
interface HeldTask {
  task: ReceivedTask;
  weights: Promise<Float32Array>;
  /** when the task arrived: the emulated compute phase starts then, not when its slot came */
  arrivedAt: number;
}

/** A model request this session sent: settled by a `model` frame, a refusal, or the session's end. */
interface ModelRequest {
  task_id: string;
  resolve: (w: Float32Array) => void;
  reject: (e: Error) => void;
}

/** One connection to the orchestrator, from hello to close. */
class LearnerSession {
  private readonly ws: WebSocket;
  private readonly log: (line: string) => void;
  private readonly models: ModelCache;
  /** null until the welcome (and for good when the learner cannot join) */
  private joined: Joined | null = null;
  private shard: Shard | null = null;
  private sawBye = false;
  private tasksDone = 0;
  private held: HeldTask | null = null;
  /** frames are handled one at a time, in arrival order */
  private queue: Promise<void> = Promise.resolve();
  /** the model requests in flight, by model */
  private readonly fetching = new Map<string, ModelRequest>();

  constructor(private readonly opts: LearnerClientOptions) {
    this.log = opts.log ?? (() => {});
    this.models = opts.models ?? createModelCache();
    this.ws = new WebSocket(opts.url, {
      maxPayload: opts.maxFrameBytes ?? MAX_FRAME_BEFORE_WELCOME,
      perMessageDeflate: false,
      ...tlsClientOptions(opts.tls),
    });
  }

  /** Resolves when the connection closes, saying how the session ended. */
  run(): Promise<SessionEnd> {
    const { ws, opts } = this;
    return new Promise((resolve) => {
      ws.on('open', () => this.sayHello());
      // Messages as their fragments: a task's weights and batch, each sent as a fragment of its own, are read in place.
      ws.binaryType = 'fragments';
      ws.on('message', (data: WireMessage, isBinary: boolean) => {
        // One frame at a time, in arrival order, decoding included: a frame that follows the welcome
        // in the same tick (the federated shard) is judged with the welcome's settings, and a task
        // never starts before the welcome's engine is ready.
        this.queue = this.queue.then(() => this.onFrame(data, isBinary));
      });
      const connect = watchConnect(ws, opts.url, opts.tls);
      ws.on('error', (err) => {
        if (connect.opened()) this.log(`connection error: ${err.message}`); // before opening, the caller reports it
      });
      ws.on('close', (code, reasonBuf) => resolve(this.onClose(connect, code, reasonBuf.toString())));
    });
  }

  private sayHello(): void {
    const { opts } = this;
    const claim = opts.claim === undefined ? {} : { claim: opts.claim };
    this.send(
      encodeMessage({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        token: opts.token,
        learner_id: opts.learnerId,
        ...(opts.profile ? { profile: opts.profile } : {}),
        pid: process.pid,
        ...claim,
      }),
    );
  }

  /** The connection closed: pending model requests fail, and the end is named. */
  private onClose(connect: ReturnType<typeof watchConnect>, code: number, reasonText: string): SessionEnd {
    for (const request of this.fetching.values())
      request.reject(new Error('connection closed before the model arrived'));
    this.fetching.clear();
    const tasksDone = this.tasksDone;
    const refusal = connect.refusal();
    if (refusal !== null) return { kind: 'rejected', code, reason: refusal, tasksDone };
    if (!connect.opened())
      return { kind: 'unreachable', code, reason: connect.failure() || 'no connection', tasksDone };
    const reason = reasonText || (code === 1006 ? 'connection lost' : '');
    const kind = this.sawBye || code === 4000 ? 'bye' : this.joined ? 'lost' : 'refused';
    return { kind, code, reason, tasksDone };
  }

  private send(data: Buffer): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
  }

  private replyError(code: string, message: string, task_id?: string): void {
    this.send(encodeMessage({ type: 'error', code, message, task_id }));
  }

  private async onFrame(data: WireMessage, isBinary: boolean): Promise<void> {
    let message: ToLearner;
    try {
      if (!isBinary) throw new ProtocolError('bad_frame', 'text frames are not part of the protocol');
      message = decodeToLearner(data, this.joined?.settings ?? null);
    } catch (e) {
      const err = e instanceof ProtocolError ? e : new ProtocolError('bad_frame', String(e));
      this.log(`dropped a bad frame: ${err.message}`);
      return this.replyError(err.code, err.message, err.task_id);
    }
    try {
      await this.onMessage(message);
    } catch (e) {
      this.log(`error: ${(e as Error).message}`);
      this.replyError(e instanceof ProtocolError ? e.code : 'learner_error', String((e as Error).message));
    }
  }

  private onMessage(message: ToLearner): Promise<void> | void {
    switch (message.type) {
      case 'welcome':
        return this.onWelcome(message);
      case 'shard':
        this.shard = message;
        this.log(`received a local shard of ${message.samples} samples`);
        return;
      case 'task':
        return this.onTask(message);
      case 'start':
        return this.onStart(message.task_id);
      case 'model':
        return this.onModel(message.model, message.weights);
      case 'error':
        return this.onRefusal(message);
      case 'bye':
        this.sawBye = true;
        this.log(`orchestrator says bye: ${message.reason}`);
        this.ws.close(1000, 'bye');
        return;
    }
  }

  private async onWelcome(message: Extract<ToLearner, { type: 'welcome' }>): Promise<void> {
    if (this.joined) return this.replyError('unexpected', 'second welcome ignored');
    const why =
      message.protocol !== PROTOCOL_VERSION
        ? `orchestrator speaks protocol ${message.protocol}, this learner ${PROTOCOL_VERSION}`
        : modelProblem(message.settings);
    // Nothing this learner could do in the run would be right: leave with a reason.
    if (why) return this.leave(why, why);
    let engine: Engine;
    try {
      const engineFor = this.opts.engineFor ?? ((choice) => createEngine(choice, this.log, ['train']));
      engine = await engineFor(message.settings);
    } catch (e) {
      return this.leave((e as Error).message, `engine ${message.settings.engine} unavailable`);
    }
    const settings = message.settings;
    this.joined = { settings, clock: createClock(settings.clock, settings.time_scale), engine };
    this.opts.onJoined?.();
    this.log(
      `joined run ${settings.run_id} as learner ${message.learner_id} (engine ${engine.name}, clock ${settings.clock})`,
    );
  }

  /** Closes the connection as incompatible: `why` in the log, `reason` in the close frame. */
  private leave(why: string, reason: string): void {
    this.log(`cannot join: ${why}`);
    this.ws.close(CLOSE.incompatible.code, `${CLOSE.incompatible.reason}: ${reason}`.slice(0, 120));
  }

  private onTask(task: ReceivedTask): void {
    if (!task.hold) return this.runTaskReportingErrors(task, this.weightsOf(task), monotonicSeconds());
    if (this.held)
      return this.replyError(
        'unexpected',
        `task ${task.task_id} arrived while task ${this.held.task.task_id} is held`,
        task.task_id,
      );
    // The model is fetched while the task waits for its slot.
    this.held = { task, weights: this.weightsOf(task), arrivedAt: monotonicSeconds() };
  }

  private onStart(task_id: string): void {
    const held = this.held;
    if (!held || held.task.task_id !== task_id)
      return this.replyError('unexpected', `start for task ${task_id}, which is not held here`);
    this.held = null;
    this.runTaskReportingErrors(held.task, held.weights, held.arrivedAt);
  }

  private onModel(model: string, weights: Float32Array): void {
    const request = this.fetching.get(model);
    if (!request) return this.replyError('unexpected', `model ${model} was not requested`);
    this.fetching.delete(model);
    request.resolve(weights);
  }

  /** The orchestrator refused a frame: a refused model request fails the task that wanted it (and lets the next one ask again). */
  private onRefusal(message: Extract<ToLearner, { type: 'error' }>): void {
    this.log(`orchestrator refused a frame: ${message.code}: ${message.message}`);
    for (const [ref, request] of this.fetching)
      if (message.task_id !== undefined && request.task_id === message.task_id) {
        this.fetching.delete(ref);
        request.reject(new ProtocolError(message.code, `model ${ref} refused: ${message.message}`));
      }
  }

  /** The global weights a task trains from: carried by it, or the named model (fetched once per process). */
  private weightsOf(task: ReceivedTask): Promise<Float32Array> {
    if (task.model === undefined) return Promise.resolve(task.weights);
    const ref = task.model;
    const weights = (async () => {
      for (;;) {
        let ours = false;
        try {
          return await this.models.get(ref, () => ((ours = true), this.requestModel(ref, task.task_id)));
        } catch (e) {
          // A sibling's fetch failed with its session: this session asks for itself.
          if (ours || this.ws.readyState !== WebSocket.OPEN) throw e;
        }
      }
    })();
    weights.catch(() => {}); // awaited (and reported) when the task runs
    return weights;
  }

  private requestModel(ref: string, task_id: string): Promise<Float32Array> {
    return new Promise<Float32Array>((resolve, reject) => {
      this.fetching.set(ref, { task_id, resolve, reject });
      this.send(encodeMessage({ type: 'model_request', model: ref, task_id }));
    });
  }

  // Not awaited by the frame queue: a task waiting for its model must not hold back the frame that brings it.
  private runTaskReportingErrors(task: ReceivedTask, weights: Promise<Float32Array>, arrivedAt: number): void {
    void this.runTask(task, weights, arrivedAt).catch((e: unknown) =>
      this.replyError(
        e instanceof ProtocolError ? e.code : 'task_failed',
        String((e as Error).message ?? e),
        task.task_id,
      ),
    );
  }

  /** Trains the task, pads its compute to the emulated time, and sends `trained`, `compute_done` and the result. */
  private async runTask(task: ReceivedTask, weightsP: Promise<Float32Array>, arrivedAt: number): Promise<void> {
    if (!this.joined) return;
    const { clock } = this.joined;
    const weights = await weightsP;
    const started = monotonicSeconds();
    const trained = await this.train(task, weights);
    const trainedAt = monotonicSeconds();
    const train_wall_s = trainedAt - started;
    this.send(encodeMessage({ type: 'trained', task_id: task.task_id, train_wall_s }));
    const throttle = await this.padCompute(task, arrivedAt, started, trainedAt);
    this.send(encodeMessage({ type: 'compute_done', task_id: task.task_id, train_wall_s, ...throttle }));
    const result = this.resultFrame(task, trained, train_wall_s, throttle);
    if (this.ws.readyState === WebSocket.OPEN) await sendPaced(this.ws, result, task.rate_bps, clock);
    this.tasksDone++;
  }

  /** τ local iterations on the task's samples; a diverged model (e.g. from hostile weights) is reported, never sent to be averaged. */
  private async train(task: ReceivedTask, weights: Float32Array): Promise<TrainResult> {
    const { settings, engine } = this.joined!;
    const trained = await engine.train(weights, this.batchOf(task), {
      iterations: task.tau,
      minibatch: settings.minibatch,
      lr: settings.lr,
      mode: settings.local_iteration,
      seed: task.seed,
    });
    assertFiniteWeights(trained.weights, 'trained weights');
    return trained;
  }

  /** Waits out the rest of the task's emulated compute time (from its arrival); an overrun is logged. */
  private async padCompute(
    task: ReceivedTask,
    arrivedAt: number,
    started: number,
    trainedAt: number,
  ): Promise<ThrottleResult> {
    const { settings, clock } = this.joined!;
    const emulated = computeSeconds(task.tau, task.samples, settings.flops_per_sample, task.f_hz);
    const throttle = await padCompute(trainedAt - arrivedAt, emulated, clock);
    if (throttle.overrun_s > 0)
      this.log(
        `overrun: waited ${(started - arrivedAt).toFixed(3)} s for a compute slot and trained ${(trainedAt - started).toFixed(3)} s; budget ${(emulated * clock.timeScale).toFixed(3)} s`,
      );
    return throttle;
  }

  private resultFrame(task: ReceivedTask, trained: TrainResult, train_wall_s: number, throttle: ThrottleResult) {
    return encodeTimedMessageParts({
      type: 'result',
      task_id: task.task_id,
      cycle: task.cycle,
      samples: task.samples,
      steps: trained.steps,
      loss: Number.isFinite(trained.loss) ? trained.loss : 0,
      train_wall_s,
      ...throttle,
      engine: this.joined!.engine.name,
      max_rss_kb: peakRssKb(),
      weights: trained.weights,
    });
  }

  /** The samples a task trains on: carried by it, or drawn from this learner's shard (federated). */
  private batchOf(task: ReceivedTask): ImageSet {
    if (task.source === 'batch') return { images: task.images!, labels: task.labels!, count: task.samples };
    if (!this.shard) throw new ProtocolError('no_shard', 'task refers to a local shard but none was received');
    return samplesFromShard(this.shard, task.samples, task.seed);
  }
}
