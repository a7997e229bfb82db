import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/tfjs/backend.ts';
import { lossAndGradients } from '../../src/nn/tfjs/backprop.ts';
import { initWeights, PARAM_COUNT, type TrainOptions } from '../../src/nn/mlp.ts';
import { evaluate } from '../../src/nn/tfjs/evaluate.ts';
import { trainLocal } from '../../src/nn/tfjs/train.ts';
import { HostBatch } from '../../src/nn/tfjs/minibatch.ts';
import { paramsFromFlat, paramsToFlat } from '../../src/nn/tfjs/params.ts';
import type { ImageSet } from '../../src/data/mnist.ts';
import { mnistSlice } from './helpers.ts';

let train: ImageSet;
let test: ImageSet;
beforeAll(async () => {
  expect(await initBackend('wasm')).toBe('wasm');
  ({ train, test } = await mnistSlice(2000, 1000));
});

const opts = (o: Partial<TrainOptions> = {}): TrainOptions => ({
  iterations: 1,
  minibatch: 64,
  lr: 0.1,
  mode: 'epoch',
  seed: 1,
  ...o,
});
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const smallSet = (n: number): ImageSet => ({
  images: train.images.subarray(0, n * 784),
  labels: train.labels.subarray(0, n),
  count: n,
});

describe('initWeights', () => {
  it('is deterministic, He-scaled, with zero biases', () => {
    const a = initWeights(1);
    expect(a.length).toBe(PARAM_COUNT);
    expect(sameBits(a, initWeights(1))).toBe(true);
    expect(sameBits(a, initWeights(2))).toBe(false);
    // W1: 235200 values with std sqrt(2/784) ≈ 0.0505
    let sq = 0;
    for (let i = 0; i < 784 * 300; i++) sq += a[i] * a[i];
    expect(Math.sqrt(sq / (784 * 300))).toBeCloseTo(Math.sqrt(2 / 784), 3);
    expect(Array.from(a.subarray(784 * 300, 784 * 300 + 300)).every((v) => v === 0)).toBe(true);
  });
});

