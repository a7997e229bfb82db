/**
 * The network every learner trains (model-spec.ts; default the paper's [784, 300, 124, 60, 10] ReLU MLP): public API of src/nn.
 * Weights travel as one flat Float32Array (layout in layout.ts).
 */
import { createRng, deriveSeed } from '../util/rng.ts';
import { DEFAULT_LAYOUT, type WeightLayout } from './layout.ts';

export { DEFAULT_LAYOUT, DEFAULT_MODEL, layoutOf, PARAM_COUNT, weightLayout, type WeightLayout } from './layout.ts';
export { DEFAULT_MODEL_NAME, MODEL_FORMS, parseModelSpec, type ModelSpec } from './model-spec.ts';
export {
  BACKEND_PREFERENCES,
  ENGINE_PREFERENCES,
  type BackendPreference,
  type Engine,
  type EnginePreference,
  type Evaluation,
  type LocalIterationMode,
  type TrainOptions,
  type TrainResult,
} from './engine.ts';
export { createEngine, type EngineChoice } from './engines.ts';
export {
  createAggregator,
  fedAvg,
  FedAvgAccumulator,
  fedNova,
  type AggregationName,
  type Aggregator,
  type NormalisedUpdate,
  type WeightedUpdate,
} from './fedavg.ts';

/** He-normal weights (N(0, 2/fan_in)), zero biases; same seed ⇒ same array. */
export function initWeights(seed: number, layout: WeightLayout = DEFAULT_LAYOUT): Float32Array {
  const rng = createRng(deriveSeed(seed, 'initWeights'));
  const w = new Float32Array(layout.count); // biases stay 0
  for (const layer of layout.layers) {
    const std = Math.sqrt(2 / layer.inputs);
    for (let i = layer.weightOffset; i < layer.biasOffset; i++) w[i] = rng.normal() * std;
  }
  return w;
}
