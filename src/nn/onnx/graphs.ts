/**
 * The two ONNX graphs of the onnx engine, generated from the model's weight layout (layout.ts):
 *
 * training — a Loop over SGD steps. Step i trains on rows order[starts[i] .. ends[i]) of the
 *   batch: gather those images (uint8, scaled to [0, 1] in the graph) and labels, forward
 *   through the ReLU MLP, softmax cross-entropy backward, and the SGD update W ← W − lr/m·aᵀ·dz
 *   as loop-carried weights (one Gemm per weight matrix: alpha = −1, beta = 1, C = W).
 *   The mini-batch schedule comes from outside, so a run can cover any slice of the local
 *   training and the order stays the one src/nn/schedule.ts draws from the seed.
 * evaluation — forward pass of a set; outputs the number of correct argmax predictions and the
 *   summed cross-entropy.
 *
 * Weights use the wire layout of layout.ts: dense W_l is [inputs, outputs] row-major (x·W + b is a
 * plain Gemm), conv W_l is [out, in, k, k] as Conv reads it, b_l is [outputs]; weights go in and
 * out without any transpose.
 */
import type { WeightLayout } from '../layout.ts';
import { convOutput, inputSize, type ConvLayer, type Layer, type PoolLayer } from '../model-spec.ts';
import { addLoop, OnnxType, encodeModel, float, GraphBuilder, valueInfo } from './builder.ts';

export const weightName = (l: number) => `W${l + 1}`;
export const biasName = (l: number) => `b${l + 1}`;
/** Graph input/output names of the parameters, in flat-layout order. */
export const paramNames = (layout: WeightLayout): string[] =>
  layout.layers.flatMap((_, l) => [weightName(l), biasName(l)]);

/** Shape of parameter layer l's weights as the graphs take them. */
export function weightShape(layout: WeightLayout, l: number): number[] {
  const { layer, inputs, outputs } = layout.layers[l];
  return layer.kind === 'conv' ? [layer.outChannels, layer.inChannels, layer.kernel, layer.kernel] : [inputs, outputs];
}

function paramInfos(layout: WeightLayout, suffix = ''): ReturnType<typeof valueInfo>[] {
  return layout.layers.flatMap((slice, l) => [
    valueInfo(weightName(l) + suffix, OnnxType.float, weightShape(layout, l)),
    valueInfo(biasName(l) + suffix, OnnxType.float, [slice.outputs]),
  ]);
}

/** x [m, pixels] float in [0, 1] and one-hot y [m, classes] from uint8 rows `idx` of the batch. */
function gatherRows(
  g: GraphBuilder,
  images: string,
  labels: string,
  idx: string,
  classes: number,
): { x: string; y: string } {
  const pixels = g.op('Cast', [g.op('Gather', [images, idx], { axis: 0 })], { to: OnnxType.float });
  const x = g.op('Div', [pixels, g.constant(OnnxType.float, [], [255])]);
  const y = oneHot(g, g.op('Gather', [labels, idx], { axis: 0 }), classes);
  return { x, y };
}

/** One-hot [m, classes] float from uint8 labels [m] (Equal against 0..classes−1; OneHot has no uint8 kernel). */
function oneHot(g: GraphBuilder, labels: string, classes: number): string {
  const asInt = g.op('Cast', [labels], { to: OnnxType.int32 });
  const column = g.op('Unsqueeze', [asInt, g.constant(OnnxType.int64, [1], [1])]);
  const labelValues = g.constant(
    OnnxType.int32,
    [1, classes],
    Array.from({ length: classes }, (_, c) => c),
  );
  return g.op('Cast', [g.op('Equal', [column, labelValues])], { to: OnnxType.float });
}

const convAttrs = (l: ConvLayer) => ({ pads: [l.padding, l.padding, l.padding, l.padding], strides: [1, 1] });
const reluAfter = (layer: Layer | undefined) =>
  layer !== undefined && (layer.kind === 'conv' || (layer.kind === 'dense' && layer.relu));

