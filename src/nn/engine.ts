/**
 * The training-engine seam: everything the emulator asks of a neural-network engine. Two
 * implementations: `onnx` (onnxruntime-node running generated ONNX graphs; the default) and
 * `tfjs` (TensorFlow.js, explicit forward/backward; the independent cross-check).
 * Both take and return weights in the flat wire layout of layout.ts and train on the mini-batch
 * schedule of schedule.ts, so the same seed gives the same steps on either engine.
 */
import type { ImageSet } from '../data/mnist.ts';
import { DEFAULT_MODEL } from './layout.ts';
import { inputSize, type ModelSpec } from './model-spec.ts';
import type { LocalIterationMode } from './schedule.ts';

export type { LocalIterationMode } from './schedule.ts';

export interface TrainOptions {
  /** local iterations τ */
  iterations: number;
  /** samples per SGD step in 'epoch' mode */
  minibatch: number;
  /** learning rate */
  lr: number;
  mode: LocalIterationMode;
  /** seeds the minibatch order */
  seed: number;
}

export interface TrainResult {
  /** new weights (the input array is not modified) */
  weights: Float32Array;
  /** mean over the SGD steps of each step's mean cross-entropy; NaN if no step ran */
  loss: number;
  /** SGD steps taken */
  steps: number;
}

export interface Evaluation {
  /** fraction of rows whose largest logit is the label's, in [0, 1]; NaN for an empty set */
  accuracy: number;
  /** mean softmax cross-entropy (nats); NaN for an empty set */
  loss: number;
}

export interface Engine {
  /** what runs, e.g. "onnx" or "tfjs-wasm": recorded in config.json, summary.json and results */
  readonly name: string;
  /** τ local iterations of plain SGD on `batch`, starting from `weights`. */
  train(weights: Float32Array, batch: ImageSet, opts: TrainOptions): Promise<TrainResult>;
  evaluate(weights: Float32Array, set: ImageSet): Promise<Evaluation>;
}

/** What a process will ask of its engine, so it can get that ready at start-up. */
export type EngineUse = 'train' | 'evaluate';

export type EnginePreference = 'auto' | 'onnx' | 'tfjs';
export const ENGINE_PREFERENCES: readonly EnginePreference[] = ['auto', 'onnx', 'tfjs'];

/** tfjs backend of the tfjs engine; `auto` prefers tfjs-node, then WebAssembly, then plain JS. */
export type BackendPreference = 'auto' | 'node' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'node', 'wasm', 'cpu'];

export function checkTrainOptions(opts: TrainOptions): void {
  if (!Number.isInteger(opts.iterations) || opts.iterations < 0)
    throw new RangeError(`iterations must be a non-negative integer, got ${opts.iterations}`);
  if (!Number.isInteger(opts.minibatch) || opts.minibatch < 1)
    throw new RangeError(`minibatch must be a positive integer, got ${opts.minibatch}`);
  if (!Number.isFinite(opts.lr) || opts.lr <= 0) throw new RangeError(`lr must be a positive number, got ${opts.lr}`);
  if (opts.mode !== 'epoch' && opts.mode !== 'step')
    throw new RangeError(`mode must be 'epoch' or 'step', got ${String(opts.mode)}`);
  if (!Number.isInteger(opts.seed)) throw new RangeError(`seed must be an integer, got ${opts.seed}`);
}

/** A set fits `model`: count·(pixels per sample) image bytes, one label below the class count per row. */
export function checkImageSet(set: ImageSet, what = 'batch', model: ModelSpec = DEFAULT_MODEL): void {
  const pixels = inputSize(model.input);
  if (!Number.isInteger(set.count) || set.count < 0)
    throw new RangeError(`${what}.count must be a non-negative integer, got ${set.count}`);
  if (set.images.length !== set.count * pixels)
    throw new RangeError(
      `${what}.images has ${set.images.length} bytes, expected count·${pixels} = ${set.count * pixels}`,
    );
  if (set.labels.length !== set.count)
    throw new RangeError(`${what}.labels has ${set.labels.length} entries, expected count = ${set.count}`);
  for (let i = 0; i < set.count; i++)
    if (set.labels[i] >= model.classes)
      throw new RangeError(`${what}.labels[${i}] = ${set.labels[i]} is outside 0..${model.classes - 1}`);
}
