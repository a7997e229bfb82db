/**
 * The message set of the MEL wire protocol and the validation of every incoming message.
 * This module (with frame.ts) owns the wire: nothing else builds or parses frames.
 *
 * Handshake:  learner → hello (version, id, profile, token)   orchestrator → welcome (settings)
 * Ids:        a host without ids (--learner-ids auto:N) → claim (version, token, N) on a connection of its own;
 *             orchestrator → grant (the lowest N free ids), held as long as that connection; then a hello per id
 * Federated:  orchestrator → shard (the learner's fixed local data, once)
 * Per cycle:  orchestrator → task (τ, weights, batch)         learner → trained, compute_done, then result (weights)
 *             (a task marked `hold` waits on the learner until orchestrator → start: the compute slot)
 *             (virtual clock, learner hosts: a task may name the global model instead of carrying it;
 *              learner → model_request, orchestrator → model, once per host process and model)
 * Any time:   either side → error (a frame was refused; it is dropped), orchestrator → bye
 */
import { LABEL_COUNT } from '../data/format.ts';
import { inputSize, MNIST_SHAPE, type InputShape } from '../nn/model-spec.ts';
import {
  BACKEND_PREFERENCES,
  ENGINE_PREFERENCES,
  type BackendPreference,
  type EnginePreference,
} from '../nn/engine.ts';
import type { LearnerSpec } from '../model/devices.ts';
import {
  decodeFrame,
  encodeFrame,
  encodeFrameParts,
  FrameError,
  frameOverheadBytes,
  joinParts,
  partsLength,
  type Frame,
  type WireMessage,
} from './frame.ts';

export const PROTOCOL_VERSION = 6;
export const MAX_TOKEN_CHARS = 256;
/** A grant's ids as ranges ("0-499"); longer text (ids scattered by churn) is refused, not sent. */
export const MAX_GRANT_CHARS = 4096;
/**
 * Most local iterations a task may ask for: a learner refuses more. The planner caps every
 * allocation's τ here, so a run never sends a task its learners would refuse.
 */
export const MAX_TAU = 10_000;
/** Largest sample a welcome may announce (pixels): bounds the image payloads a learner accepts. */
export const MAX_INPUT_PIXELS = 1 << 20;

/** The welcome's `input` setting: absent for MNIST's shape, so a default run's welcome is as before. */
export function inputField(shape: InputShape): { input?: InputShape } {
  const { channels, height, width } = shape;
  const mnist = channels === MNIST_SHAPE.channels && height === MNIST_SHAPE.height && width === MNIST_SHAPE.width;
  return mnist ? {} : { input: { channels, height, width } };
}

/** Image bytes per sample in this run's shard and task frames. */
export const samplePixels = (settings: Pick<LearnerSettings, 'input'>): number =>
  inputSize(settings.input ?? MNIST_SHAPE);

export interface Hello {
  type: 'hello';
  protocol: number;
  token: string;
  learner_id: number;
  /** absent: "use the run's fleet entry for my id" (learner hosts started without profiles) */
  profile?: LearnerSpec;
  pid?: number;
  /** the claim that granted this id (hosts with --learner-ids auto:N) */
  claim?: string;
}

/** A learner host's first message when it has no ids: grant me `count` of them. */
export interface Claim {
  type: 'claim';
  protocol: number;
  token: string;
  count: number;
  pid?: number;
}

/** The ids granted to a claim (as ranges, e.g. "0-3,8"), the host's while its claim connection lasts. */
export interface Grant {
  type: 'grant';
  claim: string;
  ids: string;
}

export interface LearnerSettings {
  run_id: string;
  param_count: number;
  minibatch: number;
  lr: number;
  local_iteration: 'epoch' | 'step';
  clock: 'virtual' | 'real';
  time_scale: number;
  flops_per_sample: number;
  /** training engine the learner creates (see src/nn/engines.ts) */
  engine: EnginePreference;
  /** tfjs backend, when the tfjs engine runs */
  backend: BackendPreference;
  /** the network to build (src/nn/model-spec.ts); absent: the paper's MLP */
  model?: string;
  /** channels-first shape of one sample (its bytes per image on the wire); absent: MNIST's 1×28×28 */
  input?: InputShape;
  max_samples: number; // largest batch/shard this run can send
}