/** Rows [m, pixels] as images [m, C, H, W] when the network starts with a convolution. */
function asNetworkInput(g: GraphBuilder, layout: WeightLayout, x: string): string {
  if (layout.model.layers[0].kind !== 'conv') return x;
  const { channels, height, width } = layout.model.input;
  return g.op('Reshape', [x, g.constant(OnnxType.int64, [4], [-1, channels, height, width])]);
}

/** Forward pass; returns every layer's input activation (acts[0] = x) and the logits. */
function forward(
  g: GraphBuilder,
  layout: WeightLayout,
  x: string,
  params: string[],
): { acts: string[]; logits: string } {
  const layers = layout.model.layers;
  const acts = [asNetworkInput(g, layout, x)];
  let z = acts[0];
  let p = 0; // index of the next parameter layer
  layers.forEach((layer, i) => {
    const input = acts[i];
    if (layer.kind === 'dense') z = g.op('Gemm', [input, params[2 * p], params[2 * p++ + 1]]);
    else if (layer.kind === 'conv') z = g.op('Conv', [input, params[2 * p], params[2 * p++ + 1]], convAttrs(layer));
    else if (layer.kind === 'avgpool')
      z = g.op('AveragePool', [input], { kernel_shape: [layer.size, layer.size], strides: [layer.size, layer.size] });
    else z = g.op('Flatten', [input], { axis: 1 });
    if (i + 1 < layers.length) acts.push(reluAfter(layer) ? g.op('Relu', [z]) : z);
  });
  return { acts, logits: z };
}

function scalarSum(g: GraphBuilder, t: string): string {
  return g.op('ReduceSum', [t], { keepdims: 0 });
}

/**
 * Gradient of average pooling: each output gradient spread evenly over its size×size window.
 * One MatMul of the gradient's rows [N·C·h, w] with a [w, s·W] spreading matrix: output row
 * (n, c, y) holds pixel rows s·y … s·y+s−1 side by side, which is [N, C, H, W] in memory (an Expand
 * that repeats single elements is far slower).
 */
function poolBackward(g: GraphBuilder, l: PoolLayer, dy: string): string {
  const [w, s, width] = [l.inWidth / l.size, l.size, l.inWidth];
  const spread = Array.from({ length: w * s * width }, (_, k) =>
    Math.floor(k / (s * width)) === Math.floor((k % width) / s) ? 1 / (s * s) : 0,
  );
  const rows = g.op('Reshape', [dy, g.constant(OnnxType.int64, [2], [-1, w])]);
  const wide = g.op('MatMul', [rows, g.constant(OnnxType.float, [w, s * width], spread)]);
  return g.op('Reshape', [wide, g.constant(OnnxType.int64, [4], [-1, l.channels, l.inHeight, width])]);
}

/**
 * Patches of a convolution's input as [I·k·k, H'·W'·N]: row (i, u, v), column (h, w, n) holds
 * x[n, i, h+u, w+v] of the padded input. One Gather of whole batch columns (the input laid out
 * [I, H·W, N]) at precomputed positions.
 */
function patches(g: GraphBuilder, l: ConvLayer, x: string): string {
  const p = l.padding;
  const padded = p > 0 ? g.op('Pad', [x, g.constant(OnnxType.int64, [8], [0, 0, p, p, 0, 0, p, p])]) : x;
  const [hp, wp] = [l.inHeight + 2 * p, l.inWidth + 2 * p];
  const columns = g.op('Reshape', [
    g.op('Transpose', [padded], { perm: [1, 2, 3, 0] }),
    g.constant(OnnxType.int64, [3], [l.inChannels, hp * wp, -1]),
  ]);
  const { height, width } = convOutput(l);
  const k = l.kernel;
  const at = Array.from({ length: k * k * height * width }, (_, j) => {
    const [uv, hw] = [Math.floor(j / (height * width)), j % (height * width)];
    return (Math.floor(hw / width) + Math.floor(uv / k)) * wp + (hw % width) + (uv % k);
  });
  const gathered = g.op('Gather', [columns, g.constant(OnnxType.int64, [k * k, height * width], at)], { axis: 1 });
  return g.op('Reshape', [gathered, g.constant(OnnxType.int64, [2], [l.inChannels * k * k, -1])]);
}

