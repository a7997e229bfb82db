/**
 * The onnx engine against the tfjs engine (itself checked against tf.grads and tf.layers):
 * gradients, whole local trainings in both modes, evaluation, determinism, and the seam.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { ImageSet } from '../../src/data/mnist.ts';
import { InputError } from '../../src/errors.ts';
import { createEngine, initWeights, PARAM_COUNT, type Engine, type TrainOptions } from '../../src/nn/mlp.ts';
import { createOnnxEngine } from '../../src/nn/onnx/engine.ts';
import { stepSchedule } from '../../src/nn/schedule.ts';
import { initBackend } from '../../src/nn/tfjs/backend.ts';
import { lossAndGradients } from '../../src/nn/tfjs/backprop.ts';
import { HostBatch } from '../../src/nn/tfjs/minibatch.ts';
import { paramsFromFlat, paramsToFlat } from '../../src/nn/tfjs/params.ts';
import { mnistSlice } from './helpers.ts';

let onnx: Engine;
let tfjs: Engine;
let train: ImageSet;
let test: ImageSet;
beforeAll(async () => {
  onnx = await createOnnxEngine();
  tfjs = await createEngine({ engine: 'tfjs', backend: 'wasm' });
  expect(tfjs.name).toBe('tfjs-wasm');
  ({ train, test } = await mnistSlice(1000, 1000));
});

const opts = (o: Partial<TrainOptions> = {}): TrainOptions => ({
  iterations: 1,
  minibatch: 64,
  lr: 0.1,
  mode: 'epoch',
  seed: 1,
  ...o,
});
const rows = (set: ImageSet, n: number): ImageSet => ({
  images: set.images.subarray(0, n * 784),
  labels: set.labels.subarray(0, n),
  count: n,
});
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** max |a − b| relative to max |b|: float32 training diverges from rounding alone by ~1e-6 of that. */
function relMaxDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('onnx engine', () => {
  it("one step with lr = 1 moves the weights by exactly the tfjs engine's gradient (1e-4 relative)", async () => {
    const w0 = initWeights(3);
    const batch = rows(train, 64);
    // The onnx graph's step: W − lr·∇(mean loss); with lr 1 the move is the gradient.
    const stepped = await onnx.train(w0, batch, opts({ lr: 1, mode: 'step' }));
    const onnxGrad = new Float32Array(PARAM_COUNT);
    for (let i = 0; i < PARAM_COUNT; i++) onnxGrad[i] = w0[i] - stepped.weights[i];

    await initBackend('wasm');
    const tfjsGrad = tf.tidy(() => {
      const params = paramsFromFlat(w0);
      const { x, yT } = new HostBatch(batch).uploadRange(0, 64);
      return paramsToFlat(lossAndGradients(params, x, yT, 1 / 64).grads);
    });
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < PARAM_COUNT; i++) {
      diff += (onnxGrad[i] - tfjsGrad[i]) ** 2;
      norm += tfjsGrad[i] ** 2;
    }
    expect(norm).toBeGreaterThan(0);
    expect(Math.sqrt(diff / norm)).toBeLessThan(1e-4);
  });

  it('a whole local training (τ = 3 epochs, many seeded mini-batches, several session runs) equals the tfjs engine within 1e-4', async () => {
    const w0 = initWeights(5);
    // 1000 samples at minibatch 16: 63 steps per epoch, 189 in all — more than one session run.
    const o = opts({ iterations: 3, minibatch: 16, seed: 11 });
    const [a, b] = [await onnx.train(w0, train, o), await tfjs.train(w0, train, o)];
    expect(a.steps).toBe(3 * Math.ceil(1000 / 16));
    expect(a.steps).toBe(b.steps);
    expect(relMaxDiff(a.weights, b.weights)).toBeLessThan(1e-4);
    expect(a.loss).toBeCloseTo(b.loss, 4);
  });

  it("full-batch 'step' mode equals the tfjs engine within 1e-4", async () => {
    const w0 = initWeights(6);
    const o = opts({ iterations: 4, mode: 'step', lr: 0.2 });
    const [a, b] = [await onnx.train(w0, rows(train, 700), o), await tfjs.train(w0, rows(train, 700), o)];
    expect(a.steps).toBe(4);
    expect(relMaxDiff(a.weights, b.weights)).toBeLessThan(1e-4);
    expect(a.loss).toBeCloseTo(b.loss, 4);
  });

  it('same seed ⇒ bit-identical weights, also from a second engine instance; another seed differs; input untouched', async () => {
    const w0 = initWeights(7);
    const copy = w0.slice();
    const o = opts({ iterations: 2, seed: 9 });
    const a = await onnx.train(w0, rows(train, 500), o);
    const b = await (await createOnnxEngine()).train(w0, rows(train, 500), o);
    const c = await onnx.train(w0, rows(train, 500), { ...o, seed: 10 });
    expect(sameBits(a.weights, b.weights)).toBe(true);
    expect(a.loss).toBe(b.loss);
    expect(sameBits(a.weights, c.weights)).toBe(false);
    expect(sameBits(w0, copy)).toBe(true);
  });

  it('reads batches that are views at an offset into a larger buffer', async () => {
    const w0 = initWeights(8);
    const offset: ImageSet = {
      images: train.images.subarray(100 * 784, 300 * 784),
      labels: train.labels.subarray(100, 300),
      count: 200,
    };
    const copied: ImageSet = { images: offset.images.slice(), labels: offset.labels.slice(), count: 200 };
    const a = await onnx.train(w0, offset, opts());
    const b = await onnx.train(w0, copied, opts());
    expect(sameBits(a.weights, b.weights)).toBe(true);
    const e1 = await onnx.evaluate(a.weights, offset);
    const e2 = await onnx.evaluate(a.weights, copied);
    expect(e1).toEqual(e2);
  });

  it('evaluation agrees with the tfjs engine (accuracy within 0.05 points, loss within 1e-4), also in several chunks', async () => {
    const trained = (await onnx.train(initWeights(2), train, opts({ iterations: 2 }))).weights;
    for (const weights of [initWeights(2), trained]) {
      const [a, b] = [await onnx.evaluate(weights, test), await tfjs.evaluate(weights, test)];
      expect(Math.abs(a.accuracy - b.accuracy)).toBeLessThanOrEqual(0.0005);
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-4);
    }
    const big: ImageSet = { images: new Uint8Array(6000 * 784), labels: new Uint8Array(6000), count: 6000 };
    for (let r = 0; r < 6; r++) {
      big.images.set(test.images, r * 1000 * 784);
      big.labels.set(test.labels, r * 1000);
    }
    const [once, six] = [await onnx.evaluate(trained, test), await onnx.evaluate(trained, big)];
    expect(six.accuracy).toBeCloseTo(once.accuracy, 10);
    expect(six.loss).toBeCloseTo(once.loss, 5);
  });

  it('learns: four epochs on 1000 samples lift accuracy far above chance', async () => {
    const w0 = initWeights(1);
    const before = await onnx.evaluate(w0, test);
    const after = await onnx.evaluate((await onnx.train(w0, train, opts({ iterations: 4 }))).weights, test);
    expect(before.accuracy).toBeLessThan(0.3);
    expect(after.accuracy).toBeGreaterThan(0.75);
  });

  it('no work: an empty batch or τ = 0 returns a copy of the weights; bad options are refused', async () => {
    const w0 = initWeights(1);
    for (const r of [
      await onnx.train(w0, rows(train, 0), opts()),
      await onnx.train(w0, train, opts({ iterations: 0 })),
    ]) {
      expect(r.steps).toBe(0);
      expect(Number.isNaN(r.loss)).toBe(true);
      expect(sameBits(r.weights, w0)).toBe(true);
      expect(r.weights).not.toBe(w0);
    }
    expect(Number.isNaN((await onnx.evaluate(w0, rows(test, 0))).accuracy)).toBe(true);
    await expect(onnx.train(w0, train, opts({ minibatch: 0 }))).rejects.toThrow(/minibatch/);
    await expect(onnx.train(w0.subarray(1), train, opts())).rejects.toThrow(/values, expected/);
  });
});

