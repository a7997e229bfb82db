/** The tfjs engine (explicit forward/backward on a tfjs backend): the cross-check of the onnx engine. */
import type { Engine } from '../engine.ts';
import { DEFAULT_LAYOUT, type WeightLayout } from '../layout.ts';
import { initBackend, type BackendPreference } from './backend.ts';
import { evaluate } from './evaluate.ts';
import { tfjsNetwork } from './network.ts';
import { trainLocal } from './train.ts';

export async function createTfjsEngine(
  backend: BackendPreference,
  layout: WeightLayout = DEFAULT_LAYOUT,
): Promise<Engine> {
  const active = await initBackend(backend);
  const net = tfjsNetwork(layout);
  // initBackend re-activates this engine's backend if another preference switched it since.
  const ready = () => initBackend(backend);
  return {
    name: `tfjs-${active}`,
    train: async (weights, batch, opts) => (await ready(), trainLocal(weights, batch, opts, net)),
    evaluate: async (weights, set) => (await ready(), evaluate(weights, set, net)),
  };
}
