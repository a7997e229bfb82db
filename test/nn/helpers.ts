/** Shared fixtures for the nn tests: a small real-MNIST slice, loaded once per file. */
import { firstN, loadMnist, type ImageSet } from '../../src/data/mnist.ts';

let cached: Promise<{ train: ImageSet; test: ImageSet }> | null = null;

export function mnistSlice(trainCount: number, testCount: number): Promise<{ train: ImageSet; test: ImageSet }> {
  cached ??= loadMnist().then((m) => ({ train: m.train, test: m.test }));
  return cached.then((m) => ({ train: firstN(m.train, trainCount), test: firstN(m.test, testCount) }));
}
