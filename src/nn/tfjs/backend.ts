/**
 * Picks the tfjs backend. `auto` prefers the native TensorFlow binding (tfjs-node, an
 * optional dependency that usually cannot install offline), then WebAssembly, then plain JS.
 *
 * tfjs-node registers its 'tensorflow' backend on the tfjs-core instance that IT resolves.
 * We only accept it if that is the same instance as ours (`import * as tf from
 * '@tensorflow/tfjs-core'` everywhere — importing only the core, not the whole tfjs union with
 * layers and webgl, saves ~0.4 s of start-up per learner process); otherwise tensors would live in
 * two engines.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../errors.ts';

import { BACKEND_PREFERENCES, type BackendPreference } from '../engine.ts';

export { BACKEND_PREFERENCES, type BackendPreference };

/** The requested backend cannot run here (message says why and what to use instead). */
export class BackendError extends InputError {
  override name = 'BackendError';
}

// One in-flight/finished initialisation per preference makes initBackend idempotent.
const pending = new Map<BackendPreference, Promise<string>>();

export function initBackend(pref: BackendPreference = 'auto'): Promise<string> {
  if (!BACKEND_PREFERENCES.includes(pref))
    return Promise.reject(new BackendError(`unknown backend "${pref}"; valid: ${BACKEND_PREFERENCES.join('|')}`));
  let p = pending.get(pref);
  if (!p) {
    p = choose(pref);
    pending.set(pref, p);
    p.catch(() => pending.delete(pref)); // a failed attempt may be retried
  }
  // Another preference may have switched the engine since; re-activate ours.
  return p.then(async (name) => {
    if (tf.getBackend() !== name) await activate(name);
    return name;
  });
}

async function choose(pref: BackendPreference): Promise<string> {
  // Silences tfjs' console advice ("install tfjs-node ...") and debug checks; we log nothing.
  tf.enableProdMode();
  if (pref === 'node' || pref === 'auto') {
    const why = await tryNode();
    if (why === null) return 'tensorflow';
    if (pref === 'node')
      throw new BackendError(`backend node is not available: ${why}; use --backend auto, wasm or cpu`);
  }
  if (pref === 'wasm' || pref === 'auto') {
    const why = await tryWasm();
    if (why === null) return 'wasm';
    if (pref === 'wasm') throw new BackendError(`backend wasm is not available: ${why}; use --backend cpu`);
  }
  await import('@tensorflow/tfjs-backend-cpu');
  await activate('cpu');
  return 'cpu';
}

async function tryNode(): Promise<string | null> {
  // A variable specifier keeps TypeScript from requiring the (uninstalled) package's types.
  const specifier = '@tensorflow/tfjs-node';
  // Keeps libtensorflow's CPU-feature banner quiet; the user may override it.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  try {
    await import(specifier);
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
      ? '@tensorflow/tfjs-node is not installed (its install step downloads libtensorflow)'
      : `@tensorflow/tfjs-node failed to load (${firstLine(err)})`;
  }
  if (!tf.findBackendFactory('tensorflow'))
    return '@tensorflow/tfjs-node loaded but registered on a different @tensorflow/tfjs-core copy (run npm dedupe)';
  return (await activate('tensorflow')) ? null : '@tensorflow/tfjs-node failed to initialise';
}

async function tryWasm(): Promise<string | null> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return `@tensorflow/tfjs-backend-wasm failed to load (${firstLine(err)})`;
  }
  if (!tf.findBackendFactory('wasm')) return '@tensorflow/tfjs-backend-wasm registered on a different tfjs-core copy';
  return (await activate('wasm')) ? null : 'the WebAssembly module failed to initialise';
}

async function activate(name: string): Promise<boolean> {
  try {
    // setBackend resolves false (and may warn) on failure; PROD mode keeps it quiet.
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0];
}

/** Initialise with `auto` unless the caller already chose a backend with initBackend. */
export async function ensureBackend(): Promise<string> {
  if (pending.size === 0) return initBackend('auto');
  return tf.getBackend();
}
