/**
 * Message validation on both sides of the wire, and the frame-overhead budget the allocation relies on.
 */
import { describe, expect, it } from 'vitest';
import { PIXELS_PER_IMAGE } from '../../src/data/format.ts';
import { encodeFrame, joinParts } from '../../src/protocol/frame.ts';
import { createRng } from '../../src/util/rng.ts';
import {
  assertFiniteWeights,
  CLOSE,
  decodeToLearner,
  decodeToOrchestrator,
  encodeMessage,
  FATAL_CLOSE_CODES,
  inputField,
  maxFrameToLearner,
  maxFrameToOrchestrator,
  PROTOCOL_VERSION,
  encodeTimedMessageParts,
  partsLength,
  ProtocolError,
  samplePixels,
  TIMED_FRAME_OVERHEAD_BYTES,
  type LearnerSettings,
  type Result,
  type Task,
} from '../../src/protocol/messages.ts';
import { hubSettings } from '../reliability/helpers.ts';

const P = 50; // a small "model" keeps these tests fast; sizes are checked against it
const SETTINGS: LearnerSettings = hubSettings(P, 10);

function task(samples = 3, over: Partial<Task> = {}): Task {
  return {
    type: 'task',
    task_id: 'optimal-1-0',
    cycle: 1,
    scheme: 'optimal',
    tau: 2,
    samples,
    seed: 42,
    f_hz: 2.4e9,
    rate_bps: 1.1e8,
    source: 'batch',
    weights: new Float32Array(P).fill(0.5),
    images: new Uint8Array(samples * PIXELS_PER_IMAGE).fill(7),
    labels: Uint8Array.from({ length: samples }, (_, i) => i % 10),
    ...over,
  };
}

function result(over: Partial<Result> = {}): Result {
  return {
    type: 'result',
    task_id: 'optimal-1-0',
    cycle: 1,
    samples: 3,
    steps: 2,
    loss: 0.25,
    train_wall_s: 0.1,
    compute_wall_s: 0.1,
    overrun_s: 0,
    engine: 'tfjs-wasm',
    max_rss_kb: 81_000,
    weights: new Float32Array(P).fill(0.25),
    ...over,
  };
}

const hello = (over: Record<string, unknown> = {}) => ({
  type: 'hello',
  protocol: PROTOCOL_VERSION,
  token: 'secret',
  learner_id: 2,
  profile: { f_hz: 7e8, distance_m: 40 },
  pid: 1234,
  ...over,
});

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as ProtocolError).code;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

const toOrch =
  (header: Record<string, unknown>, payloads = {}) =>
  () =>
    decodeToOrchestrator(encodeFrame(header as any, payloads), P);
const toLearner =
  (header: Record<string, unknown>, payloads = {}, settings: LearnerSettings | null = SETTINGS) =>
  () =>
    decodeToLearner(encodeFrame(header as any, payloads), settings);