/**
 * One convolution's SGD update and, unless it is the first layer, its input gradient.
 * W ← W − dz·patchesᵀ: one Gemm over output positions and batch (dz laid out [O, H'·W'·N]).
 */
function convBackward(
  g: GraphBuilder,
  l: ConvLayer,
  x: string,
  dz: string,
  w: string,
  b: string,
  outW: string,
  outB: string,
  first: boolean,
): string | undefined {
  const flat = (t: string, rows: number) => g.op('Reshape', [t, g.constant(OnnxType.int64, [2], [rows, -1])]);
  const dzRows = flat(g.op('Transpose', [dz], { perm: [1, 2, 3, 0] }), l.outChannels);
  const step = g.op('Gemm', [dzRows, patches(g, l, x), flat(w, l.outChannels)], {
    transB: 1,
    alpha: float(-1),
    beta: float(1),
  });
  g.op('Reshape', [step, g.constant(OnnxType.int64, [4], [l.outChannels, l.inChannels, l.kernel, l.kernel])], {}, outW);
  g.op('Sub', [b, g.op('ReduceSum', [dz, g.constant(OnnxType.int64, [3], [0, 2, 3])], { keepdims: 0 })], {}, outB);
  return first ? undefined : g.op('ConvTranspose', [dz, w], convAttrs(l));
}

/** Backward pass from dz = d(step loss)/d logits (already times lr): writes every `${name}_out`. */
function backward(
  g: GraphBuilder,
  layout: WeightLayout,
  acts: string[],
  logitsGrad: string,
  params: string[],
  axis0: string,
): void {
  const names = paramNames(layout);
  const layers = layout.model.layers;
  let p = layout.layers.length;
  let dz = logitsGrad;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    let da: string | undefined;
    if (layer.kind === 'dense') {
      const [w, b] = [params[2 * --p], params[2 * p + 1]];
      g.op('Gemm', [acts[i], dz, w], { transA: 1, alpha: float(-1), beta: float(1) }, `${names[2 * p]}_out`);
      g.op('Sub', [b, g.op('ReduceSum', [dz, axis0], { keepdims: 0 })], {}, `${names[2 * p + 1]}_out`);
      if (i > 0) da = g.op('Gemm', [dz, w], { transB: 1 }); // dz·Wᵀ with the weights before this step
    } else if (layer.kind === 'conv') {
      p--;
      da = convBackward(
        g,
        layer,
        acts[i],
        dz,
        params[2 * p],
        params[2 * p + 1],
        `${names[2 * p]}_out`,
        `${names[2 * p + 1]}_out`,
        i === 0,
      );
    } else if (layer.kind === 'avgpool') da = poolBackward(g, layer, dz);
    else da = g.op('Reshape', [dz, g.constant(OnnxType.int64, [4], [-1, ...flattenedShape(layers, i)])]);
    if (da === undefined) continue;
    // ReLU'(z) is 1 where the activation is positive.
    const active = reluAfter(layers[i - 1])
      ? g.op('Cast', [g.op('Greater', [acts[i], g.constant(OnnxType.float, [], [0])])], { to: OnnxType.float })
      : undefined;
    dz = active ? g.op('Mul', [da, active]) : da;
  }
}

/** [C, H, W] of the activation a flatten layer at index i reads. */
function flattenedShape(layers: Layer[], i: number): number[] {
  const before = layers[i - 1];
  if (before?.kind === 'avgpool') return [before.channels, before.inHeight / before.size, before.inWidth / before.size];
  throw new RangeError('flatten must follow a pooling layer');
}

