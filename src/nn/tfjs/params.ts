/**
 * Conversion between the flat Float32Array (wire format, W_l row-major [inputs][outputs])
 * and the on-device layout the engine trains with: W_lᵀ as [outputs, inputs] and b_l as a
 * column [outputs, 1].
 *
 * Why transposed on the device: activations are kept feature-major ([features, m]), so the
 * forward product is Wᵀ·aᵀ and the large operand XNNPACK has to repack on every call is the
 * small minibatch, not the freshly updated weight matrix (measured ~1.6x faster on wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertWeightLength, DEFAULT_LAYOUT, type WeightLayout } from '../layout.ts';

/**
 * [W1, b1, W2, b2, …] on the device. For the MLP W_lᵀ: [outputs, inputs], b_l: [outputs, 1];
 * convnet.ts keeps its own shapes.
 */
export type DeviceParams = tf.Tensor[];

export function paramsFromFlat(weights: Float32Array, layout: WeightLayout = DEFAULT_LAYOUT): DeviceParams {
  assertWeightLength(weights, 'weights', layout);
  return tf.tidy(() => {
    const out: DeviceParams = [];
    for (const layer of layout.layers) {
      // slice() copies, so later changes to `weights` cannot reach the tensors (cpu backend aliases).
      const w = tf.tensor2d(weights.slice(layer.weightOffset, layer.biasOffset), [layer.inputs, layer.outputs]);
      out.push(tf.transpose(w));
      out.push(tf.tensor2d(weights.slice(layer.biasOffset, layer.biasOffset + layer.outputs), [layer.outputs, 1]));
    }
    return out;
  });
}

export function paramsToFlat(params: DeviceParams, layout: WeightLayout = DEFAULT_LAYOUT): Float32Array {
  const flat = new Float32Array(layout.count);
  layout.layers.forEach((layer, l) => {
    const w = tf.transpose(params[2 * l]);
    flat.set(w.dataSync() as Float32Array, layer.weightOffset);
    w.dispose();
    flat.set(params[2 * l + 1].dataSync() as Float32Array, layer.biasOffset);
  });
  return flat;
}

export function disposeAll(tensors: readonly tf.Tensor[]): void {
  for (const t of tensors) t.dispose();
}
