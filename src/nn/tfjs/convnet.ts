/**
 * Networks with convolutions (lenet5) on tfjs: forward and backward written out, like the MLP's.
 *
 * tfjs convolves channels-last, so images [m, C·H·W] (channels first, as on the wire) become
 * [m, H, W, C] on entry and go back to channels-first order before flattening: the dense weights
 * then mean the same as in the onnx engine. On the device a conv filter is [k, k, in, out] (the
 * wire's [out, in, k, k] transposed), dense W is [inputs, outputs] as on the wire, biases [outputs].
 *
 * The weight gradient of a convolution is a convolution too (the batch as channels, the output
 * gradient as filter): the wasm backend has Conv2D and Conv2DBackpropInput but no
 * Conv2DBackpropFilter, so autodiff (tf.grads) cannot run there. Pure tensor math: call inside tf.tidy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WeightLayout } from '../layout.ts';
import type { ConvLayer, Layer, PoolLayer } from '../model-spec.ts';
import type { LossAndGradients } from './backprop.ts';

/** Wire [out, in, k, k] → device [k, k, in, out] and back. */
const TO_DEVICE_FILTER = [2, 3, 1, 0];
const TO_WIRE_FILTER = [3, 2, 0, 1];

export function convParamsFromFlat(layout: WeightLayout, weights: Float32Array): tf.Tensor[] {
  return tf.tidy(() =>
    layout.layers.flatMap(({ layer, inputs, outputs, weightOffset, biasOffset }): tf.Tensor[] => {
      const w = weights.slice(weightOffset, biasOffset); // a copy: later changes to `weights` cannot reach the tensors
      const b = tf.tensor1d(weights.slice(biasOffset, biasOffset + outputs));
      if (layer.kind === 'dense') return [tf.tensor2d(w, [inputs, outputs]), b];
      return [
        tf.transpose(
          tf.tensor4d(w, [layer.outChannels, layer.inChannels, layer.kernel, layer.kernel]),
          TO_DEVICE_FILTER,
        ),
        b,
      ];
    }),
  );
}

export function convParamsToFlat(layout: WeightLayout, params: readonly tf.Tensor[]): Float32Array {
  const flat = new Float32Array(layout.count);
  layout.layers.forEach(({ layer, weightOffset, biasOffset }, l) => {
    const w = layer.kind === 'conv' ? tf.transpose(params[2 * l], TO_WIRE_FILTER) : params[2 * l].clone();
    flat.set(w.dataSync() as Float32Array, weightOffset);
    w.dispose();
    flat.set(params[2 * l + 1].dataSync() as Float32Array, biasOffset);
  });
  return flat;
}

const reluAfter = (layer: Layer | undefined) =>
  layer !== undefined && (layer.kind === 'conv' || (layer.kind === 'dense' && layer.relu));

/** Every layer's input (acts[0] = images [m, H, W, C]) and the logits [m, classes]. */
function forward(
  layout: WeightLayout,
  params: readonly tf.Tensor[],
  x: tf.Tensor2D,
): { acts: tf.Tensor[]; logits: tf.Tensor2D } {
  const { channels, height, width } = layout.model.input;
  const layers = layout.model.layers;
  const acts: tf.Tensor[] = [tf.transpose(tf.reshape(x, [-1, channels, height, width]), [0, 2, 3, 1])];
  let z: tf.Tensor = acts[0];
  let p = 0;
  layers.forEach((layer, i) => {
    const a = acts[i];
    if (layer.kind === 'conv')
      z = tf.add(tf.conv2d(a as tf.Tensor4D, params[2 * p] as tf.Tensor4D, 1, layer.padding), params[2 * p++ + 1]);
    else if (layer.kind === 'dense')
      z = tf.add(tf.matMul(a as tf.Tensor2D, params[2 * p] as tf.Tensor2D), params[2 * p++ + 1]);
    else if (layer.kind === 'avgpool') z = tf.avgPool(a as tf.Tensor4D, layer.size, layer.size, 'valid');
    else z = tf.reshape(tf.transpose(a, [0, 3, 1, 2]), [-1, layer.size]); // channels-first order, as onnx
    if (i + 1 < layers.length) acts.push(reluAfter(layer) ? tf.relu(z) : z);
  });
  return { acts, logits: z as tf.Tensor2D };
}

