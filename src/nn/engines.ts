/**
 * Picks the engine: `auto` is onnx, falling back to tfjs (wasm, or the given backend) with a
 * one-line warning where onnxruntime's native binary cannot load on this platform.
 */
import { InputError } from '../errors.ts';
import {
  ENGINE_PREFERENCES,
  type BackendPreference,
  type Engine,
  type EnginePreference,
  type EngineUse,
} from './engine.ts';
import { layoutOf } from './layout.ts';
import type { InputShape } from './model-spec.ts';

export interface EngineChoice {
  engine: EnginePreference;
  /** tfjs backend, used when the tfjs engine runs */
  backend: BackendPreference;
  /** the network to build (model-spec.ts); absent: the paper's MLP */
  model?: string;
  /** sample shape the model reads; absent: MNIST's 1×28×28 */
  input?: InputShape;
}

/** `ready`: what this process will use, prepared now (start-up) rather than on first use. InputError for a bad model. */
export async function createEngine(
  choice: EngineChoice,
  warn: (line: string) => void = () => {},
  ready: EngineUse[] = [],
): Promise<Engine> {
  if (!ENGINE_PREFERENCES.includes(choice.engine))
    throw new InputError(`unknown engine "${choice.engine}"; valid: ${ENGINE_PREFERENCES.join('|')}`);
  const layout = layoutOf(choice.model, choice.input);
  if (choice.engine !== 'tfjs') {
    try {
      const { createOnnxEngine } = await import('./onnx/engine.ts');
      return await createOnnxEngine(ready, layout);
    } catch (e) {
      const why = String((e as Error).message ?? e).split('\n')[0];
      if (choice.engine === 'onnx')
        throw new InputError(`engine onnx is not available here: ${why}; use --engine tfjs`);
      warn(`onnxruntime-node cannot run here (${why}); using the tfjs engine`);
    }
  }
  const { createTfjsEngine } = await import('./tfjs/engine.ts');
  return createTfjsEngine(choice.backend, layout);
}