export interface Welcome {
  type: 'welcome';
  protocol: number;
  learner_id: number;
  settings: LearnerSettings;
}

export interface Shard {
  type: 'shard';
  samples: number;
  images: Uint8Array;
  labels: Uint8Array;
}

export interface Task {
  type: 'task';
  task_id: string;
  cycle: number;
  scheme: string;
  tau: number;
  samples: number; // d_k
  seed: number; // data order and dropout-free SGD shuffling on the learner
  f_hz: number; // compute speed to emulate
  rate_bps: number; // link speed to emulate (real clock: pacing of the return link)
  source: 'batch' | 'shard'; // batch: images/labels travel with the task; shard: use the local shard
  /** Held: the learner keeps the task until a `start` for it arrives (lets the next task travel while others train). */
  hold?: boolean;
  weights: Float32Array;
  images?: Uint8Array;
  labels?: Uint8Array;
}

/**
 * A task as a learner receives it: carrying the global weights, or naming a model (`model`) that its
 * process fetches once with a model_request and shares among its learners.
 */
export type ReceivedTask = Omit<Task, 'weights'> &
  ({ weights: Float32Array; model?: undefined } | { weights?: undefined; model: string });

/** Learner → orchestrator: send me the model a task named (its process does not hold it yet). */
export interface ModelRequest {
  type: 'model_request';
  model: string;
  /** the task that named it: a refusal names this task */
  task_id: string;
}

/** Orchestrator → learner: the weights of a model a task named. */
export interface Model {
  type: 'model';
  model: string;
  weights: Float32Array;
}

/** Training itself is over (real clock: the emulated compute may still be padding): the compute slot may go. */
export interface Trained {
  type: 'trained';
  task_id: string;
  train_wall_s: number;
}

export interface ComputeDone {
  type: 'compute_done';
  task_id: string;
  train_wall_s: number; // time spent really training
  compute_wall_s: number; // the compute phase in wall time: from the task's arrival (waiting for a slot included) to the end of padding
  overrun_s: number; // how much real training exceeded its emulated budget (real clock), else 0
}

export interface Result {
  type: 'result';
  task_id: string;
  cycle: number;
  samples: number;
  steps: number;
  loss: number;
  train_wall_s: number;
  compute_wall_s: number;
  overrun_s: number;
  /** the engine that trained, e.g. "onnx" or "tfjs-wasm" */
  engine: string;
  /** the learner process's peak resident memory so far (kB) */
  max_rss_kb: number;
  weights: Float32Array;
}

export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
  task_id?: string;
}

/** Begin training the held task `task_id` now (the orchestrator grants a compute slot). */
export interface Start {
  type: 'start';
  task_id: string;
}

export interface Bye {
  type: 'bye';
  reason: string;
}

export type ToLearner = Welcome | Grant | Shard | ReceivedTask | Model | Start | ErrorMessage | Bye;
export type ToOrchestrator = Hello | Claim | Trained | ComputeDone | Result | ModelRequest | ErrorMessage;
/** Every message that can be encoded (a task is encoded from the orchestrator's full form). */
export type Message = Welcome | Grant | Shard | Task | Model | Start | ErrorMessage | Bye | ToOrchestrator;

export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    public readonly code: string,
    message: string,
    /** the task a refused frame carried, when its header named one: the refusal names it back */
    public readonly task_id?: string,
  ) {
    super(message);
  }
}

// ---------- encoding ----------

/**
 * Upper bound on the bytes a task or result frame carries beyond its raw payloads (length prefix,
 * JSON header, padding). The allocation charges it, so the bytes really sent never exceed the
 * time the solver budgeted.
 */
export const TIMED_FRAME_OVERHEAD_BYTES = 1024;
/** Task and result headers are padded to this size (see encodeFrame): their frame length is then deterministic. */
const TIMED_HEADER_BYTES = 1000;

