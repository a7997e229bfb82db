import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BackendError, initBackend } from '../../src/nn/tfjs/backend.ts';

describe('initBackend', () => {
  it("'node' fails with a clear message when @tensorflow/tfjs-node is not installed", async () => {
    let installed = true;
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      installed = false;
    }
    if (installed) {
      expect(await initBackend('node')).toBe('tensorflow');
      return;
    }
    const err = await initBackend('node').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(
      /backend node is not available: @tensorflow\/tfjs-node is not installed.*use --backend auto, wasm or cpu/,
    );
  });

  it("'auto' falls back to wasm here, is idempotent, and logs nothing", async () => {
    const logged: unknown[] = [];
    const originals = { log: console.log, warn: console.warn, info: console.info };
    console.log = console.warn = console.info = (...a: unknown[]) => void logged.push(a);
    try {
      const first = await initBackend('auto');
      expect(['tensorflow', 'wasm']).toContain(first);
      expect(tf.getBackend()).toBe(first);
      expect(await initBackend('auto')).toBe(first);
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()); // first op on the backend
    } finally {
      Object.assign(console, originals);
    }
    expect(logged).toEqual([]);
  });

  it("switches between 'cpu' and 'wasm' on request", async () => {
    expect(await initBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(await initBackend('cpu')).toBe('cpu');
  });

  it('rejects an unknown preference', async () => {
    await expect(initBackend('gpu' as never)).rejects.toThrow(/unknown backend "gpu"/);
  });
});