export function convLogitsT(layout: WeightLayout, params: readonly tf.Tensor[], x: tf.Tensor2D): tf.Tensor2D {
  return tf.transpose(forward(layout, params, x).logits);
}

/** dW of a convolution: conv of x [I, H, W, N] (batch as channels) by dz [H', W', N, O] gives [I, k, k, O]. */
function convWeightGradient(l: ConvLayer, a: tf.Tensor4D, dz: tf.Tensor4D): tf.Tensor4D {
  const byChannel = tf.conv2d(tf.transpose(a, [3, 1, 2, 0]), tf.transpose(dz, [1, 2, 0, 3]), 1, l.padding);
  return tf.transpose(byChannel, [1, 2, 0, 3]);
}

/** Average pooling's gradient: each output gradient spread evenly over its window. */
function poolInputGradient(l: PoolLayer, dy: tf.Tensor4D): tf.Tensor4D {
  const [m, h, w, c] = dy.shape;
  const spread = tf.tile(tf.reshape(dy, [m, h, 1, w, 1, c]), [1, 1, l.size, 1, l.size, 1]);
  return tf.mul(tf.reshape(spread, [m, l.inHeight, l.inWidth, c]), 1 / (l.size * l.size));
}

/** Cross-entropy summed over the rows and its gradients times `scale`, in device layout. */
export function convLossAndGradients(
  layout: WeightLayout,
  params: readonly tf.Tensor[],
  x: tf.Tensor2D,
  yT: tf.Tensor2D,
  scale: number,
): LossAndGradients {
  const { acts, logits } = forward(layout, params, x);
  const y = tf.transpose(yT);
  const logProb = tf.logSoftmax(logits);
  const lossSum = tf.neg(tf.sum(tf.mul(y, logProb))) as tf.Scalar;
  const layers = layout.model.layers;
  const grads: tf.Tensor[] = new Array(params.length);
  let p = layout.layers.length;
  let dz: tf.Tensor = tf.mul(tf.sub(tf.exp(logProb), y), scale);
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    let da: tf.Tensor | undefined;
    if (layer.kind === 'dense') {
      p--;
      grads[2 * p] = tf.matMul(acts[i] as tf.Tensor2D, dz as tf.Tensor2D, true, false);
      grads[2 * p + 1] = tf.sum(dz, 0);
      if (i > 0) da = tf.matMul(dz as tf.Tensor2D, params[2 * p] as tf.Tensor2D, false, true);
    } else if (layer.kind === 'conv') {
      p--;
      grads[2 * p] = convWeightGradient(layer, acts[i] as tf.Tensor4D, dz as tf.Tensor4D);
      grads[2 * p + 1] = tf.sum(dz, [0, 1, 2]);
      if (i > 0)
        da = tf.conv2dTranspose(
          dz as tf.Tensor4D,
          params[2 * p] as tf.Tensor4D,
          acts[i].shape as [number, number, number, number],
          1,
          layer.padding,
        );
    } else if (layer.kind === 'avgpool') da = poolInputGradient(layer, dz as tf.Tensor4D);
    else {
      const [, h, w, c] = acts[i].shape; // flattened channels first: back to [m, C, H, W], then channels last
      da = tf.transpose(tf.reshape(dz, [-1, c, h, w]), [0, 2, 3, 1]);
    }
    if (da === undefined) continue;
    dz = reluAfter(layers[i - 1]) ? tf.mul(da, tf.step(acts[i])) : da;
  }
  return { lossSum, grads };
}
