/** The tfjs engine (explicit forward/backward on a tfjs backend): the cross-check of the onnx engine. */
import type { Engine } from '../engine.ts';
import { initBackend, type BackendPreference } from './backend.ts';
import { evaluate } from './evaluate.ts';
import { trainLocal } from './train.ts';

export async function createTfjsEngine(backend: BackendPreference): Promise<Engine> {
  const active = await initBackend(backend);
  // initBackend re-activates this engine's backend if another preference switched it since.
  const ready = () => initBackend(backend);
  return {
    name: `tfjs-${active}`,
    train: async (weights, batch, opts) => (await ready(), trainLocal(weights, batch, opts)),
    evaluate: async (weights, set) => (await ready(), evaluate(weights, set)),
  };
}