function encodeTimedParts(
  header: Record<string, unknown> & { type: string },
  payloads: Record<string, Float32Array | Uint8Array>,
): Uint8Array[] {
  let parts: Uint8Array[];
  try {
    parts = encodeFrameParts(header, payloads, TIMED_HEADER_BYTES);
  } catch (e) {
    throw new ProtocolError('header_too_large', (e as Error).message);
  }
  const overhead = frameOverheadBytes(partsLength(parts), payloads);
  if (overhead > TIMED_FRAME_OVERHEAD_BYTES)
    throw new ProtocolError(
      'header_too_large',
      `frame overhead ${overhead} B exceeds the budgeted ${TIMED_FRAME_OVERHEAD_BYTES} B`,
    );
  return parts;
}

export { partsLength, type WireMessage } from './frame.ts';

/**
 * A task or result frame as parts whose payloads are views of the message's own arrays (see
 * encodeFrameParts): the arrays must stay unchanged until the frame has been written.
 * `modelRef`: the task names this model instead of carrying its weights. The header is padded to a
 * fixed size, so the frame is then shorter by exactly the weights' bytes.
 */
export function encodeTimedMessageParts(m: Task | Result, modelRef?: string): Uint8Array[] {
  if (m.type === 'result') {
    const { weights, ...header } = m;
    return encodeTimedParts(header, { weights });
  }
  const { weights, images, labels, ...header } = m;
  const payloads: Record<string, Float32Array | Uint8Array> = modelRef === undefined ? { weights } : {};
  if (images) payloads.images = images;
  if (labels) payloads.labels = labels;
  return encodeTimedParts(modelRef === undefined ? header : { ...header, model: modelRef }, payloads);
}

/** `into`: a buffer to reuse for a task frame when it is large enough (see encodeFrame). */
export function encodeMessage(m: Message, into?: Buffer): Buffer {
  switch (m.type) {
    case 'shard': {
      const { images, labels, ...header } = m;
      return encodeFrame(header, { images, labels });
    }
    case 'task':
    case 'result':
      return joinParts(encodeTimedMessageParts(m), into);
    case 'model': {
      const { weights, ...header } = m;
      return encodeFrame(header, { weights });
    }
    default:
      return encodeFrame(m as unknown as Record<string, unknown> & { type: string });
  }
}

// ---------- validation ----------

type FieldKind = 'int' | 'posint' | 'number' | 'nonneg' | 'posnum' | 'string' | 'object';

function field(h: Record<string, unknown>, name: string, kind: FieldKind, optional = false): any {
  const v = h[name];
  if (v === undefined && optional) return undefined;
  const bad = (what: string) =>
    new ProtocolError('bad_field', `field "${name}" must be ${what}, got ${JSON.stringify(v)?.slice(0, 60)}`);
  switch (kind) {
    case 'string':
      if (typeof v !== 'string' || v.length > 256) throw bad('a string of at most 256 characters');
      return v;
    case 'object':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('an object');
      return v;
    default: {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('a finite number');
      if ((kind === 'int' || kind === 'posint') && !Number.isSafeInteger(v)) throw bad('an integer');
      if (kind === 'posint' && v < 1) throw bad('an integer >= 1');
      if (kind === 'int' && v < 0) throw bad('an integer >= 0');
      if (kind === 'nonneg' && v < 0) throw bad('a number >= 0');
      if (kind === 'posnum' && v <= 0) throw bad('a number > 0');
      return v;
    }
  }
}

function oneOf<T extends string>(h: Record<string, unknown>, name: string, values: readonly T[]): T {
  const v = h[name];
  if (typeof v !== 'string' || !values.includes(v as T))
    throw new ProtocolError(
      'bad_field',
      `field "${name}" must be one of ${values.join('|')}, got ${JSON.stringify(v)?.slice(0, 60)}`,
    );
  return v as T;
}

function payload<T>(frame: Frame, name: string, ctor: new (...a: any[]) => T, length: number): T {
  const p = frame.payloads[name];
  if (!(p instanceof ctor))
    throw new ProtocolError('bad_payload', `payload "${name}" is missing or has the wrong type`);
  if ((p as unknown as { length: number }).length !== length)
    throw new ProtocolError(
      'bad_payload',
      `payload "${name}" has ${(p as unknown as { length: number }).length} elements, expected ${length}`,
    );
  return p;
}

