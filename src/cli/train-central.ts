/**
 * `npm run train:central`: train the --model centrally on MNIST with the same engine the learners
 * use (one epoch per call) and print test accuracy after every epoch. This is the check that
 * the engine learns: ≥95 % after one epoch, ≥97 % after five (lr 0.1, minibatch 64).
 */
import { InputError } from '../errors.ts';
import { parseOrHelp, runCli, defineCommand } from './args.ts';
import { modelFromArgs } from './param-flags.ts';
import { flagsFor } from './settings.ts';
import { datasetShape, loadDataset, trainSamplesFor } from '../data/datasets.ts';
import { firstN } from '../data/mnist.ts';
import { createEngine, initWeights, weightLayout } from '../nn/mlp.ts';
import { deriveSeed } from '../util/rng.ts';

const SPEC = defineCommand({
  command: 'npm run train:central --',
  summary:
    "Train a network (--model; default the paper's MLP) centrally on MNIST or CIFAR-10 (--dataset; plain SGD) and print test accuracy after each epoch.",
  flags: flagsFor('train-central'),
  examples: [
    'npm run train:central',
    'npm run train:central -- --epochs 1 --train-samples 10000',
    'npm run train:central -- --engine tfjs --epochs 1',
    'npm run train:central -- --model lenet5 --epochs 1',
  ],
});

runCli(async () => {
  const args = parseOrHelp(process.argv.slice(2), SPEC);
  const started = performance.now();
  const model = modelFromArgs(args);
  const choice = { engine: args.engine, backend: args.backend, model: model.name, input: datasetShape(args.dataset) };
  const engine = await createEngine(choice, (w) => process.stderr.write(`warning: ${w}\n`));
  const mnist = await loadDataset(args.dataset, args.dataDir);
  const trainSamples = trainSamplesFor(args);
  if (trainSamples > mnist.train.count || args.testSamples > mnist.test.count)
    throw new InputError(
      `--train-samples/--test-samples exceed the data in ${mnist.source} (${mnist.train.count} train, ${mnist.test.count} test)`,
    );
  const train = firstN(mnist.train, trainSamples);
  const test = firstN(mnist.test, args.testSamples);
  const say = (line: string) => process.stdout.write(line + '\n');
  if (!args.json)
    say(
      `model ${model.name} · engine ${engine.name} · ${args.dataset === 'cifar10' ? 'CIFAR-10' : 'MNIST'} from ${mnist.source} · ${train.count} train / ${test.count} test · ` +
        `minibatch ${args.minibatch} · lr ${args.lr} · seed ${args.seed}`,
    );

  let weights = initWeights(args.seed, weightLayout(model));
  for (let epoch = 1; epoch <= args.epochs; epoch++) {
    const t0 = performance.now();
    const result = await engine.train(weights, train, {
      iterations: 1,
      minibatch: args.minibatch,
      lr: args.lr,
      mode: 'epoch',
      seed: deriveSeed(args.seed, 'central-epoch', epoch),
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    weights = result.weights;
    const ev = await engine.evaluate(weights, test);
    const elapsedSeconds = (performance.now() - started) / 1000;
    if (args.json)
      say(
        JSON.stringify({
          engine: engine.name,
          epoch,
          train_loss: result.loss,
          test_accuracy: ev.accuracy,
          test_loss: ev.loss,
          epoch_train_s: trainSeconds,
          samples_per_s: train.count / trainSeconds,
          elapsed_s: elapsedSeconds,
        }),
      );
    else
      say(
        `epoch ${epoch}: train loss ${result.loss.toFixed(4)}  test accuracy ${(100 * ev.accuracy).toFixed(2)}%  ` +
          `test loss ${ev.loss.toFixed(4)}  training ${trainSeconds.toFixed(1)} s (${(train.count / trainSeconds).toFixed(0)} samples/s)  ` +
          `elapsed ${elapsedSeconds.toFixed(1)} s`,
      );
  }
  if (!args.json) say(`total wall time ${((performance.now() - started) / 1000).toFixed(1)} s`);
});
