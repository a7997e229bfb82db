/**
 * Forward and backward pass of the ReLU MLP with softmax cross-entropy, written out by hand.
 *
 * Why by hand: in tfjs-wasm `matMul(a, b, transposeA/B)` misses XNNPACK's fast path and runs
 * ~10x slower than a plain `matMul`, and autodiff (tf.grads / model.fit) uses exactly those
 * transposed forms. Every product below is a plain matMul; where a transpose is needed it is
 * materialised first (a cheap copy next to the product).
 *
 * Layout (see params.ts): activations are feature-major, aᵀ: [features, m]; weights Wᵀ:
 * [outputs, inputs]; biases [outputs, 1]. Pure tensor math: call inside tf.tidy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DeviceParams } from './params.ts';

/** Logitsᵀ [10, m] for inputs x [m, 784] scaled to [0, 1]. */
export function forwardLogitsT(params: DeviceParams, x: tf.Tensor2D): tf.Tensor2D {
  const layers = params.length / 2;
  let aT: tf.Tensor2D = tf.transpose(x);
  for (let l = 0; l < layers; l++) {
    const z = tf.add(tf.matMul(params[2 * l] as tf.Tensor2D, aT), params[2 * l + 1]) as tf.Tensor2D;
    aT = l + 1 < layers ? tf.relu(z) : z;
  }
  return aT;
}

/** log softmax over the classes of logitsᵀ [10, m] (axis 0). */
function logSoftmaxT(logitsT: tf.Tensor2D): tf.Tensor2D {
  const shifted = tf.sub(logitsT, tf.max(logitsT, 0, true));
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 0, true)));
}

/** Σ over the m columns of the cross-entropy −Σ_c yᵀ·log softmax, as a scalar. */
export function crossEntropySumT(logitsT: tf.Tensor2D, yT: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.sum(tf.mul(yT, logSoftmaxT(logitsT)))) as tf.Scalar;
}

export interface LossAndGradients {
  /** Σ over the m samples of the cross-entropy (not scaled) */
  lossSum: tf.Scalar;
  /** gradients of scale·lossSum, in DeviceParams layout */
  grads: tf.Tensor[];
}

/**
 * Cross-entropy and its gradients times `scale` (1/m for the mean loss; lr/m gives the SGD
 * step directly and saves eight multiplications per step).
 * x: [m, 784] pixels in [0, 1]; yT: one-hot labels [10, m].
 */
export function lossAndGradients(
  params: DeviceParams,
  x: tf.Tensor2D,
  yT: tf.Tensor2D,
  scale: number,
): LossAndGradients {
  const layers = params.length / 2;
  // Forward, keeping each layer's input activation aᵀ (actsT[0] = xᵀ) for the backward pass.
  const actsT: tf.Tensor2D[] = [tf.transpose(x)];
  let zT: tf.Tensor2D = actsT[0];
  for (let l = 0; l < layers; l++) {
    zT = tf.add(tf.matMul(params[2 * l] as tf.Tensor2D, actsT[l]), params[2 * l + 1]);
    if (l + 1 < layers) actsT.push(tf.relu(zT));
  }
  const logProbT = logSoftmaxT(zT);
  const lossSum = tf.neg(tf.sum(tf.mul(yT, logProbT))) as tf.Scalar;

  // d loss / d logits = softmax − y.
  let dzT: tf.Tensor2D = tf.mul(tf.sub(tf.exp(logProbT), yT), scale);
  const grads: tf.Tensor2D[] = new Array(2 * layers);
  for (let l = layers - 1; l >= 0; l--) {
    const a = l === 0 ? x : tf.transpose(actsT[l]); // [m, inputs]
    grads[2 * l] = tf.matMul(dzT, a); // dWᵀ [outputs, inputs]
    grads[2 * l + 1] = tf.sum(dzT, 1, true); // db [outputs, 1]
    if (l > 0) {
      const daT = tf.matMul(tf.transpose(params[2 * l] as tf.Tensor2D), dzT); // W·dzᵀ: [inputs, m]
      // ReLU'(z) is 1 where the activation is positive: step(a) is that mask.
      dzT = tf.mul(daT, tf.step(actsT[l]));
    }
  }
  return { lossSum, grads };
}

/** params − steps (steps already carry the learning rate), as new tensors. */
export function applyUpdate(params: DeviceParams, steps: tf.Tensor[]): DeviceParams {
  return params.map((p, i) => tf.sub(p, steps[i]));
}
