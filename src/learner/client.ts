/**
 * A learner: connect → hello → (task → train τ local iterations → compute_done → result)*.
 * The same loop runs as a spawned child of the orchestrator or by hand on another machine.
 * A malformed frame gets an error reply and is dropped; it never ends the session.
 */
import { LARGEST_SAMPLE_PIXELS } from '../data/datasets.ts';
import type { LearnerSpec } from '../model/devices.ts';
import WebSocket from 'ws';
import { createEngine, layoutOf, type Engine, type EngineChoice } from '../nn/mlp.ts';
import { MAX_MODEL_PARAMETERS } from '../nn/model-spec.ts';
import type { ImageSet } from '../data/mnist.ts';
import { createClock, monotonicSeconds, type Clock } from '../emulation/clock.ts';
import { padCompute } from '../emulation/compute.ts';
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
  const log = opts.log ?? (() => {});
  const ws = new WebSocket(opts.url, {
    maxPayload: opts.maxFrameBytes ?? MAX_FRAME_BEFORE_WELCOME,
    perMessageDeflate: false,
    ...tlsClientOptions(opts.tls),
  });
  let settings: LearnerSettings | null = null;
  let clock: Clock | null = null;
  let engine: Engine | null = null;
  let shard: Shard | null = null;
  let welcomed = false;
  let sawBye = false;
  let tasksDone = 0;
  let held: { task: ReceivedTask; weights: Promise<Float32Array>; arrivedAt: number } | null = null; // a task waiting for its `start`
  let queue: Promise<void> = Promise.resolve();
  const models = opts.models ?? createModelCache();
  /** Model requests this session sent, by model: settled by a `model` frame, a refusal, or the session's end. */
  const fetching = new Map<
    string,
    { task_id: string; resolve: (w: Float32Array) => void; reject: (e: Error) => void }
  >();

  const send = (data: Buffer) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(data);
  };
  const replyError = (code: string, message: string, task_id?: string) =>
    send(encodeMessage({ type: 'error', code, message, task_id }));

  /** The global weights a task trains from: carried by it, or the named model (fetched once per process). */
  function weightsOf(task: ReceivedTask): Promise<Float32Array> {
    if (task.model === undefined) return Promise.resolve(task.weights);
    const ref = task.model;
    const fetchHere = () =>
      new Promise<Float32Array>((resolve, reject) => {
        fetching.set(ref, { task_id: task.task_id, resolve, reject });
        send(encodeMessage({ type: 'model_request', model: ref, task_id: task.task_id }));
      });
    const weights = (async () => {
      for (;;) {
        let ours = false;
        try {
          return await models.get(ref, () => ((ours = true), fetchHere()));
        } catch (e) {
          // A sibling's fetch failed with its session: this session asks for itself.
          if (ours || ws.readyState !== WebSocket.OPEN) throw e;
        }
      }
    })();
    weights.catch(() => {}); // awaited (and reported) when the task runs
    return weights;
  }

  /** `arrivedAt`: when the task arrived; the emulated compute phase starts then, not when its slot came. */
  async function runTask(task: ReceivedTask, weightsP: Promise<Float32Array>, arrivedAt: number): Promise<void> {
    if (!settings || !clock || !engine) return;
    const weights = await weightsP;
    const started = monotonicSeconds();
    const batch: ImageSet =
      task.source === 'batch'
        ? { images: task.images!, labels: task.labels!, count: task.samples }
        : shard
          ? samplesFromShard(shard, task.samples, task.seed)
          : (() => {
              throw new ProtocolError('no_shard', 'task refers to a local shard but none was received');
            })();
    const trained = await engine.train(weights, batch, {
      iterations: task.tau,
      minibatch: settings.minibatch,
      lr: settings.lr,
      mode: settings.local_iteration,
      seed: task.seed,
    });
    // A diverged model (e.g. from hostile weights) is reported, never sent to be averaged.
    assertFiniteWeights(trained.weights, 'trained weights');
    const trainedAt = monotonicSeconds();
    const train_wall_s = trainedAt - started;
    send(encodeMessage({ type: 'trained', task_id: task.task_id, train_wall_s }));
    const emulated = computeSeconds(task.tau, task.samples, settings.flops_per_sample, task.f_hz);
    const throttle = await padCompute(trainedAt - arrivedAt, emulated, clock);
    if (throttle.overrun_s > 0)
      log(
        `overrun: waited ${(started - arrivedAt).toFixed(3)} s for a compute slot and trained ${train_wall_s.toFixed(3)} s; budget ${(emulated * clock.timeScale).toFixed(3)} s`,
      );
    send(encodeMessage({ type: 'compute_done', task_id: task.task_id, train_wall_s, ...throttle }));
    const result = encodeTimedMessageParts({
      type: 'result',
      task_id: task.task_id,
      cycle: task.cycle,
      samples: task.samples,
      steps: trained.steps,
      loss: Number.isFinite(trained.loss) ? trained.loss : 0,
      train_wall_s,
      ...throttle,
      engine: engine.name,
      max_rss_kb: peakRssKb(),
      weights: trained.weights,
    });
    if (ws.readyState === WebSocket.OPEN) await sendPaced(ws, result, task.rate_bps, clock);
    tasksDone++;
  }

  // Not awaited by the frame queue: a task waiting for its model must not hold back the frame that brings it.
  const runTaskReportingErrors = (task: ReceivedTask, weights: Promise<Float32Array>, arrivedAt: number) =>
    void runTask(task, weights, arrivedAt).catch((e: unknown) =>
      replyError(e instanceof ProtocolError ? e.code : 'task_failed', String((e as Error).message ?? e), task.task_id),
    );

  async function onMessage(message: ToLearner): Promise<void> {
    switch (message.type) {
      case 'welcome': {
        if (welcomed) return replyError('unexpected', 'second welcome ignored');
        const why =
          message.protocol !== PROTOCOL_VERSION
            ? `orchestrator speaks protocol ${message.protocol}, this learner ${PROTOCOL_VERSION}`
            : modelProblem(message.settings);
        if (why) {
          // Nothing this learner could do in the run would be right: leave with a reason.
          log(`cannot join: ${why}`);
          ws.close(CLOSE.incompatible.code, `${CLOSE.incompatible.reason}: ${why}`.slice(0, 120));
          return;
        }
        try {
          engine = await (opts.engineFor ?? ((choice) => createEngine(choice, log, ['train'])))(message.settings);
        } catch (e) {
          log(`cannot join: ${(e as Error).message}`);
          ws.close(
            CLOSE.incompatible.code,
            `${CLOSE.incompatible.reason}: engine ${message.settings.engine} unavailable`.slice(0, 120),
          );
          return;
        }
        settings = message.settings;
        clock = createClock(settings.clock, settings.time_scale);
        welcomed = true;
        opts.onJoined?.();
        log(
          `joined run ${settings.run_id} as learner ${message.learner_id} (engine ${engine.name}, clock ${settings.clock})`,
        );
        return;
      }
      case 'shard':
        shard = message;
        log(`received a local shard of ${message.samples} samples`);
        return;
      case 'task':
        if (message.hold) {
          if (held)
            return replyError(
              'unexpected',
              `task ${message.task_id} arrived while task ${held.task.task_id} is held`,
              message.task_id,
            );
          // The model is fetched while the task waits for its slot.
          held = { task: message, weights: weightsOf(message), arrivedAt: monotonicSeconds() };
          return;
        }
        return runTaskReportingErrors(message, weightsOf(message), monotonicSeconds());
      case 'start': {
        if (!held || held.task.task_id !== message.task_id)
          return replyError('unexpected', `start for task ${message.task_id}, which is not held here`);
        const { task, weights, arrivedAt } = held;
        held = null;
        return runTaskReportingErrors(task, weights, arrivedAt);
      }
      case 'model': {
        const request = fetching.get(message.model);
        if (!request) return replyError('unexpected', `model ${message.model} was not requested`);
        fetching.delete(message.model);
        request.resolve(message.weights);
        return;
      }
      case 'error': {
        log(`orchestrator refused a frame: ${message.code}: ${message.message}`);
        // A refused model request fails the task that wanted it (and lets the next one ask again).
        for (const [ref, request] of fetching)
          if (message.task_id !== undefined && request.task_id === message.task_id) {
            fetching.delete(ref);
            request.reject(new ProtocolError(message.code, `model ${ref} refused: ${message.message}`));
          }
        return;
      }
      case 'bye':
        sawBye = true;
        log(`orchestrator says bye: ${message.reason}`);
        ws.close(1000, 'bye');
        return;
    }
  }

  async function onFrame(data: WireMessage, isBinary: boolean): Promise<void> {
    let message: ToLearner;
    try {
      if (!isBinary) throw new ProtocolError('bad_frame', 'text frames are not part of the protocol');
      message = decodeToLearner(data, settings);
    } catch (e) {
      const err = e instanceof ProtocolError ? e : new ProtocolError('bad_frame', String(e));
      log(`dropped a bad frame: ${err.message}`);
      return replyError(err.code, err.message, err.task_id);
    }
    try {
      await onMessage(message);
    } catch (e) {
      log(`error: ${(e as Error).message}`);
      replyError(e instanceof ProtocolError ? e.code : 'learner_error', String((e as Error).message));
    }
  }

  return new Promise((resolve) => {
    ws.on('open', () => {
      const claim = opts.claim === undefined ? {} : { claim: opts.claim };
      send(
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
    });
    // Messages as their fragments: a task's weights and batch, each sent as a fragment of its own, are read in place.
    ws.binaryType = 'fragments';
    ws.on('message', (data: WireMessage, isBinary: boolean) => {
      // One frame at a time, in arrival order, decoding included: a frame that follows the welcome
      // in the same tick (the federated shard) is judged with the welcome's settings, and a task
      // never starts before the welcome's engine is ready.
      queue = queue.then(() => onFrame(data, isBinary));
    });
    const connect = watchConnect(ws, opts.url, opts.tls);
    ws.on('error', (err) => {
      if (connect.opened()) log(`connection error: ${err.message}`); // before opening, the caller reports it
    });
    ws.on('close', (code, reasonBuf) => {
      for (const request of fetching.values()) request.reject(new Error('connection closed before the model arrived'));
      fetching.clear();
      const refusal = connect.refusal();
      if (refusal !== null) return resolve({ kind: 'rejected', code, reason: refusal, tasksDone });
      if (!connect.opened())
        return resolve({ kind: 'unreachable', code, reason: connect.failure() || 'no connection', tasksDone });
      const reason = reasonBuf.toString() || (code === 1006 ? 'connection lost' : '');
      resolve({ kind: sawBye || code === 4000 ? 'bye' : welcomed ? 'lost' : 'refused', code, reason, tasksDone });
    });
  });
}