describe('messages to the orchestrator', () => {
  it('round-trips hello, trained, compute_done, result and error', () => {
    expect(decodeToOrchestrator(encodeFrame(hello() as any), P)).toEqual(hello());
    const trained = { type: 'trained', task_id: 't', train_wall_s: 0.5 } as const;
    expect(decodeToOrchestrator(encodeMessage(trained), P)).toEqual(trained);
    expect(code(toOrch({ type: 'trained', task_id: 't', train_wall_s: -1 }))).toBe('bad_field');
    const done = { type: 'compute_done', task_id: 't', train_wall_s: 0.5, compute_wall_s: 0.6, overrun_s: 0 } as const;
    expect(decodeToOrchestrator(encodeMessage(done), P)).toEqual(done);
    const r = result();
    expect(decodeToOrchestrator(encodeMessage(r), P)).toEqual(r);
    const err = { type: 'error', code: 'x', message: 'y', task_id: 't' } as const;
    expect(decodeToOrchestrator(encodeMessage(err), P)).toEqual(err);
  });

  it('a hello without a usable token is an authentication failure, judged before anything else', () => {
    expect(code(toOrch(hello({ token: undefined })))).toBe('auth_failed');
    expect(code(toOrch(hello({ token: '' })))).toBe('auth_failed');
    expect(code(toOrch(hello({ token: 42 })))).toBe('auth_failed');
    expect(code(toOrch(hello({ token: 'x'.repeat(257) })))).toBe('auth_failed');
    expect(code(toOrch(hello({ token: undefined, learner_id: 'zero' })))).toBe('auth_failed');
  });

  it('rejects missing and mistyped hello fields', () => {
    expect(code(toOrch(hello({ protocol: '1' })))).toBe('bad_field');
    expect(code(toOrch(hello({ learner_id: -1 })))).toBe('bad_field');
    expect(code(toOrch(hello({ learner_id: 1.5 })))).toBe('bad_field');
    expect(code(toOrch(hello({ learner_id: undefined })))).toBe('bad_field');
    expect(code(toOrch(hello({ profile: null })))).toBe('bad_field');
    expect(code(toOrch(hello({ profile: [] })))).toBe('bad_field');
    expect(code(toOrch(hello({ profile: { f_hz: 0 } })))).toBe('bad_field');
    expect(code(toOrch(hello({ profile: { f_hz: 1e9, distance_m: -3 } })))).toBe('bad_field');
    expect(code(toOrch(hello({ pid: 'me' })))).toBe('bad_field');
  });

  it("decodes a hello without a profile (a learner host asking for the run's fleet entry) with no profile key", () => {
    const decoded = toOrch(hello({ profile: undefined }))();
    expect(decoded).toEqual({ type: 'hello', protocol: PROTOCOL_VERSION, token: 'secret', learner_id: 2, pid: 1234 });
  });

  it('rejects results with NaN or infinite weights (code non_finite)', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const weights = new Float32Array(P);
      weights[P - 1] = bad;
      expect(code(() => decodeToOrchestrator(encodeMessage(result({ weights })), P))).toBe('non_finite');
    }
  });

  it('rejects results of the wrong size or dtype, and malformed result headers', () => {
    expect(code(() => decodeToOrchestrator(encodeMessage(result({ weights: new Float32Array(P - 1) })), P))).toBe(
      'bad_payload',
    );
    expect(code(() => decodeToOrchestrator(encodeMessage(result({ weights: new Float32Array(P + 1) })), P))).toBe(
      'bad_frame',
    );
    const { weights, ...header } = result();
    expect(code(toOrch(header, { weights: new Uint8Array(P) }))).toBe('bad_payload');
    expect(code(toOrch(header))).toBe('bad_payload');
    expect(code(toOrch({ ...header, cycle: 0 }, { weights }))).toBe('bad_field');
    expect(code(toOrch({ ...header, loss: 'low' }, { weights }))).toBe('bad_field');
    expect(code(toOrch({ ...header, task_id: undefined }, { weights }))).toBe('bad_field');
    expect(code(toOrch({ ...header, train_wall_s: -1 }, { weights }))).toBe('bad_field');
    expect(code(toOrch({ ...header, engine: 'b'.repeat(300) }, { weights }))).toBe('bad_field');
  });

  it('refuses messages meant for learners, unknown types and broken frames', () => {
    expect(code(() => decodeToOrchestrator(encodeMessage(task()), P))).toBe('bad_frame'); // images/labels not accepted here
    expect(code(toOrch({ type: 'welcome', protocol: 1 }))).toBe('bad_type');
    expect(code(toOrch({ type: 'bye', reason: 'x' }))).toBe('bad_type');
    expect(code(toOrch({ type: 'nonsense' }))).toBe('bad_type');
    expect(code(() => decodeToOrchestrator(Uint8Array.from([1, 2]), P))).toBe('bad_frame');
  });
});

