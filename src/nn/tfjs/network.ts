/**
 * What the tfjs engine needs of a network: its device parameters to and from the flat wire layout,
 * logitsᵀ for evaluation, and the loss with its gradients for SGD. Dense-only networks keep the
 * feature-major MLP of backprop.ts; networks with convolutions use convnet.ts.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { assertWeightLength, type WeightLayout } from '../layout.ts';
import { isDenseOnly } from '../model-spec.ts';
import { forwardLogitsT, lossAndGradients, type LossAndGradients } from './backprop.ts';
import { convLogitsT, convLossAndGradients, convParamsFromFlat, convParamsToFlat } from './convnet.ts';
import { paramsFromFlat, paramsToFlat, type DeviceParams } from './params.ts';

export interface TfjsNetwork {
  layout: WeightLayout;
  fromFlat(weights: Float32Array): DeviceParams;
  toFlat(params: DeviceParams): Float32Array;
  /** logitsᵀ [classes, m] of pixels x [m, pixels per sample] in [0, 1] */
  logitsT(params: DeviceParams, x: tf.Tensor2D): tf.Tensor2D;
  /** Σ over the rows of the cross-entropy, and its gradients times `scale`, in device layout */
  lossAndGradients(params: DeviceParams, x: tf.Tensor2D, yT: tf.Tensor2D, scale: number): LossAndGradients;
}

export function tfjsNetwork(layout: WeightLayout): TfjsNetwork {
  if (isDenseOnly(layout.model))
    return {
      layout,
      fromFlat: (weights) => paramsFromFlat(weights, layout),
      toFlat: (params) => paramsToFlat(params, layout),
      logitsT: forwardLogitsT,
      lossAndGradients,
    };
  return {
    layout,
    fromFlat: (weights) => (assertWeightLength(weights, 'weights', layout), convParamsFromFlat(layout, weights)),
    toFlat: (params) => convParamsToFlat(layout, params),
    logitsT: (params, x) => convLogitsT(layout, params, x),
    lossAndGradients: (params, x, yT, scale) => convLossAndGradients(layout, params, x, yT, scale),
  };
}
