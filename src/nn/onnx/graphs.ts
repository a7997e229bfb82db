/**
 * The two ONNX graphs of the onnx engine, generated from LAYERS:
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
 * Weights use the wire layout of layout.ts: W_l is [inputs, outputs] row-major, b_l is [outputs],
 * so x·W + b is a plain Gemm and weights go in and out without any transpose.
 */
import { CLASS_COUNT, INPUT_SIZE, LAYERS } from '../layout.ts';
import { addLoop, OnnxType, encodeModel, float, GraphBuilder, valueInfo } from './builder.ts';

export const weightName = (l: number) => `W${l + 1}`;
export const biasName = (l: number) => `b${l + 1}`;
/** Graph input/output names of the parameters, in flat-layout order. */
export const PARAM_NAMES: string[] = LAYERS.flatMap((_, l) => [weightName(l), biasName(l)]);

function paramInfos(suffix = ''): ReturnType<typeof valueInfo>[] {
  return LAYERS.flatMap((layer, l) => [
    valueInfo(weightName(l) + suffix, OnnxType.float, [layer.inputs, layer.outputs]),
    valueInfo(biasName(l) + suffix, OnnxType.float, [layer.outputs]),
  ]);
}

/** x [m, 784] float in [0, 1] and one-hot y [m, 10] from uint8 rows `idx` of the batch. */
function gatherRows(g: GraphBuilder, images: string, labels: string, idx: string): { x: string; y: string } {
  const pixels = g.op('Cast', [g.op('Gather', [images, idx], { axis: 0 })], { to: OnnxType.float });
  const x = g.op('Div', [pixels, g.constant(OnnxType.float, [], [255])]);
  const y = oneHot(g, g.op('Gather', [labels, idx], { axis: 0 }));
  return { x, y };
}

/** One-hot [m, 10] float from uint8 labels [m] (Equal against 0..9; OneHot has no uint8 kernel). */
function oneHot(g: GraphBuilder, labels: string): string {
  const asInt = g.op('Cast', [labels], { to: OnnxType.int32 });
  const column = g.op('Unsqueeze', [asInt, g.constant(OnnxType.int64, [1], [1])]);
  const classes = g.constant(OnnxType.int32, [1, CLASS_COUNT], Array.from({ length: CLASS_COUNT }, (_, c) => c));
  return g.op('Cast', [g.op('Equal', [column, classes])], { to: OnnxType.float });
}

/** Forward pass; returns every layer's input activation (acts[0] = x) and the logits. */
function forward(g: GraphBuilder, x: string, params: string[]): { acts: string[]; logits: string } {
  const acts = [x];
  let z = x;
  LAYERS.forEach((_, l) => {
    z = g.op('Gemm', [acts[l], params[2 * l], params[2 * l + 1]]);
    if (l + 1 < LAYERS.length) acts.push(g.op('Relu', [z]));
  });
  return { acts, logits: z };
}

function scalarSum(g: GraphBuilder, t: string): string {
  return g.op('ReduceSum', [t], { keepdims: 0 });
}