describe('messages to a learner', () => {
  it('round-trips welcome, task (batch and shard), shard, error and bye', () => {
    const welcome = { type: 'welcome', protocol: PROTOCOL_VERSION, learner_id: 0, settings: SETTINGS } as const;
    expect(decodeToLearner(encodeMessage(welcome), null)).toEqual(welcome);
    const t = task();
    expect(decodeToLearner(encodeMessage(t), SETTINGS)).toEqual(t);
    const { images, labels, ...shardTask } = task(4, { source: 'shard' });
    void images, void labels;
    expect(decodeToLearner(encodeMessage(shardTask as Task), SETTINGS)).toEqual(shardTask);
    const shard = {
      type: 'shard',
      samples: 2,
      images: new Uint8Array(2 * PIXELS_PER_IMAGE).fill(1),
      labels: Uint8Array.from([3, 9]),
    } as const;
    expect(decodeToLearner(encodeMessage(shard), SETTINGS)).toEqual(shard);
    expect(decodeToLearner(encodeMessage({ type: 'bye', reason: 'done' }), null)).toEqual({
      type: 'bye',
      reason: 'done',
    });
    expect(decodeToLearner(encodeMessage({ type: 'error', code: 'c', message: 'm' }), null)).toEqual({
      type: 'error',
      code: 'c',
      message: 'm',
    });
  });

  it('before the welcome only welcome, error and bye are legal, and no payload is accepted', () => {
    expect(code(() => decodeToLearner(encodeMessage(task()), null))).toBe('bad_frame'); // payloads refused outright
    expect(code(toLearner({ type: 'task' }, {}, null))).toBe('bad_type');
    expect(code(toLearner({ type: 'shard', samples: 1 }, {}, null))).toBe('bad_type');
  });

  it('rejects tasks with NaN/Inf weights (non_finite) and labels that are not digits', () => {
    const weights = new Float32Array(P);
    weights[3] = NaN;
    expect(code(() => decodeToLearner(encodeMessage(task(3, { weights })), SETTINGS))).toBe('non_finite');
    weights[3] = -Infinity;
    expect(code(() => decodeToLearner(encodeMessage(task(3, { weights })), SETTINGS))).toBe('non_finite');
    for (const label of [10, 11, 255]) {
      const labels = Uint8Array.from([0, label, 2]);
      expect(code(() => decodeToLearner(encodeMessage(task(3, { labels })), SETTINGS))).toBe('bad_payload');
      const shard = { type: 'shard', samples: 3, images: new Uint8Array(3 * PIXELS_PER_IMAGE), labels } as const;
      expect(code(() => decodeToLearner(encodeMessage(shard), SETTINGS))).toBe('bad_payload');
    }
  });

  it('checks every size against the welcome settings', () => {
    // More samples than the run can send.
    const over = SETTINGS.max_samples + 1;
    expect(code(() => decodeToLearner(encodeMessage(task(over)), SETTINGS))).toBe('bad_frame'); // labels payload over its limit
    const t = task(3);
    const { weights, images, labels, ...header } = t;
    expect(code(toLearner({ ...header, samples: over }, { weights }))).toBe('bad_field');
    // Payloads that disagree with "samples" or with the model size.
    expect(code(toLearner({ ...header, samples: 2 }, { weights, images, labels }))).toBe('bad_payload');
    expect(code(toLearner(header, { weights, images: images!.subarray(0, 2 * PIXELS_PER_IMAGE), labels }))).toBe(
      'bad_payload',
    );
    expect(code(toLearner(header, { weights: weights.subarray(0, P - 1), images, labels }))).toBe('bad_payload');
    expect(code(toLearner(header, { weights, labels }))).toBe('bad_payload'); // batch task without images
    expect(code(toLearner(header, { weights: new Uint8Array(P), images, labels }))).toBe('bad_payload'); // wrong dtype
    expect(code(toLearner({ ...header, source: 'shard' }, { weights, images, labels }))).toBe('bad_payload');
    expect(code(toLearner({ ...header, source: 'disk' }, { weights }))).toBe('bad_field');
    expect(code(toLearner({ ...header, tau: 0 }, { weights, images, labels }))).toBe('bad_field');
    expect(code(toLearner({ ...header, tau: 10_001 }, { weights, images, labels }))).toBe('bad_field');
    expect(code(toLearner({ ...header, f_hz: -1 }, { weights, images, labels }))).toBe('bad_field');
    expect(code(toLearner({ type: 'shard', samples: over }, {}))).toBe('bad_field');
  });

  it('rejects welcomes with missing or mistyped settings', () => {
    const welcome = (s: Record<string, unknown>) => ({
      type: 'welcome',
      protocol: 1,
      learner_id: 0,
      settings: { ...SETTINGS, ...s },
    });
    expect(code(toLearner(welcome({ param_count: 0 }), {}, null))).toBe('bad_field');
    expect(code(toLearner(welcome({ clock: 'sundial' }), {}, null))).toBe('bad_field');
    expect(code(toLearner(welcome({ lr: 'fast' }), {}, null))).toBe('bad_field');
    expect(code(toLearner(welcome({ max_samples: undefined }), {}, null))).toBe('bad_field');
    expect(code(toLearner({ type: 'welcome', protocol: 1, learner_id: 0 }, {}, null))).toBe('bad_field');
  });
});

