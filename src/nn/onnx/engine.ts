/**
 * The onnx engine: onnxruntime-node runs the graphs of graphs.ts on one CPU thread (parallelism
 * stays across learner processes and compute slots).
 *
 * A session.run blocks the event loop, so local training runs in slices of stepsPerRun SGD
 * steps: between slices the process answers heartbeats and reads frames. Each slice feeds the
 * previous slice's output weights back in as they are (no copy through JavaScript).
 */
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import type { ImageSet } from '../../data/mnist.ts';
import {
  checkImageSet,
  checkTrainOptions,
  type Engine,
  type EngineUse,
  type Evaluation,
  type TrainOptions,
  type TrainResult,
} from '../engine.ts';
import { assertWeightLength, DEFAULT_LAYOUT, type WeightLayout } from '../layout.ts';
import { flopsPerSample, inputSize } from '../model-spec.ts';
import { stepSchedule } from '../schedule.ts';
import { evaluationGraph, paramNames, trainingGraph, weightShape } from './graphs.ts';

/** ~4k samples at minibatch 64: tens of milliseconds per run on this kind of machine. */
const STEPS_PER_RUN = 64;

/**
 * Steps per run for a model: the default's 64, scaled down by the compute of a heavier model so that
 * a run blocks the event loop (and the learner's heartbeats) no longer than the default's does.
 */
export function stepsPerRun(layout: WeightLayout): number {
  const scaled = Math.floor((STEPS_PER_RUN * flopsPerSample(DEFAULT_LAYOUT.model)) / flopsPerSample(layout.model));
  return Math.max(1, Math.min(STEPS_PER_RUN, scaled));
}
/** Rows per evaluation run: bounds activation memory and the time the event loop waits. */
const EVAL_CHUNK_ROWS = 2500;

type OrtModule = typeof Ort;
type Feeds = Record<string, Ort.Tensor>;

/** Loads onnxruntime-node; throws with the platform's reason if its native binary cannot load. */
export function loadOrt(): OrtModule {
  // createRequire: the package is CommonJS with a native addon; a plain require keeps start-up small.
  return createRequire(import.meta.url)('onnxruntime-node') as OrtModule;
}

/**
 * Each graph's session is created on first use (a learner never evaluates, the orchestrator never
 * trains: ~50 ms and some memory saved per process); `ready` creates the named ones now, so their
 * cost falls in start-up rather than in the first cycle.
 */
export async function createOnnxEngine(
  ready: EngineUse[] = [],
  layout: WeightLayout = DEFAULT_LAYOUT,
): Promise<Engine> {
  const ort = loadOrt();
  const options: Ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const lazy = (graph: () => Uint8Array) => {
    let session: Promise<Ort.InferenceSession> | undefined;
    return () => (session ??= ort.InferenceSession.create(graph(), options));
  };
  const sessions = { train: lazy(() => trainingGraph(layout)), evaluate: lazy(() => evaluationGraph(layout)) };
  await Promise.all(ready.map((use) => sessions[use]()));
  return new OnnxEngine(ort, layout, sessions.train, sessions.evaluate);
}

const int64 = (values: ArrayLike<number>) => {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
  return out;
};

class OnnxEngine implements Engine {
  readonly name = 'onnx';
  private readonly names: string[];
  private readonly pixels: number;

  constructor(
    private readonly ort: OrtModule,
    private readonly layout: WeightLayout,
    private readonly trainSession: () => Promise<Ort.InferenceSession>,
    private readonly evalSession: () => Promise<Ort.InferenceSession>,
  ) {
    this.names = paramNames(layout);
    this.pixels = inputSize(layout.model.input);
  }

  async train(weights: Float32Array, batch: ImageSet, opts: TrainOptions): Promise<TrainResult> {
    assertWeightLength(weights, 'weights', this.layout);
    checkImageSet(batch, 'batch', this.layout.model);
    checkTrainOptions(opts);
    if (batch.count === 0 || opts.iterations === 0) return { weights: weights.slice(), loss: NaN, steps: 0 };
    const { Tensor } = this.ort;
    const n = batch.count;
    const schedule = stepSchedule(n, opts.iterations, opts.mode, opts.minibatch, opts.seed);
    const steps = schedule.starts.length;
    const fixed: Feeds = {
      images: new Tensor('uint8', batch.images, [n, this.pixels]),
      labels: new Tensor('uint8', batch.labels, [n]),
      order: new Tensor('int64', int64(schedule.order), [schedule.order.length]),
      lr: new Tensor('float32', Float32Array.of(opts.lr), []),
    };
    const session = await this.trainSession();
    let params = this.paramFeeds(weights);
    let lossSum = 0;
    const perRun = stepsPerRun(this.layout);
    for (let first = 0; first < steps; first += perRun) {
      const count = Math.min(perRun, steps - first);
      const out = await session.run({
        ...fixed,
        ...params,
        starts: new Tensor('int64', int64(schedule.starts.subarray(first, first + count)), [count]),
        ends: new Tensor('int64', int64(schedule.ends.subarray(first, first + count)), [count]),
        steps: new Tensor('int64', BigInt64Array.of(BigInt(count)), []),
      });
      params = Object.fromEntries(this.names.map((name) => [name, out[`${name}_new`]]));
      lossSum += (out.loss_sum.data as Float32Array)[0];
    }
    return { weights: this.flatWeights(params), loss: lossSum / steps, steps };
  }

  async evaluate(weights: Float32Array, set: ImageSet): Promise<Evaluation> {
    assertWeightLength(weights, 'weights', this.layout);
    checkImageSet(set, 'set', this.layout.model);
    if (set.count === 0) return { accuracy: NaN, loss: NaN };
    const { Tensor } = this.ort;
    const session = await this.evalSession();
    const params = this.paramFeeds(weights);
    let correct = 0;
    let lossSum = 0;
    for (let start = 0; start < set.count; start += EVAL_CHUNK_ROWS) {
      const rows = Math.min(EVAL_CHUNK_ROWS, set.count - start);
      const out = await session.run({
        ...params,
        images: new Tensor('uint8', set.images.subarray(start * this.pixels, (start + rows) * this.pixels), [
          rows,
          this.pixels,
        ]),
        labels: new Tensor('uint8', set.labels.subarray(start, start + rows), [rows]),
      });
      correct += Number((out.correct.data as BigInt64Array)[0]);
      lossSum += (out.loss_sum.data as Float32Array)[0];
    }
    return { accuracy: correct / set.count, loss: lossSum / set.count };
  }

  /** W_l (shape as the graphs take it) and b_l [outputs] as views into (a copy of) the flat weights. */
  private paramFeeds(weights: Float32Array): Feeds {
    const own = weights.slice(); // the caller may reuse its array while a run reads ours
    const feeds: Feeds = {};
    this.layout.layers.forEach((layer, l) => {
      feeds[this.names[2 * l]] = new this.ort.Tensor(
        'float32',
        own.subarray(layer.weightOffset, layer.biasOffset),
        weightShape(this.layout, l),
      );
      feeds[this.names[2 * l + 1]] = new this.ort.Tensor(
        'float32',
        own.subarray(layer.biasOffset, layer.biasOffset + layer.outputs),
        [layer.outputs],
      );
    });
    return feeds;
  }

  private flatWeights(params: Feeds): Float32Array {
    const flat = new Float32Array(this.layout.count);
    this.layout.layers.forEach((layer, l) => {
      flat.set(params[this.names[2 * l]].data as Float32Array, layer.weightOffset);
      flat.set(params[this.names[2 * l + 1]].data as Float32Array, layer.biasOffset);
    });
    return flat;
  }
}