describe('engine choice', () => {
  it('auto and onnx give the onnx engine; an unknown engine is an InputError', async () => {
    expect((await createEngine({ engine: 'auto', backend: 'auto' })).name).toBe('onnx');
    expect((await createEngine({ engine: 'onnx', backend: 'auto' })).name).toBe('onnx');
    await expect(createEngine({ engine: 'gpu' as never, backend: 'auto' })).rejects.toBeInstanceOf(InputError);
  });
});

describe('stepSchedule', () => {
  it('epoch mode: each iteration is a permutation cut into mini-batches, the last one smaller', () => {
    const s = stepSchedule(10, 2, 'epoch', 4, 3);
    expect(Array.from(s.starts)).toEqual([0, 4, 8, 10, 14, 18]);
    expect(Array.from(s.ends)).toEqual([4, 8, 10, 14, 18, 20]);
    for (const it of [0, 1])
      expect([...s.order.subarray(it * 10, it * 10 + 10)].sort((a, b) => a - b)).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
      ]);
    expect(Array.from(s.order.subarray(0, 10))).not.toEqual(Array.from(s.order.subarray(10, 20)));
    expect(stepSchedule(10, 2, 'epoch', 4, 3)).toEqual(s);
  });

  it('step mode: each iteration is one step over every row in order', () => {
    const s = stepSchedule(5, 3, 'step', 64, 1);
    expect(Array.from(s.order)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(s.starts)).toEqual([0, 0, 0]);
    expect(Array.from(s.ends)).toEqual([5, 5, 5]);
  });
});
