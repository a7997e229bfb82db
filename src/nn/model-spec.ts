/**
 * The network every learner trains, as data: `mlp:IN-H1-…-OUT` (a dense ReLU stack) or `lenet5`.
 * From the spec follow the layers both engines build, the parameter count S_m and the compute per
 * sample C_m = 4 × (forward multiply-adds + forward bias additions), the rule that gives the paper's
 * 1,123,736 for its MLP (pooling and ReLU are not counted, as in the paper). Pure, no I/O.
 */
import { InputError } from '../errors.ts';
import { IMAGE_COLS, IMAGE_ROWS, LABEL_COUNT } from '../data/format.ts';

/** Channels-first image shape of one sample. */
export interface InputShape {
  channels: number;
  height: number;
  width: number;
}

/** x·W + b with W [inputs, outputs]; ReLU after every dense layer but the last. */
export interface DenseLayer {
  kind: 'dense';
  inputs: number;
  outputs: number;
  relu: boolean;
}

/** Square kernel, stride 1, zero padding on every side, then ReLU; weights [out, in, k, k]. */
export interface ConvLayer {
  kind: 'conv';
  inChannels: number;
  outChannels: number;
  kernel: number;
  padding: number;
  /** input height and width (the output is height + 2·padding − kernel + 1) */
  inHeight: number;
  inWidth: number;
}

/** Average pooling, window = stride = size (the original LeNet's subsampling; not counted in C_m). */
export interface PoolLayer {
  kind: 'avgpool';
  size: number;
  channels: number;
  /** input height and width, both multiples of size */
  inHeight: number;
  inWidth: number;
}

/** [m, C, H, W] → [m, C·H·W] in channels-first order. */
export interface FlattenLayer {
  kind: 'flatten';
  size: number;
}

export type Layer = DenseLayer | ConvLayer | PoolLayer | FlattenLayer;

export interface ModelSpec {
  /** canonical text, e.g. "mlp:784-300-124-60-10" or "lenet5": recorded in config.json, sent to learners */
  name: string;
  input: InputShape;
  classes: number;
  layers: Layer[];
}

/** The MNIST image the paper trains on. */
export const MNIST_SHAPE: InputShape = Object.freeze({ channels: 1, height: IMAGE_ROWS, width: IMAGE_COLS });

/** The paper's network (§V-A): the default. */
export const DEFAULT_MODEL_NAME = 'mlp:784-300-124-60-10';

/** The default for another sample shape: the paper's hidden layers on that input (mlp:3072-300-124-60-10 on CIFAR-10). */
export const defaultModelName = (input: InputShape, classes = LABEL_COUNT) =>
  `mlp:${inputSize(input)}-300-124-60-${classes}`;

export const MODEL_FORMS = `mlp:IN-H1-…-OUT (dense ReLU stack, e.g. ${DEFAULT_MODEL_NAME}) | lenet5`;

/** Largest model accepted: bounds the frames a learner accepts before it knows the run's model (16 MB of float32). */
export const MAX_MODEL_PARAMETERS = 4_000_000;

/** Pixels per sample, the length of one image row in an ImageSet. */
export const inputSize = (s: InputShape) => s.channels * s.height * s.width;

const fail = (text: string, why: string): never => {
  throw new InputError(`bad model "${text}": ${why}; valid forms: ${MODEL_FORMS}`);
};

/** Parses a spec for samples of shape `input` and `classes` labels; InputError (one line listing the forms) when bad. */
export function parseModelSpec(text: string, input: InputShape = MNIST_SHAPE, classes = LABEL_COUNT): ModelSpec {
  const trimmed = String(text).trim();
  if (trimmed === 'lenet5') return lenet5(input, classes);
  if (trimmed.startsWith('mlp:')) return mlp(trimmed, input, classes);
  return fail(trimmed, 'unknown model');
}

function mlp(text: string, input: InputShape, classes: number): ModelSpec {
  const parts = text.slice('mlp:'.length).split('-');
  if (parts.length < 3) fail(text, 'an MLP needs an input size, at least one hidden layer and an output size');
  const sizes = parts.map((p) => (/^[0-9]+$/.test(p) ? Number(p) : NaN));
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) fail(text, 'layer sizes must be positive integers');
  if (sizes[0] !== inputSize(input))
    fail(
      text,
      `the first size must be the input size ${inputSize(input)} (the data's ${input.channels}×${input.height}×${input.width} samples)`,
    );
  if (sizes[sizes.length - 1] !== classes) fail(text, `the last size must be the class count ${classes}`);
  let count = 0;
  for (let l = 0; l + 1 < sizes.length; l++) count += sizes[l] * sizes[l + 1] + sizes[l + 1];
  if (count > MAX_MODEL_PARAMETERS) fail(text, `${count} parameters exceed the limit of ${MAX_MODEL_PARAMETERS}`);
  const layers: Layer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++)
    layers.push({ kind: 'dense', inputs: sizes[l], outputs: sizes[l + 1], relu: l + 2 < sizes.length });
  return { name: `mlp:${sizes.join('-')}`, input: { ...input }, classes, layers };
}