/**
 * A NaN or infinite weight would poison the average: refuse it here. Every model that moves is
 * checked (1000 per cycle at K = 1000), so the common case is a branch-free sum: finite float32
 * values cannot overflow a float64 sum, so the sum is finite exactly when every value is. Four
 * independent sums let the CPU overlap the additions (2.5× faster than testing each value).
 */
export function assertFiniteWeights(w: Float32Array, what: string): void {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const whole = w.length - (w.length % 4);
  for (let i = 0; i < whole; i += 4) {
    a += w[i];
    b += w[i + 1];
    c += w[i + 2];
    d += w[i + 3];
  }
  for (let i = whole; i < w.length; i++) a += w[i];
  if (Number.isFinite(a + b + c + d)) return;
  for (let i = 0; i < w.length; i++)
    if (!Number.isFinite(w[i])) throw new ProtocolError('non_finite', `${what} has a non-finite value at index ${i}`);
}

function assertLabels(labels: Uint8Array): void {
  for (let i = 0; i < labels.length; i++)
    if (labels[i] >= LABEL_COUNT)
      throw new ProtocolError('bad_payload', `label ${labels[i]} at index ${i} is not a digit 0..9`);
}

function toFrame(data: WireMessage, limits: Record<string, number>): Frame {
  try {
    return decodeFrame(data, limits);
  } catch (e) {
    if (e instanceof FrameError) throw new ProtocolError('bad_frame', e.message);
    throw e;
  }
}

/** The token of a first message, judged first: one without a token is an authentication failure, whatever else it holds. */
function helloToken(h: Record<string, unknown>): string {
  const token = h.token;
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS)
    throw new ProtocolError(
      'auth_failed',
      `${String(h.type)} carries no token (a non-empty string of at most ${MAX_TOKEN_CHARS} characters)`,
    );
  return token;
}

type Header = Record<string, unknown>;
type OrchestratorDecoder = (h: Header, frame: Frame, paramCount: number) => ToOrchestrator;
type LearnerDecoder = (h: Header, frame: Frame, settings: LearnerSettings | null) => ToLearner;

function decodeHello(h: Header): Hello {
  const token = helloToken(h);
  const profile = field(h, 'profile', 'object', true) as Header | undefined;
  const claim = field(h, 'claim', 'string', true) as string | undefined;
  return {
    type: 'hello',
    protocol: field(h, 'protocol', 'int'),
    token,
    learner_id: field(h, 'learner_id', 'int'),
    ...(profile
      ? {
          profile: {
            f_hz: field(profile, 'f_hz', 'posnum'),
            rate_bps: field(profile, 'rate_bps', 'posnum', true),
            distance_m: field(profile, 'distance_m', 'posnum', true),
          },
        }
      : {}),
    pid: field(h, 'pid', 'int', true),
    ...(claim === undefined ? {} : { claim }),
  };
}

function decodeClaim(h: Header): Claim {
  return {
    type: 'claim',
    protocol: field(h, 'protocol', 'int'),
    token: helloToken(h),
    count: field(h, 'count', 'posint'),
    pid: field(h, 'pid', 'int', true),
  };
}

function decodeResult(h: Header, frame: Frame, paramCount: number): Result {
  const weights = payload(frame, 'weights', Float32Array, paramCount);
  assertFiniteWeights(weights, 'result weights');
  return {
    type: 'result',
    task_id: field(h, 'task_id', 'string'),
    cycle: field(h, 'cycle', 'posint'),
    samples: field(h, 'samples', 'int'),
    steps: field(h, 'steps', 'int'),
    loss: field(h, 'loss', 'number'),
    train_wall_s: field(h, 'train_wall_s', 'nonneg'),
    compute_wall_s: field(h, 'compute_wall_s', 'nonneg'),
    overrun_s: field(h, 'overrun_s', 'nonneg'),
    engine: field(h, 'engine', 'string'),
    max_rss_kb: field(h, 'max_rss_kb', 'nonneg'),
    weights,
  };
}