describe('the sample shape in the welcome (CIFAR-10: 3×32×32, 3,072 image bytes per sample)', () => {
  const CIFAR: LearnerSettings = { ...SETTINGS, input: { channels: 3, height: 32, width: 32 } };

  it('is absent for MNIST (a default welcome is byte for byte as before) and present otherwise', () => {
    expect(inputField({ channels: 1, height: 28, width: 28 })).toEqual({});
    expect(inputField({ channels: 3, height: 32, width: 32 })).toEqual({
      input: { channels: 3, height: 32, width: 32 },
    });
    expect(samplePixels(SETTINGS)).toBe(784);
    expect(samplePixels(CIFAR)).toBe(3072);
    const welcome = { type: 'welcome', protocol: PROTOCOL_VERSION, learner_id: 0, settings: CIFAR } as const;
    expect(decodeToLearner(encodeMessage(welcome), null)).toEqual(welcome);
    expect(encodeMessage({ ...welcome, settings: SETTINGS }).includes(Buffer.from('"input"'))).toBe(false);
  });

  it('sizes task and shard images: 3,072 bytes per sample, and 784 refused', () => {
    const t = task(3, { images: new Uint8Array(3 * 3072).fill(9) });
    expect(decodeToLearner(encodeMessage(t), CIFAR)).toEqual(t);
    expect(code(() => decodeToLearner(encodeMessage(task(3)), CIFAR))).toBe('bad_payload');
    expect(code(() => decodeToLearner(encodeMessage(t), SETTINGS))).toBe('bad_frame'); // beyond MNIST's image limit
    const shard = {
      type: 'shard',
      samples: 2,
      images: new Uint8Array(2 * 3072),
      labels: Uint8Array.from([1, 2]),
    } as const;
    expect(decodeToLearner(encodeMessage(shard), CIFAR)).toEqual(shard);
    expect(maxFrameToLearner(P, 10, 3072) - maxFrameToLearner(P, 10)).toBe(10 * (3072 - 784));
  });

  it('refuses a shape that is not three positive integers or is too large', () => {
    const welcome = (input: unknown) => ({
      type: 'welcome',
      protocol: 1,
      learner_id: 0,
      settings: { ...SETTINGS, input },
    });
    expect(code(toLearner(welcome({ channels: 3, height: 32 }), {}, null))).toBe('bad_field');
    expect(code(toLearner(welcome({ channels: 0, height: 32, width: 32 }), {}, null))).toBe('bad_field');
    expect(code(toLearner(welcome('3x32x32'), {}, null))).toBe('bad_field');
    expect(code(toLearner(welcome({ channels: 3, height: 1024, width: 1024 }), {}, null))).toBe('bad_field');
  });
});

