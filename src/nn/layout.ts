/**
 * The network's shape and the flat weight layout that travels on the wire and that FedAvg
 * averages: W1 (784x300 row-major, [in][out]), b1, W2, b2, W3, b3, W4, b4.
 */

import { LABEL_COUNT, PIXELS_PER_IMAGE } from '../data/format.ts';

/** The network reads one MNIST image and scores its ten digits. */
export const INPUT_SIZE = PIXELS_PER_IMAGE;
export const CLASS_COUNT = LABEL_COUNT;
export const LAYER_SIZES = [INPUT_SIZE, 300, 124, 60, CLASS_COUNT] as const;

export interface LayerSlice {
  /** fan-in (rows of W) */
  inputs: number;
  /** fan-out (columns of W, length of b) */
  outputs: number;
  /** offset of W in the flat array (elements) */
  weightOffset: number;
  /** offset of b in the flat array (elements) */
  biasOffset: number;
}

function buildLayout(): { layers: LayerSlice[]; count: number } {
  const layers: LayerSlice[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < LAYER_SIZES.length; l++) {
    const inputs = LAYER_SIZES[l];
    const outputs = LAYER_SIZES[l + 1];
    layers.push({ inputs, outputs, weightOffset: offset, biasOffset: offset + inputs * outputs });
    offset += inputs * outputs + outputs;
  }
  return { layers, count: offset };
}

const layout = buildLayout();

/** Where each layer's W and b live in the flat array. */
export const LAYERS: readonly LayerSlice[] = layout.layers;

/** Total number of parameters: 280934 for [784, 300, 124, 60, 10]. */
export const PARAM_COUNT: number = layout.count;

export function assertWeightLength(weights: Float32Array, what = 'weights'): void {
  if (!(weights instanceof Float32Array))
    throw new TypeError(`${what} must be a Float32Array, got ${Object.prototype.toString.call(weights)}`);
  if (weights.length !== PARAM_COUNT)
    throw new RangeError(`${what} has ${weights.length} values, expected ${PARAM_COUNT} (network ${LAYER_SIZES.join('-')})`);
}
