import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/tfjs/backend.ts';
import { lossAndGradients } from '../../src/nn/tfjs/backprop.ts';
import { LAYERS, PARAM_COUNT } from '../../src/nn/layout.ts';
import { initWeights } from '../../src/nn/mlp.ts';
import { disposeAll, paramsFromFlat, paramsToFlat } from '../../src/nn/tfjs/params.ts';
import { createRng } from '../../src/util/rng.ts';

/** The same loss written the plain way (row-major activations), for tf.grads to differentiate. */
function referenceMeanLoss(x: tf.Tensor2D, y: tf.Tensor2D) {
  return (...p: tf.Tensor[]) => {
    let a: tf.Tensor = x;
    for (let l = 0; l < 4; l++) {
      a = tf.add(tf.matMul(a, p[2 * l]), p[2 * l + 1]);
      if (l < 3) a = tf.relu(a);
    }
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(a)), 1)));
  };
}

function randomProblem(m: number, seed: number) {
  const rng = createRng(seed);
  const weights = initWeights(seed);
  // Non-zero biases so that their gradients and the ReLU masks are exercised too.
  for (const layer of LAYERS)
    for (let i = 0; i < layer.outputs; i++) weights[layer.biasOffset + i] = 0.1 * rng.normal();
  const x = Float32Array.from({ length: m * 784 }, () => (rng.next() < 0.7 ? 0 : rng.next()));
  const labels = Array.from({ length: m }, () => rng.int(10));
  return { weights, x, labels };
}

/** ‖a − b‖ / ‖b‖ over one slice of the flat arrays. */
function relativeError(a: Float32Array, b: Float32Array, from: number, to: number): number {
  let num = 0;
  let den = 0;
  for (let i = from; i < to; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe.each(['wasm', 'cpu'] as const)('explicit gradients on %s', (backend) => {
  it('match tf.grads of the same mean cross-entropy to 1e-4 relative, per tensor', async () => {
    expect(await initBackend(backend)).toBe(backend);
    const m = 24;
    const { weights, x, labels } = randomProblem(m, 11);
    const xT = tf.tensor2d(x, [m, 784]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D;
    const yT = tf.transpose(y);

    // Reference: plain-layout tensors straight from the flat array.
    const plain: tf.Tensor[] = [];
    for (const layer of LAYERS) {
      plain.push(tf.tensor2d(weights.slice(layer.weightOffset, layer.biasOffset), [layer.inputs, layer.outputs]));
      plain.push(tf.tensor1d(weights.slice(layer.biasOffset, layer.biasOffset + layer.outputs)));
    }
    const f = referenceMeanLoss(xT, y);
    const refGrads = tf.grads(f)(plain);
    const refFlat = new Float32Array(PARAM_COUNT);
    LAYERS.forEach((layer, l) => {
      refFlat.set(refGrads[2 * l].dataSync() as Float32Array, layer.weightOffset);
      refFlat.set(refGrads[2 * l + 1].dataSync() as Float32Array, layer.biasOffset);
    });
    const refLoss = (f(...plain).dataSync() as Float32Array)[0];

    const params = paramsFromFlat(weights);
    const ours = lossAndGradients(params, xT, yT, 1 / m);
    const ourFlat = paramsToFlat(ours.grads); // gradients share the parameters' layout
    const ourLoss = ours.lossSum.dataSync()[0] / m;

    expect(Math.abs(ourLoss - refLoss) / refLoss).toBeLessThan(1e-5);
    LAYERS.forEach((layer, l) => {
      const wErr = relativeError(ourFlat, refFlat, layer.weightOffset, layer.biasOffset);
      const bErr = relativeError(ourFlat, refFlat, layer.biasOffset, layer.biasOffset + layer.outputs);
      expect(wErr, `dW${l + 1}`).toBeLessThan(1e-4);
      expect(bErr, `db${l + 1}`).toBeLessThan(1e-4);
    });
    // The gradients are not trivially zero.
    expect(Math.max(...Array.from(refFlat.subarray(0, 1000), Math.abs))).toBeGreaterThan(1e-4);

    disposeAll([xT, y, yT, ...plain, ...refGrads, ...params, ours.lossSum, ...ours.grads]);
  });
});

describe('flat weight layout', () => {
  it('has 280934 parameters and round-trips through the device layout bit-exactly', async () => {
    await initBackend('wasm');
    expect(PARAM_COUNT).toBe(280934);
    const w = initWeights(5);
    w[PARAM_COUNT - 1] = 0.25; // a bias value, to see it come back
    const p = paramsFromFlat(w);
    expect(p.map((t) => t.shape)).toEqual([
      [300, 784],
      [300, 1],
      [124, 300],
      [124, 1],
      [60, 124],
      [60, 1],
      [10, 60],
      [10, 1],
    ]);
    // Element (i=2, j=7) of W1 (row-major [in][out]) is W1ᵀ[7][2].
    expect((p[0].arraySync() as number[][])[7][2]).toBe(w[2 * 300 + 7]);
    const back = paramsToFlat(p);
    expect(Buffer.from(back.buffer).equals(Buffer.from(w.buffer))).toBe(true);
    disposeAll(p);
  });
});