/** Either side may send an error. */
function decodeError(h: Header): ErrorMessage {
  return {
    type: 'error',
    code: field(h, 'code', 'string'),
    message: field(h, 'message', 'string'),
    task_id: field(h, 'task_id', 'string', true),
  };
}

/** A Map, not an object: a type named "toString" or "__proto__" must not find Object.prototype's. */
const TO_ORCHESTRATOR = new Map<string, OrchestratorDecoder>([
  ['hello', decodeHello],
  ['claim', decodeClaim],
  [
    'trained',
    (h) => ({
      type: 'trained',
      task_id: field(h, 'task_id', 'string'),
      train_wall_s: field(h, 'train_wall_s', 'nonneg'),
    }),
  ],
  [
    'compute_done',
    (h) => ({
      type: 'compute_done',
      task_id: field(h, 'task_id', 'string'),
      train_wall_s: field(h, 'train_wall_s', 'nonneg'),
      compute_wall_s: field(h, 'compute_wall_s', 'nonneg'),
      overrun_s: field(h, 'overrun_s', 'nonneg'),
    }),
  ],
  ['result', decodeResult],
  [
    'model_request',
    (h) => ({ type: 'model_request', model: field(h, 'model', 'string'), task_id: field(h, 'task_id', 'string') }),
  ],
  ['error', decodeError],
]);

/** What the orchestrator accepts from a learner. `paramCount` sizes the only payload. */
export function decodeToOrchestrator(data: WireMessage, paramCount: number): ToOrchestrator {
  const frame = toFrame(data, { weights: paramCount });
  const h = frame.header as Header;
  const decode = TO_ORCHESTRATOR.get(frame.header.type);
  if (!decode)
    throw new ProtocolError(
      'bad_type',
      `unknown message type ${JSON.stringify(h.type).slice(0, 40)} for the orchestrator`,
    );
  return decode(h, frame, paramCount);
}

function decodeWelcome(h: Header): Welcome {
  const s = field(h, 'settings', 'object') as Header;
  return {
    type: 'welcome',
    protocol: field(h, 'protocol', 'int'),
    learner_id: field(h, 'learner_id', 'int'),
    settings: {
      run_id: field(s, 'run_id', 'string'),
      param_count: field(s, 'param_count', 'posint'),
      minibatch: field(s, 'minibatch', 'posint'),
      lr: field(s, 'lr', 'posnum'),
      local_iteration: oneOf(s, 'local_iteration', ['epoch', 'step'] as const),
      clock: oneOf(s, 'clock', ['virtual', 'real'] as const),
      time_scale: field(s, 'time_scale', 'posnum'),
      flops_per_sample: field(s, 'flops_per_sample', 'posnum'),
      engine: oneOf(s, 'engine', ENGINE_PREFERENCES),
      backend: oneOf(s, 'backend', BACKEND_PREFERENCES),
      ...modelSettings(s),
      max_samples: field(s, 'max_samples', 'posint'),
    },
  };
}

function decodeGrant(h: Header): Grant {
  const ids = h.ids;
  if (typeof ids !== 'string' || ids.length > MAX_GRANT_CHARS || !/^[\d,\-/]+$/.test(ids))
    throw new ProtocolError(
      'bad_field',
      `field "ids" must be id ranges like 0-499, got ${JSON.stringify(ids)?.slice(0, 60)}`,
    );
  return { type: 'grant', claim: field(h, 'claim', 'string'), ids };
}

function decodeShard(h: Header, frame: Frame, settings: LearnerSettings): Shard {
  const maxSamples = settings.max_samples;
  const samples = field(h, 'samples', 'posint');
  if (samples > maxSamples) throw new ProtocolError('bad_field', `shard of ${samples} samples exceeds ${maxSamples}`);
  const labels = payload(frame, 'labels', Uint8Array, samples);
  assertLabels(labels);
  return {
    type: 'shard',
    samples,
    images: payload(frame, 'images', Uint8Array, samples * samplePixels(settings)),
    labels,
  };
}

