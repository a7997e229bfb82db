/**
 * The flat weight layout that travels on the wire and that FedAvg averages, derived from the model
 * spec: for each layer with parameters, in order, its weights then its bias. Dense W is
 * [inputs][outputs] row-major; conv W is [out][in][k][k] (ONNX's OIHW).
 */
import {
  DEFAULT_MODEL_NAME,
  fans,
  paramLayers,
  parseModelSpec,
  type InputShape,
  type ModelSpec,
  type ParamLayer,
} from './model-spec.ts';

export interface LayerSlice {
  /** fan-in (rows of W for a dense layer; in·k·k for a convolution) */
  inputs: number;
  /** fan-out (columns of W, length of b; output channels of a convolution) */
  outputs: number;
  /** offset of W in the flat array (elements) */
  weightOffset: number;
  /** offset of b in the flat array (elements) */
  biasOffset: number;
  /** the layer these parameters belong to */
  layer: ParamLayer;
}

export interface WeightLayout {
  model: ModelSpec;
  layers: LayerSlice[];
  /** total number of parameters, S_m */
  count: number;
}

export function weightLayout(model: ModelSpec): WeightLayout {
  const layers: LayerSlice[] = [];
  let offset = 0;
  for (const layer of paramLayers(model)) {
    const { fanIn: inputs, outputs } = fans(layer);
    layers.push({ inputs, outputs, weightOffset: offset, biasOffset: offset + inputs * outputs, layer });
    offset += inputs * outputs + outputs;
  }
  return { model, layers, count: offset };
}

/** The default model (the paper's MLP) and its layout. */
export const DEFAULT_MODEL: ModelSpec = parseModelSpec(DEFAULT_MODEL_NAME);
export const DEFAULT_LAYOUT: WeightLayout = weightLayout(DEFAULT_MODEL);

/** The layout of a named model (absent: the default; InputError when the name is bad). */
export function layoutOf(model?: string, input?: InputShape): WeightLayout {
  return model === undefined && input === undefined
    ? DEFAULT_LAYOUT
    : weightLayout(parseModelSpec(model ?? DEFAULT_MODEL_NAME, input));
}

/** Where each layer's W and b live in the default model's flat array. */
export const LAYERS: readonly LayerSlice[] = DEFAULT_LAYOUT.layers;

/** Parameters of the default model (280934 for the paper's MLP). */
export const PARAM_COUNT: number = DEFAULT_LAYOUT.count;

export function assertWeightLength(
  weights: Float32Array,
  what = 'weights',
  layout: WeightLayout = DEFAULT_LAYOUT,
): void {
  if (!(weights instanceof Float32Array))
    throw new TypeError(`${what} must be a Float32Array, got ${Object.prototype.toString.call(weights)}`);
  if (weights.length !== layout.count)
    throw new RangeError(`${what} has ${weights.length} values, expected ${layout.count} (model ${layout.model.name})`);
}