describe('trainLocal', () => {
  it('three epochs on 2000 MNIST samples lift test accuracy far above chance', async () => {
    const w0 = initWeights(1);
    const before = await evaluate(w0, test);
    const result = await trainLocal(w0, train, opts({ iterations: 3 }));
    const after = await evaluate(result.weights, test);
    expect(result.steps).toBe(3 * Math.ceil(2000 / 64)); // last partial minibatch included
    expect(before.accuracy).toBeLessThan(0.3);
    expect(after.accuracy).toBeGreaterThan(0.8);
    expect(after.loss).toBeLessThan(before.loss);
    expect(result.loss).toBeGreaterThan(0);
    expect(result.loss).toBeLessThan(2.3);
  });

  it('same seed ⇒ bit-identical weights on wasm; another seed differs; input untouched', async () => {
    const w0 = initWeights(4);
    const copy = w0.slice();
    const batch = smallSet(500);
    const a = await trainLocal(w0, batch, opts({ iterations: 2, seed: 9 }));
    const b = await trainLocal(w0, batch, opts({ iterations: 2, seed: 9 }));
    const c = await trainLocal(w0, batch, opts({ iterations: 2, seed: 10 }));
    expect(sameBits(a.weights, b.weights)).toBe(true);
    expect(a.loss).toBe(b.loss);
    expect(sameBits(a.weights, c.weights)).toBe(false);
    expect(sameBits(w0, copy)).toBe(true);
  });

  it('does not grow tf memory across calls and over thousands of steps', async () => {
    const w0 = initWeights(2);
    const batch = smallSet(250);
    await trainLocal(w0, batch, opts({ minibatch: 1 })); // warm-up: backend-internal allocations
    const base = tf.memory();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, tf.memory().numTensors)), 0);
    const r = await trainLocal(w0, batch, opts({ minibatch: 1, iterations: 4 })); // 1000 steps
    clearInterval(sampler);
    await trainLocal(r.weights, batch, opts({ mode: 'step', iterations: 3 }));
    expect(r.steps).toBe(1000);
    expect(tf.memory().numTensors).toBe(base.numTensors);
    expect(tf.memory().numBytes).toBe(base.numBytes);
    expect(peak).toBeGreaterThan(0); // the sampler ran while training (the loop yields)
    expect(peak).toBeLessThan(base.numTensors + 20); // params + loss accumulator, no pile-up
  });

  it('yields to the event loop while training', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await trainLocal(initWeights(3), smallSet(64 * 25), opts({ iterations: 4 })); // 100 steps
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(4);
  });

  it("'step' mode takes one full-batch gradient step per iteration (summed over row chunks)", async () => {
    const w0 = initWeights(6);
    const { train: big } = await mnistSlice(5000, 1);
    const result = await trainLocal(w0, big, opts({ mode: 'step', lr: 0.5 }));
    expect(result.steps).toBe(1);
    // Reference: one un-chunked gradient over all 5000 rows.
    const expected = tf.tidy(() => {
      const params = paramsFromFlat(w0);
      const { x, yT } = new HostBatch(big).uploadRange(0, 5000);
      const { grads, lossSum } = lossAndGradients(params, x, yT, 0.5 / 5000);
      const next = params.map((p, i) => tf.sub(p, grads[i]) as tf.Tensor2D);
      return { flat: paramsToFlat(next), loss: lossSum.dataSync()[0] / 5000 };
    });
    let maxDiff = 0;
    for (let i = 0; i < PARAM_COUNT; i++) maxDiff = Math.max(maxDiff, Math.abs(result.weights[i] - expected.flat[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(result.loss).toBeCloseTo(expected.loss, 5);
    expect(sameBits(result.weights, w0)).toBe(false);
  });

  it("an 'epoch' with minibatch ≥ batch equals one full-batch step (up to summation order)", async () => {
    const w0 = initWeights(8);
    const batch = smallSet(300);
    const e = await trainLocal(w0, batch, opts({ minibatch: 1000 }));
    const s = await trainLocal(w0, batch, opts({ mode: 'step' }));
    expect(e.steps).toBe(1);
    let maxDiff = 0;
    for (let i = 0; i < PARAM_COUNT; i++) maxDiff = Math.max(maxDiff, Math.abs(e.weights[i] - s.weights[i]));
    expect(maxDiff).toBeLessThan(1e-6);
    expect(e.loss).toBeCloseTo(s.loss, 5);
  });

  it('handles empty work and rejects bad input', async () => {
    const w0 = initWeights(1);
    const none = await trainLocal(w0, smallSet(0), opts());
    expect(none.steps).toBe(0);
    expect(Number.isNaN(none.loss)).toBe(true);
    expect(sameBits(none.weights, w0)).toBe(true);
    expect(none.weights).not.toBe(w0);
    await expect(trainLocal(new Float32Array(10), smallSet(5), opts())).rejects.toThrow(/expected 280934/);
    await expect(trainLocal(w0, smallSet(5), opts({ minibatch: 0 }))).rejects.toThrow(/minibatch/);
    await expect(trainLocal(w0, smallSet(5), opts({ lr: -1 }))).rejects.toThrow(/lr/);
    await expect(trainLocal(w0, { ...smallSet(5), count: 6 }, opts())).rejects.toThrow(/expected count/);
  });
});

describe('evaluate', () => {
  it('matches a direct row-major forward pass on 300 test images', async () => {
    const w = (await trainLocal(initWeights(1), smallSet(640), opts())).weights;
    const set: ImageSet = {
      images: test.images.subarray(0, 300 * 784),
      labels: test.labels.subarray(0, 300),
      count: 300,
    };
    const ev = await evaluate(w, set);
    const { acc, loss } = tf.tidy(() => {
      const x = tf.div(tf.tensor2d(Float32Array.from(set.images), [300, 784]), 255);
      let a: tf.Tensor = x;
      const offsets = [0, 784 * 300 + 300, 784 * 300 + 300 + 300 * 124 + 124, 280934 - 610];
      const sizes = [
        [784, 300],
        [300, 124],
        [124, 60],
        [60, 10],
      ];
      sizes.forEach(([i, o], l) => {
        const W = tf.tensor2d(w.slice(offsets[l], offsets[l] + i * o), [i, o]);
        const b = tf.tensor1d(w.slice(offsets[l] + i * o, offsets[l] + i * o + o));
        a = tf.add(tf.matMul(a, W), b);
        if (l < 3) a = tf.relu(a);
      });
      const pred = tf.argMax(a, 1).dataSync();
      let correct = 0;
      for (let i = 0; i < 300; i++) if (pred[i] === set.labels[i]) correct++;
      const y = tf.oneHot(tf.tensor1d(Array.from(set.labels), 'int32'), 10);
      const l = tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(a)), 1))).dataSync()[0];
      return { acc: correct / 300, loss: l };
    });
    expect(ev.accuracy).toBe(acc);
    expect(ev.loss).toBeCloseTo(loss, 5);
  });
});