export function trainingGraph(): Uint8Array {
  const body = new GraphBuilder('s_');
  const params = PARAM_NAMES.map((n) => `${n}_in`);
  // Row range of this step: order[starts[i] .. ends[i]).
  const axis0 = body.constant(OnnxType.int64, [1], [0]);
  const at = (t: string) => body.op('Unsqueeze', [body.op('Gather', [t, 'i'], { axis: 0 }), axis0]);
  const idx = body.op('Slice', ['order', at('starts'), at('ends'), axis0]);
  const { x, y } = gatherRows(body, 'images', 'labels', idx);
  const { acts, logits } = forward(body, x, params);
  const logProb = body.op('LogSoftmax', [logits], { axis: 1 });
  const m = body.op('Cast', [body.op('Shape', [idx])], { to: OnnxType.float }); // [1]
  const stepLoss = body.op('Div', [body.op('Neg', [scalarSum(body, body.op('Mul', [y, logProb]))]), body.op('Squeeze', [m, axis0])]);
  body.op('Add', ['loss_in', stepLoss], {}, 'loss_out');

  // d(mean loss)/d logits = (softmax − y)/m; lr folds in here so every gradient is already a step.
  let dz = body.op('Mul', [body.op('Sub', [body.op('Exp', [logProb]), y]), body.op('Div', ['lr', m])]);
  for (let l = LAYERS.length - 1; l >= 0; l--) {
    const [w, b] = [params[2 * l], params[2 * l + 1]];
    body.op('Gemm', [acts[l], dz, w], { transA: 1, alpha: float(-1), beta: float(1) }, `${PARAM_NAMES[2 * l]}_out`);
    body.op('Sub', [b, body.op('ReduceSum', [dz, axis0], { keepdims: 0 })], {}, `${PARAM_NAMES[2 * l + 1]}_out`);
    if (l > 0) {
      const da = body.op('Gemm', [dz, w], { transB: 1 }); // dz·Wᵀ with the weights before this step
      const active = body.op('Cast', [body.op('Greater', [acts[l], body.constant(OnnxType.float, [], [0])])], { to: OnnxType.float });
      dz = body.op('Mul', [da, active]);
    }
  }
  body.op('Identity', ['cond_in'], {}, 'cond_out');
  const bodyGraph = body.graph(
    'sgd_step',
    [valueInfo('i', OnnxType.int64, []), valueInfo('cond_in', OnnxType.bool, []), ...paramInfos('_in'), valueInfo('loss_in', OnnxType.float, [])],
    [valueInfo('cond_out', OnnxType.bool, []), ...paramInfos('_out'), valueInfo('loss_out', OnnxType.float, [])],
  );

  const main = new GraphBuilder('m_');
  const loss0 = main.constant(OnnxType.float, [], [0]);
  const always = main.constant(OnnxType.bool, [], [1]);
  addLoop(main, ['steps', always, ...PARAM_NAMES, loss0], [...PARAM_NAMES.map((n) => `${n}_new`), 'loss_sum'], bodyGraph);
  return encodeModel(
    main.graph(
      'local_training',
      [
        ...paramInfos(),
        valueInfo('images', OnnxType.uint8, ['n', INPUT_SIZE]),
        valueInfo('labels', OnnxType.uint8, ['n']),
        valueInfo('order', OnnxType.int64, ['rows']),
        valueInfo('starts', OnnxType.int64, ['steps_n']),
        valueInfo('ends', OnnxType.int64, ['steps_n']),
        valueInfo('steps', OnnxType.int64, []),
        valueInfo('lr', OnnxType.float, []),
      ],
      [...paramInfos('_new'), valueInfo('loss_sum', OnnxType.float, [])],
    ),
  );
}

export function evaluationGraph(): Uint8Array {
  const g = new GraphBuilder('e_');
  const pixels = g.op('Cast', ['images'], { to: OnnxType.float });
  const x = g.op('Div', [pixels, g.constant(OnnxType.float, [], [255])]);
  const y = oneHot(g, 'labels');
  const { logits } = forward(g, x, PARAM_NAMES);
  const logProb = g.op('LogSoftmax', [logits], { axis: 1 });
  g.op('Neg', [scalarSum(g, g.op('Mul', [y, logProb]))], {}, 'loss_sum');
  const predicted = g.op('ArgMax', [logits], { axis: 1, keepdims: 0 });
  const truth = g.op('Cast', ['labels'], { to: OnnxType.int64 });
  g.op('ReduceSum', [g.op('Cast', [g.op('Equal', [predicted, truth])], { to: OnnxType.int64 })], { keepdims: 0 }, 'correct');
  return encodeModel(
    g.graph(
      'evaluation',
      [...paramInfos(), valueInfo('images', OnnxType.uint8, ['n', INPUT_SIZE]), valueInfo('labels', OnnxType.uint8, ['n'])],
      [valueInfo('loss_sum', OnnxType.float, []), valueInfo('correct', OnnxType.int64, [])],
    ),
  );
}