/** A refused task names its task_id (when it has a valid one): the orchestrator ends that task at once. */
function decodeTaskNamed(h: Header, frame: Frame, settings: LearnerSettings): ReceivedTask {
  const task_id = field(h, 'task_id', 'string');
  try {
    return decodeTask(frame, h, settings);
  } catch (e) {
    if (e instanceof ProtocolError && e.task_id === undefined) throw new ProtocolError(e.code, e.message, task_id);
    throw e;
  }
}

function decodeModel(h: Header, frame: Frame, settings: LearnerSettings): Model {
  const weights = payload(frame, 'weights', Float32Array, settings.param_count);
  assertFiniteWeights(weights, 'model weights');
  return { type: 'model', model: field(h, 'model', 'string'), weights };
}

/** Legal before the welcome: the learner does not know the run's sizes yet. */
const BEFORE_WELCOME: ReadonlySet<string> = new Set(['welcome', 'grant', 'error', 'bye']);

// Decoders past the welcome gate get the settings (the gate lets only BEFORE_WELCOME types through without them).
const TO_LEARNER = new Map<string, LearnerDecoder>([
  ['welcome', decodeWelcome],
  ['grant', decodeGrant],
  ['shard', (h, frame, settings) => decodeShard(h, frame, settings!)],
  ['task', (h, frame, settings) => decodeTaskNamed(h, frame, settings!)],
  ['error', decodeError],
  ['model', (h, frame, settings) => decodeModel(h, frame, settings!)],
  ['start', (h) => ({ type: 'start', task_id: field(h, 'task_id', 'string') })],
  ['bye', (h) => ({ type: 'bye', reason: field(h, 'reason', 'string') })],
]);

/**
 * What a learner accepts from the orchestrator. Before the welcome it does not know the run's
 * sizes, so `settings` is null and only welcome/grant/error/bye are legal.
 */
export function decodeToLearner(data: WireMessage, settings: LearnerSettings | null): ToLearner {
  const maxSamples = settings?.max_samples ?? 0;
  const frame = toFrame(
    data,
    settings ? { weights: settings.param_count, images: maxSamples * samplePixels(settings), labels: maxSamples } : {},
  );
  const h = frame.header as Header;
  if (!settings && !BEFORE_WELCOME.has(frame.header.type))
    throw new ProtocolError('bad_type', `message "${String(h.type).slice(0, 40)}" before the welcome`);
  const decode = TO_LEARNER.get(frame.header.type);
  if (!decode)
    throw new ProtocolError('bad_type', `unknown message type ${JSON.stringify(h.type).slice(0, 40)} for a learner`);
  return decode(h, frame, settings);
}

/** The welcome's optional model and sample shape (absent: the paper's MLP, MNIST's 1×28×28). */
function modelSettings(s: Record<string, unknown>): Pick<LearnerSettings, 'model' | 'input'> {
  return {
    ...(s.model !== undefined ? { model: field(s, 'model', 'string') } : {}),
    ...(s.input !== undefined ? { input: inputShapeField(s) } : {}),
  };
}

/** A welcome's sample shape: three positive integers, at most MAX_INPUT_PIXELS in all. */
function inputShapeField(s: Record<string, unknown>): InputShape {
  const o = field(s, 'input', 'object') as Record<string, unknown>;
  const shape = {
    channels: field(o, 'channels', 'posint'),
    height: field(o, 'height', 'posint'),
    width: field(o, 'width', 'posint'),
  };
  if (inputSize(shape) > MAX_INPUT_PIXELS)
    throw new ProtocolError('bad_field', `input ${inputSize(shape)} pixels per sample exceeds ${MAX_INPUT_PIXELS}`);
  return shape;
}