export function trainingGraph(layout: WeightLayout): Uint8Array {
  const names = paramNames(layout);
  const body = new GraphBuilder('s_');
  const params = names.map((n) => `${n}_in`);
  // Row range of this step: order[starts[i] .. ends[i]).
  const axis0 = body.constant(OnnxType.int64, [1], [0]);
  const at = (t: string) => body.op('Unsqueeze', [body.op('Gather', [t, 'i'], { axis: 0 }), axis0]);
  const idx = body.op('Slice', ['order', at('starts'), at('ends'), axis0]);
  const { x, y } = gatherRows(body, 'images', 'labels', idx, layout.model.classes);
  const { acts, logits } = forward(body, layout, x, params);
  const logProb = body.op('LogSoftmax', [logits], { axis: 1 });
  const m = body.op('Cast', [body.op('Shape', [idx])], { to: OnnxType.float }); // [1]
  const stepLoss = body.op('Div', [
    body.op('Neg', [scalarSum(body, body.op('Mul', [y, logProb]))]),
    body.op('Squeeze', [m, axis0]),
  ]);
  body.op('Add', ['loss_in', stepLoss], {}, 'loss_out');

  // d(mean loss)/d logits = (softmax − y)/m; lr folds in here so every gradient is already a step.
  const dz = body.op('Mul', [body.op('Sub', [body.op('Exp', [logProb]), y]), body.op('Div', ['lr', m])]);
  backward(body, layout, acts, dz, params, axis0);
  body.op('Identity', ['cond_in'], {}, 'cond_out');
  const bodyGraph = body.graph(
    'sgd_step',
    [
      valueInfo('i', OnnxType.int64, []),
      valueInfo('cond_in', OnnxType.bool, []),
      ...paramInfos(layout, '_in'),
      valueInfo('loss_in', OnnxType.float, []),
    ],
    [
      valueInfo('cond_out', OnnxType.bool, []),
      ...paramInfos(layout, '_out'),
      valueInfo('loss_out', OnnxType.float, []),
    ],
  );

  const main = new GraphBuilder('m_');
  const loss0 = main.constant(OnnxType.float, [], [0]);
  const always = main.constant(OnnxType.bool, [], [1]);
  addLoop(main, ['steps', always, ...names, loss0], [...names.map((n) => `${n}_new`), 'loss_sum'], bodyGraph);
  return encodeModel(
    main.graph(
      'local_training',
      [
        ...paramInfos(layout),
        valueInfo('images', OnnxType.uint8, ['n', inputSize(layout.model.input)]),
        valueInfo('labels', OnnxType.uint8, ['n']),
        valueInfo('order', OnnxType.int64, ['rows']),
        valueInfo('starts', OnnxType.int64, ['steps_n']),
        valueInfo('ends', OnnxType.int64, ['steps_n']),
        valueInfo('steps', OnnxType.int64, []),
        valueInfo('lr', OnnxType.float, []),
      ],
      [...paramInfos(layout, '_new'), valueInfo('loss_sum', OnnxType.float, [])],
    ),
  );
}

export function evaluationGraph(layout: WeightLayout): Uint8Array {
  const g = new GraphBuilder('e_');
  const pixels = g.op('Cast', ['images'], { to: OnnxType.float });
  const x = g.op('Div', [pixels, g.constant(OnnxType.float, [], [255])]);
  const y = oneHot(g, 'labels', layout.model.classes);
  const { logits } = forward(g, layout, x, paramNames(layout));
  const logProb = g.op('LogSoftmax', [logits], { axis: 1 });
  g.op('Neg', [scalarSum(g, g.op('Mul', [y, logProb]))], {}, 'loss_sum');
  const predicted = g.op('ArgMax', [logits], { axis: 1, keepdims: 0 });
  const truth = g.op('Cast', ['labels'], { to: OnnxType.int64 });
  g.op(
    'ReduceSum',
    [g.op('Cast', [g.op('Equal', [predicted, truth])], { to: OnnxType.int64 })],
    { keepdims: 0 },
    'correct',
  );
  return encodeModel(
    g.graph(
      'evaluation',
      [
        ...paramInfos(layout),
        valueInfo('images', OnnxType.uint8, ['n', inputSize(layout.model.input)]),
        valueInfo('labels', OnnxType.uint8, ['n']),
      ],
      [valueInfo('loss_sum', OnnxType.float, []), valueInfo('correct', OnnxType.int64, [])],
    ),
  );
}
