import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/tfjs/backend.ts';
import { LAYERS } from '../../src/nn/layout.ts';
import { initWeights } from '../../src/nn/mlp.ts';
import { epochOrders } from '../../src/nn/schedule.ts';
import { trainLocal } from '../../src/nn/tfjs/train.ts';
import { subset } from '../../src/data/mnist.ts';
import { mnistSlice } from './helpers.ts';

describe('trainLocal vs tf.layers', () => {
  it('gives the same weights as model.fit (plain SGD) on the same minibatch sequence', async () => {
    expect(await initBackend('wasm')).toBe('wasm');
    const n = 640;
    const { train } = await mnistSlice(n, 1);
    const w0 = initWeights(1);
    const ours = await trainLocal(w0, train, { iterations: 1, minibatch: 64, lr: 0.1, mode: 'epoch', seed: 1 });

    const model = tf.sequential();
    LAYERS.forEach((l, i) =>
      model.add(
        tf.layers.dense({
          units: l.outputs,
          inputShape: i === 0 ? [784] : undefined,
          activation: i < 3 ? 'relu' : 'softmax',
        }),
      ),
    );
    model.setWeights(
      LAYERS.flatMap((l) => [
        tf.tensor2d(w0.slice(l.weightOffset, l.biasOffset), [l.inputs, l.outputs]),
        tf.tensor1d(w0.slice(l.biasOffset, l.biasOffset + l.outputs)),
      ]),
    );
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const ordered = subset(train, epochOrders(n, 1)()); // the rows in trainLocal's order
    const x = tf.div(tf.tensor2d(Float32Array.from(ordered.images), [n, 784]), 255);
    const y = tf.oneHot(tf.tensor1d(Array.from(ordered.labels), 'int32'), 10).toFloat();
    await model.fit(x, y, { batchSize: 64, epochs: 1, shuffle: false, verbose: 0 });

    const theirs = model.getWeights().map((t) => t.dataSync());
    let maxDiff = 0;
    let maxChange = 0;
    LAYERS.forEach((l, i) => {
      const W = theirs[2 * i];
      const b = theirs[2 * i + 1];
      for (let j = 0; j < W.length; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(W[j] - ours.weights[l.weightOffset + j]));
        maxChange = Math.max(maxChange, Math.abs(W[j] - w0[l.weightOffset + j]));
      }
      for (let j = 0; j < b.length; j++) maxDiff = Math.max(maxDiff, Math.abs(b[j] - ours.weights[l.biasOffset + j]));
    });
    expect(maxChange).toBeGreaterThan(1e-2); // training moved the weights…
    expect(maxDiff).toBeLessThan(1e-5); // …and both engines moved them the same way
    model.dispose();
    tf.dispose([x, y]);
  });
});