function decodeTask(frame: Frame, h: Record<string, unknown>, settings: LearnerSettings): ReceivedTask {
  const maxSamples = settings.max_samples;
  const samples = field(h, 'samples', 'posint');
  if (samples > maxSamples) throw new ProtocolError('bad_field', `task of ${samples} samples exceeds ${maxSamples}`);
  const source = oneOf(h, 'source', ['batch', 'shard'] as const);
  const model = field(h, 'model', 'string', true) as string | undefined;
  if (model !== undefined && frame.payloads.weights)
    throw new ProtocolError('bad_payload', 'a task that names a model carries no weights');
  const weights = model === undefined ? payload(frame, 'weights', Float32Array, settings.param_count) : undefined;
  if (weights) assertFiniteWeights(weights, 'task weights');
  const common = {
    type: 'task',
    task_id: field(h, 'task_id', 'string'),
    cycle: field(h, 'cycle', 'posint'),
    scheme: field(h, 'scheme', 'string'),
    tau: field(h, 'tau', 'posint'),
    samples,
    seed: field(h, 'seed', 'int'),
    f_hz: field(h, 'f_hz', 'posnum'),
    rate_bps: field(h, 'rate_bps', 'posnum'),
    source,
  } as const;
  const task: ReceivedTask = weights ? { ...common, weights } : { ...common, model: model! };
  if (h.hold !== undefined) {
    if (typeof h.hold !== 'boolean')
      throw new ProtocolError(
        'bad_field',
        `field "hold" must be true or false, got ${JSON.stringify(h.hold)?.slice(0, 60)}`,
      );
    task.hold = h.hold;
  }
  if (task.tau > MAX_TAU) throw new ProtocolError('bad_field', `tau ${task.tau} is implausibly large (max ${MAX_TAU})`);
  if (source === 'batch') {
    task.labels = payload(frame, 'labels', Uint8Array, samples);
    assertLabels(task.labels);
    task.images = payload(frame, 'images', Uint8Array, samples * samplePixels(settings));
  } else if (frame.payloads.images || frame.payloads.labels) {
    throw new ProtocolError('bad_payload', 'a shard task carries no images or labels');
  }
  return task;
}

/** Largest legal frame a learner may send (sizes ws maxPayload on the orchestrator). */
export function maxFrameToOrchestrator(paramCount: number): number {
  return 4 + 8192 + 4 * paramCount + 16;
}

/** Largest legal frame the orchestrator may send (sizes ws maxPayload on the learner); default MNIST's 784 pixels per sample. */
export function maxFrameToLearner(
  paramCount: number,
  maxSamples: number,
  pixelsPerSample = inputSize(MNIST_SHAPE),
): number {
  return 4 + 8192 + 4 * paramCount + maxSamples * (pixelsPerSample + 1) + 32;
}

/** WebSocket close codes (4000–4999 are for applications) and what they mean. */
export const CLOSE = {
  done: { code: 4000, reason: 'run finished' },
  authFailed: { code: 4001, reason: 'authentication failed: wrong or missing token' },
  badVersion: { code: 4002, reason: `protocol version mismatch: this orchestrator speaks version ${PROTOCOL_VERSION}` },
  idInUse: { code: 4003, reason: 'learner id already connected' },
  badHandshake: { code: 4004, reason: 'the first message must be a valid hello' },
  badId: { code: 4005, reason: 'learner id out of range for this run' },
  handshakeTimeout: { code: 4006, reason: 'no hello within the handshake timeout' },
  shutdown: { code: 4007, reason: 'orchestrator shutting down' },
  incompatible: { code: 4008, reason: 'learner cannot serve this run' },
  badProfile: { code: 4009, reason: 'learner profile unusable in this run' },
  tooManyIds: { code: 4010, reason: 'not enough free learner ids for this claim' },
  notClaimed: { code: 4011, reason: 'learner id not held by the claim its hello names' },
} as const;

/**
 * A plain (ws://) client at a TLS orchestrator is answered with HTTP 426 and this header, whose
 * text the learner shows as the reason it stops (no WebSocket is opened, so no close code).
 */
export const TLS_REQUIRED_HEADER = 'x-mel-refused';
export const TLS_REQUIRED_REASON = 'this orchestrator serves wss:// (TLS): connect with wss:// instead of ws://';

/** Refusals that will not change if the learner simply tries again (wrong token, version, id, hello). */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CLOSE.authFailed.code,
  CLOSE.badVersion.code,
  CLOSE.badHandshake.code,
  CLOSE.badId.code,
  CLOSE.incompatible.code,
  CLOSE.badProfile.code,
  CLOSE.tooManyIds.code,
  CLOSE.notClaimed.code,
]);