describe('timed frames (task, result) and the allocation budget', () => {
  const overheadOf = (frame: Buffer, payloadBytes: number) => frame.length - payloadBytes;
  const REAL_P = 280_934;

  it('task frames stay within TIMED_FRAME_OVERHEAD_BYTES and have a length fixed by d_k alone', () => {
    const settings = { ...SETTINGS, param_count: REAL_P, max_samples: 60_000 };
    const weights = new Float32Array(REAL_P);
    for (const d of [1, 2, 3, 4, 5, 997, 60_000]) {
      const lengths = new Set<number>();
      // Realistic extremes: long scheme names, big ids and cycles, 17-digit floats, 32-bit seeds.
      for (const [scheme, k, cycle, f, r, seed] of [
        ['eta', 0, 1, 7e8, 1e8, 0],
        ['analytical', 999, 10_000, 2.4000000000000004e9, 123456789.12345679, 4294967295],
      ] as const) {
        const t = task(d, {
          scheme,
          task_id: `${scheme}-${cycle}-${k}`,
          cycle,
          f_hz: f,
          rate_bps: r,
          seed,
          weights,
          images: new Uint8Array(d * PIXELS_PER_IMAGE),
          labels: new Uint8Array(d),
        });
        const frame = encodeMessage(t);
        const raw = 4 * REAL_P + d * PIXELS_PER_IMAGE + d;
        expect(overheadOf(frame, raw)).toBeLessThanOrEqual(TIMED_FRAME_OVERHEAD_BYTES);
        expect(overheadOf(frame, raw)).toBeGreaterThan(0);
        expect(frame.length).toBeLessThanOrEqual(maxFrameToLearner(REAL_P, 60_000));
        expect(decodeToLearner(frame, settings).type).toBe('task');
        lengths.add(frame.length);
      }
      expect(lengths.size).toBe(1);
    }
  });

  it('result frames stay within the budget and their length does not depend on timings or loss digits', () => {
    const weights = new Float32Array(REAL_P);
    const short = encodeMessage(
      result({ weights, loss: 0, train_wall_s: 1, compute_wall_s: 1, engine: 'onnx', task_id: 'eta-1-0' }),
    );
    const long = encodeMessage(
      result({
        weights,
        loss: 0.12345678901234568,
        train_wall_s: 12.345678901234567,
        compute_wall_s: 1.2345678901234567e-7,
        overrun_s: 3.3333333333333335,
        engine: 'tfjs-tensorflow',
        max_rss_kb: 123_456_789,
        task_id: 'analytical-10000-999',
        cycle: 10_000,
        samples: 60_000,
        steps: 9_999_999,
      }),
    );
    expect(long.length).toBe(short.length);
    expect(overheadOf(long, 4 * REAL_P)).toBeLessThanOrEqual(TIMED_FRAME_OVERHEAD_BYTES);
    expect(long.length).toBeLessThanOrEqual(maxFrameToOrchestrator(REAL_P));
    expect(decodeToOrchestrator(long, REAL_P).type).toBe('result');
  });

  it('refuses to build a timed frame whose header would overrun the budget', () => {
    expect(code(() => encodeMessage(task(1, { task_id: 'x'.repeat(2000) })))).toBe('header_too_large');
  });
});

describe('close codes', () => {
  it('are distinct application codes; only refusals that retrying cannot fix are fatal', () => {
    const codes = Object.values(CLOSE).map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c >= 4000 && c <= 4999).toBe(true);
    for (const c of Object.values(CLOSE)) expect(Buffer.byteLength(c.reason)).toBeLessThanOrEqual(123); // WebSocket limit
    expect(FATAL_CLOSE_CODES.has(CLOSE.authFailed.code)).toBe(true);
    expect(FATAL_CLOSE_CODES.has(CLOSE.badId.code)).toBe(true);
    expect(FATAL_CLOSE_CODES.has(CLOSE.idInUse.code)).toBe(false);
    expect(FATAL_CLOSE_CODES.has(CLOSE.handshakeTimeout.code)).toBe(false);
  });
});

describe('held tasks and start', () => {
  it('round-trips hold and start, and refuses a non-boolean hold', () => {
    const weights = new Float32Array(P);
    const task: Task = {
      type: 'task',
      task_id: 'h',
      cycle: 1,
      scheme: 'eta',
      tau: 1,
      samples: 1,
      seed: 0,
      f_hz: 1,
      rate_bps: 1,
      source: 'shard',
      hold: true,
      weights,
    };
    expect(decodeToLearner(encodeMessage(task), SETTINGS)).toMatchObject({ type: 'task', hold: true });
    expect(decodeToLearner(encodeMessage({ type: 'start', task_id: 'h' }), SETTINGS)).toEqual({
      type: 'start',
      task_id: 'h',
    });
    const bad = encodeMessage({ ...task, hold: 'yes' } as unknown as Task);
    expect(() => decodeToLearner(bad, SETTINGS)).toThrow(/hold/);
  });
});

