/**
 * Models beyond the paper's MLP on both engines: gradients of every layer kind (dense, conv,
 * average pooling, flatten) against tf.grads (autodiff on the cpu backend), whole local trainings
 * onnx vs tfjs, determinism, and the engines' refusal of weights of another model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs'; // the union registers every gradient for tf.grads
import type { ImageSet } from '../../src/data/mnist.ts';
import { InputError } from '../../src/errors.ts';
import {
  createEngine,
  initWeights,
  parseModelSpec,
  weightLayout,
  type Engine,
  type TrainOptions,
  type WeightLayout,
} from '../../src/nn/mlp.ts';
import { initBackend } from '../../src/nn/tfjs/backend.ts';
import { crossEntropySumT } from '../../src/nn/tfjs/backprop.ts';
import { HostBatch } from '../../src/nn/tfjs/minibatch.ts';
import { tfjsNetwork } from '../../src/nn/tfjs/network.ts';
import { mnistSlice } from './helpers.ts';

const LENET = weightLayout(parseModelSpec('lenet5'));
const SMALL_MLP = weightLayout(parseModelSpec('mlp:784-32-10'));

let train: ImageSet;
let test: ImageSet;
const engines: Record<string, Engine> = {};
beforeAll(async () => {
  ({ train, test } = await mnistSlice(640, 500));
  engines.onnx = await createEngine({ engine: 'onnx', backend: 'wasm', model: 'lenet5' });
  engines.tfjs = await createEngine({ engine: 'tfjs', backend: 'wasm', model: 'lenet5' });
  engines.onnxMlp = await createEngine({ engine: 'onnx', backend: 'wasm', model: SMALL_MLP.model.name });
}, 60_000);

const opts = (o: Partial<TrainOptions> = {}): TrainOptions => ({
  iterations: 1,
  minibatch: 32,
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

/** ‖a − b‖ / ‖b‖ over the flat range [from, to). */
function relativeError(a: Float32Array, b: Float32Array, from = 0, to = a.length): number {
  let diff = 0;
  let norm = 0;
  for (let i = from; i < to; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  expect(norm).toBeGreaterThan(0);
  return Math.sqrt(diff / norm);
}

/** ∇ of the mean cross-entropy by tfjs autodiff (cpu backend has every gradient kernel), in the flat layout. */
async function autodiffGradient(layout: WeightLayout, w: Float32Array, batch: ImageSet): Promise<Float32Array> {
  await initBackend('cpu');
  const net = tfjsNetwork(layout);
  return tf.tidy(() => {
    const params = net.fromFlat(w);
    const { x, yT } = new HostBatch(batch, layout.model).uploadRange(0, batch.count);
    const grads = tf.grads((...ps: tf.Tensor[]) => tf.div(crossEntropySumT(net.logitsT(ps, x), yT), batch.count))(
      params,
    );
    return net.toFlat(grads);
  });
}

/** The step of a full-batch SGD iteration with a large lr, divided back by lr: the engine's own gradient. */
async function engineGradient(engine: Engine, w: Float32Array, batch: ImageSet): Promise<Float32Array> {
  const lr = 1000; // the move dwarfs the weights, so W − W' loses no precision
  const { weights } = await engine.train(w, batch, opts({ lr, mode: 'step' }));
  return w.map((v, i) => (v - weights[i]) / lr);
}

describe('lenet5 and other specs on both engines', () => {
  it('every parameter tensor (conv, dense; through pooling and flatten) matches tf.grads within 1e-4 on both engines', async () => {
    const w = initWeights(7, LENET);
    const batch = rows(train, 16);
    const reference = await autodiffGradient(LENET, w, batch);
    for (const name of ['onnx', 'tfjs']) {
      const g = await engineGradient(engines[name], w, batch);
      for (const [l, slice] of LENET.layers.entries()) {
        const end = slice.biasOffset + slice.outputs;
        expect(relativeError(g, reference, slice.weightOffset, slice.biasOffset), `${name} W${l + 1}`).toBeLessThan(
          1e-4,
        );
        expect(relativeError(g, reference, slice.biasOffset, end), `${name} b${l + 1}`).toBeLessThan(1e-4);
      }
    }
  });

  it('an MLP of other sizes: onnx gradient matches tf.grads within 1e-4', async () => {
    const w = initWeights(2, SMALL_MLP);
    const batch = rows(train, 16);
    expect(
      relativeError(await engineGradient(engines.onnxMlp, w, batch), await autodiffGradient(SMALL_MLP, w, batch)),
    ).toBeLessThan(1e-4);
  });

  it('a local training of a few steps is bit-identical across runs, and onnx equals tfjs within 1e-4', async () => {
    const w = initWeights(11, LENET);
    const batch = rows(train, 160);
    const o = opts({ iterations: 2, minibatch: 32, seed: 5 });
    const [a, b, t] = [
      await engines.onnx.train(w, batch, o),
      await engines.onnx.train(w, batch, o),
      await engines.tfjs.train(w, batch, o),
    ];
    expect(a.steps).toBe(10);
    expect(sameBits(a.weights, b.weights)).toBe(true);
    expect(a.loss).toBe(b.loss);
    expect(relativeError(t.weights, a.weights)).toBeLessThan(1e-4);
    const [ea, et] = [await engines.onnx.evaluate(a.weights, test), await engines.tfjs.evaluate(a.weights, test)];
    expect(ea.accuracy).toBe(et.accuracy);
    expect(ea.loss).toBeCloseTo(et.loss, 4);
  });

  it('weights of another model are refused; a bad model is an InputError before any engine loads', async () => {
    await expect(engines.onnx.train(initWeights(1), rows(train, 8), opts())).rejects.toThrow(
      /expected 61706 \(model lenet5\)/,
    );
    await expect(engines.tfjs.evaluate(initWeights(1), test)).rejects.toThrow(/expected 61706/);
    await expect(createEngine({ engine: 'onnx', backend: 'wasm', model: 'resnet' })).rejects.toBeInstanceOf(InputError);
  });
});