/**
 * LeNet-5: conv 6@5×5 ReLU, 2×2 average pool, conv 16@5×5 ReLU, 2×2 average pool, dense 120, 84, classes.
 * The first convolution pads so that its output is 28×28 whenever it can (padding 2 on 28×28 MNIST,
 * 0 on 32×32 CIFAR-10, as the original LeNet), so the dense part stays 400-120-84-10; on any other
 * shape the flatten size follows the shape.
 */
function lenet5(input: InputShape, classes: number): ModelSpec {
  const padding = Math.max(0, Math.floor((28 - Math.min(input.height, input.width) + 4) / 2));
  const layers: Layer[] = [];
  let [c, h, w] = [input.channels, input.height, input.width];
  const conv = (out: number, pad: number) => {
    layers.push({ kind: 'conv', inChannels: c, outChannels: out, kernel: 5, padding: pad, inHeight: h, inWidth: w });
    [c, h, w] = [out, h + 2 * pad - 4, w + 2 * pad - 4];
  };
  const pool = () => {
    if (h % 2 !== 0 || w % 2 !== 0 || h < 2 || w < 2)
      fail('lenet5', `a ${input.channels}×${input.height}×${input.width} input does not pool evenly`);
    layers.push({ kind: 'avgpool', size: 2, channels: c, inHeight: h, inWidth: w });
    [h, w] = [h / 2, w / 2];
  };
  conv(6, padding);
  pool();
  if (h < 5 || w < 5) fail('lenet5', `a ${input.height}×${input.width} input is too small`);
  conv(16, 0);
  pool();
  layers.push({ kind: 'flatten', size: c * h * w });
  layers.push({ kind: 'dense', inputs: c * h * w, outputs: 120, relu: true });
  layers.push({ kind: 'dense', inputs: 120, outputs: 84, relu: true });
  layers.push({ kind: 'dense', inputs: 84, outputs: classes, relu: false });
  return { name: 'lenet5', input: { ...input }, classes, layers };
}

/** Layers that carry weights and a bias, in the order of the flat layout. */
export type ParamLayer = DenseLayer | ConvLayer;
export const paramLayers = (spec: ModelSpec): ParamLayer[] =>
  spec.layers.filter((l): l is ParamLayer => l.kind === 'dense' || l.kind === 'conv');

/** Output height and width of a convolution. */
export const convOutput = (l: ConvLayer) => ({
  height: l.inHeight + 2 * l.padding - l.kernel + 1,
  width: l.inWidth + 2 * l.padding - l.kernel + 1,
});

/** Fan-in (weights per output unit) and fan-out (bias length) of a layer with parameters. */
export function fans(l: ParamLayer): { fanIn: number; outputs: number } {
  return l.kind === 'dense'
    ? { fanIn: l.inputs, outputs: l.outputs }
    : { fanIn: l.inChannels * l.kernel * l.kernel, outputs: l.outChannels };
}

/** S_m: weights and biases. */
export function parameterCount(spec: ModelSpec): number {
  return paramLayers(spec).reduce((sum, l) => {
    const { fanIn, outputs } = fans(l);
    return sum + fanIn * outputs + outputs;
  }, 0);
}

/** Forward multiply-adds and bias additions of one sample (pooling and ReLU not counted). */
export function forwardOperations(spec: ModelSpec): { multiplyAdds: number; biasAdds: number } {
  let multiplyAdds = 0;
  let biasAdds = 0;
  for (const l of paramLayers(spec)) {
    const { fanIn, outputs } = fans(l);
    const positions = l.kind === 'dense' ? 1 : convOutput(l).height * convOutput(l).width;
    multiplyAdds += positions * outputs * fanIn;
    biasAdds += positions * outputs;
  }
  return { multiplyAdds, biasAdds };
}

/** C_m = 4 × (forward multiply-adds + bias additions): FLOPs per sample and local iteration. */
export function flopsPerSample(spec: ModelSpec): number {
  const { multiplyAdds, biasAdds } = forwardOperations(spec);
  return 4 * (multiplyAdds + biasAdds);
}

/** True when the network has no convolution (the engines keep their dense-only fast path for it). */
export const isDenseOnly = (spec: ModelSpec) => spec.layers.every((l) => l.kind === 'dense' || l.kind === 'flatten');
