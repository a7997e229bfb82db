/**
 * A small CIFAR-10 look-alike in the exact binary format (the real data set is not on the test
 * machines): `perBatch` records in each of data_batch_1..5.bin, `test` in test_batch.bin. Each
 * class is learnable: a bright 8×8 square at a place and in a colour channel set by the label, on
 * seeded noise, so a short run gets well above chance.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR10_FILES, CIFAR10_PIXELS, encodeCifarBatch } from '../../src/data/cifar10.ts';
import type { ImageSet } from '../../src/data/mnist.ts';
import { createRng } from '../../src/util/rng.ts';

/** `count` synthetic records; record i has label (i·7 + seed) mod 10. */
export function syntheticCifar(count: number, seed: number): ImageSet {
  const rng = createRng(seed);
  const images = new Uint8Array(count * CIFAR10_PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = (i * 7 + seed) % 10;
    labels[i] = label;
    const row = images.subarray(i * CIFAR10_PIXELS, (i + 1) * CIFAR10_PIXELS);
    for (let p = 0; p < CIFAR10_PIXELS; p++) row[p] = rng.int(96);
    const channel = label % 3;
    const [y0, x0] = [8 * Math.floor(label / 4) + 4, 8 * (label % 4)];
    for (let y = y0; y < y0 + 8; y++)
      for (let x = x0; x < x0 + 8; x++) row[channel * 1024 + y * 32 + x] = 200 + rng.int(56);
  }
  return { images, labels, count };
}

/** Writes the six batch files into `dir` (made if needed) and returns it. */
export function writeCifarFixture(dir: string, opts: { perBatch?: number; test?: number } = {}): string {
  mkdirSync(dir, { recursive: true });
  CIFAR10_FILES.train.forEach((name, b) =>
    writeFileSync(join(dir, name), encodeCifarBatch(syntheticCifar(opts.perBatch ?? 200, 1 + b))),
  );
  writeFileSync(join(dir, CIFAR10_FILES.test[0]), encodeCifarBatch(syntheticCifar(opts.test ?? 200, 11)));
  return dir;
}
