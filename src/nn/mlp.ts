/**
 * The [784, 300, 124, 60, 10] ReLU MLP every learner trains: public API of src/nn.
 * Weights travel as one flat Float32Array (layout in layout.ts).
 */
import { createRng, deriveSeed } from '../util/rng.ts';
import { LAYERS, PARAM_COUNT } from './layout.ts';

export { LAYER_SIZES, PARAM_COUNT } from './layout.ts';
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
export { createAggregator, fedAvg, FedAvgAccumulator, fedNova, type AggregationName, type Aggregator, type NormalisedUpdate, type WeightedUpdate } from './fedavg.ts';

/** He-normal weights (N(0, 2/fan_in)), zero biases; same seed ⇒ same array. */
export function initWeights(seed: number): Float32Array {
  const rng = createRng(deriveSeed(seed, 'initWeights'));
  const w = new Float32Array(PARAM_COUNT); // biases stay 0
  for (const layer of LAYERS) {
    const std = Math.sqrt(2 / layer.inputs);
    for (let i = layer.weightOffset; i < layer.biasOffset; i++) w[i] = rng.normal() * std;
  }
  return w;
}