describe('encoding into a reused buffer', () => {
  it('gives byte for byte the frame a fresh buffer gives, whatever the buffer held (padding included)', () => {
    const t = task(5, { task_id: 'optimal-3-1' });
    const fresh = encodeMessage(t);
    const dirty = Buffer.alloc(fresh.length + 100, 0xab);
    const reused = encodeMessage(t, dirty);
    expect(reused.buffer).toBe(dirty.buffer);
    expect(Buffer.compare(reused, fresh)).toBe(0);
    // Too small a buffer is not used.
    expect(encodeMessage(t, Buffer.alloc(10)).equals(fresh)).toBe(true);
  });
});

describe('tasks that name a model (learner hosts, virtual clock)', () => {
  it('a task naming a model carries no weights and is shorter than the full frame by exactly their bytes', () => {
    const t = task(4);
    const full = encodeMessage(t);
    const { weights: _w, ...named } = t;
    const decoded = decodeToLearner(joinParts(encodeTimedMessageParts(t, 'abcd-7')), SETTINGS);
    expect(decoded).toEqual({ ...named, model: 'abcd-7' });
    expect(decoded.type === 'task' && decoded.weights).toBeUndefined();
    expect(full.length - partsLength(encodeTimedMessageParts(t, 'abcd-7'))).toBe(4 * P);
  });

  it('refuses a task that both names a model and carries weights', () => {
    const { weights, images, labels, ...header } = task(3);
    expect(code(toLearner({ ...header, model: 'm-1' }, { weights, images, labels }))).toBe('bad_payload');
    expect(code(toLearner({ ...header, model: 7 }, { images, labels }))).toBe('bad_field');
  });

  it('round-trips model_request and model, and refuses a model with NaN or the wrong size', () => {
    const request = { type: 'model_request', model: 'm-1', task_id: 'optimal-1-0' } as const;
    expect(decodeToOrchestrator(encodeMessage(request), P)).toEqual(request);
    expect(code(() => decodeToOrchestrator(encodeFrame({ type: 'model_request', model: 'm-1' }), P))).toBe('bad_field');
    const model = { type: 'model', model: 'm-1', weights: new Float32Array(P).fill(0.5) } as const;
    expect(decodeToLearner(encodeMessage(model), SETTINGS)).toEqual(model);
    const poisoned = new Float32Array(P).fill(0.5);
    poisoned[P - 1] = NaN;
    expect(code(() => decodeToLearner(encodeMessage({ ...model, weights: poisoned }), SETTINGS))).toBe('non_finite');
    expect(code(() => decodeToLearner(encodeMessage({ ...model, weights: new Float32Array(P - 1) }), SETTINGS))).toBe(
      'bad_payload',
    );
  });
});

describe('assertFiniteWeights', () => {
  it('accepts finite extremes and names the first NaN or infinity wherever it sits (property, seeded)', () => {
    const rng = createRng(11);
    const max = 3.4028234663852886e38;
    // The largest float32 values everywhere still sum to a finite float64.
    expect(() => assertFiniteWeights(new Float32Array(1001).fill(max), 'w')).not.toThrow();
    expect(() => assertFiniteWeights(new Float32Array(7).fill(-max), 'w')).not.toThrow();
    expect(() => assertFiniteWeights(new Float32Array(0), 'w')).not.toThrow();
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rng.next() * 40);
      const w = Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 10 ** Math.floor(rng.next() * 76 - 38));
      expect(() => assertFiniteWeights(w, 'w')).not.toThrow();
      // +Inf and −Inf in different lanes must not cancel; a NaN anywhere, the tail included.
      const bad = [NaN, Infinity, -Infinity];
      const hits = 1 + Math.floor(rng.next() * 3);
      let first = n;
      for (let h = 0; h < hits; h++) {
        const at = Math.floor(rng.next() * n);
        w[at] = bad[Math.floor(rng.next() * 3)];
        first = Math.min(first, at);
      }
      expect(() => assertFiniteWeights(w, 'w')).toThrow(`w has a non-finite value at index ${first}`);
    }
    const pair = new Float32Array(8);
    pair[0] = Infinity;
    pair[1] = -Infinity;
    expect(() => assertFiniteWeights(pair, 'w')).toThrow('index 0');
  });
});
