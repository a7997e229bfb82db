import { rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CIFAR10_FILES,
  cifar10Counts,
  encodeCifarBatch,
  loadCifar10,
  parseCifarBatch,
} from '../../src/data/cifar10.ts';
import { datasetShape, LARGEST_SAMPLE_PIXELS, runLayout, trainSamplesFor } from '../../src/data/datasets.ts';
import { DataError, firstN, sampleBytes, subset } from '../../src/data/mnist.ts';
import { InputError } from '../../src/errors.ts';
import { syntheticCifar, writeCifarFixture } from '../helpers/cifar-fixture.ts';
import { tmpDir } from '../helpers/tmp.ts';

const dirs: string[] = [];
const scratch = () => {
  const dir = tmpDir('cifar');
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Record bytes by hand: label, then pixel (c, y, x) = (c·100 + y·3 + x + record) mod 256, channels first. */
function handRecords(labels: number[]): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((label, r) => {
    out[r * 3073] = label;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) out[r * 3073 + 1 + c * 1024 + y * 32 + x] = (c * 100 + y * 3 + x + r) % 256;
  });
  return out;
}

describe('CIFAR-10 binary reader', () => {
  it('a record is 1 label byte + 3,072 pixel bytes; a row keeps them channels first (R plane, G plane, B plane)', () => {
    const bytes = handRecords([3, 9]);
    const set = parseCifarBatch(bytes, 'x.bin');
    expect(set.count).toBe(2);
    expect([...set.labels]).toEqual([3, 9]);
    expect(set.images.length).toBe(2 * 3072);
    expect(sampleBytes(set)).toBe(3072);
    // exact bytes: row r is the record's bytes 1..3072, the label byte left out
    expect(set.images.subarray(0, 3072)).toEqual(bytes.subarray(1, 3073));
    expect(set.images.subarray(3072)).toEqual(bytes.subarray(3074, 6146));
    // channels first: pixel (c, y, x) of sample r at r·3072 + c·1024 + y·32 + x
    for (const [r, c, y, x] of [
      [0, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 2, 31, 31],
      [1, 1, 5, 7],
      [1, 2, 10, 3],
    ])
      expect(set.images[r * 3072 + c * 1024 + y * 32 + x], `${r} ${c} ${y} ${x}`).toBe((c * 100 + y * 3 + x + r) % 256);
    expect(set.images[1024]).toBe(100); // the first green pixel follows the 1,024 red ones
  });

  it('encodes back to the same bytes; subset and firstN copy 3,072-byte rows', () => {
    const bytes = handRecords([0, 1, 2]);
    const set = parseCifarBatch(bytes, 'x.bin');
    expect(encodeCifarBatch(set)).toEqual(bytes);
    const picked = subset(set, [2, 0]);
    expect([...picked.labels]).toEqual([2, 0]);
    expect(picked.images.subarray(0, 3072)).toEqual(set.images.subarray(2 * 3072));
    expect(firstN(set, 1).images).toEqual(set.images.subarray(0, 3072));
  });

  it('refuses a partial record, an empty file and a label above 9, naming the file', () => {
    const bytes = handRecords([1, 2]);
    expect(() => parseCifarBatch(bytes.subarray(0, 3073 + 100), 'b.bin')).toThrow(
      /^b\.bin: expected whole 3073-byte records .*found 3173 bytes \(file truncated\?\)/,
    );
    expect(() => parseCifarBatch(new Uint8Array(0), 'e.bin')).toThrow(/e\.bin: .*found 0 bytes/);
    bytes[3073] = 10;
    expect(() => parseCifarBatch(bytes, 'l.bin')).toThrow(/l\.bin: expected labels 0\.\.9, found 10 in record 1/);
    expect(() => parseCifarBatch(bytes, 'l.bin')).toThrow(DataError);
  });

  it('loads batches 1..5 in order as the training set and test_batch.bin as the test set', async () => {
    const dir = writeCifarFixture(scratch(), { perBatch: 4, test: 3 });
    const data = await loadCifar10(dir);
    expect(data.train.count).toBe(20);
    expect(data.test.count).toBe(3);
    // batch b (1..5) holds syntheticCifar(4, b): training records 4(b−1) .. 4b−1
    for (let b = 1; b <= 5; b++) {
      const batch = syntheticCifar(4, b);
      const loaded = subset(
        data.train,
        [0, 1, 2, 3].map((i) => 4 * (b - 1) + i),
      );
      expect(loaded.images).toEqual(batch.images);
      expect(loaded.labels).toEqual(batch.labels);
    }
    expect(data.test.images).toEqual(syntheticCifar(3, 11).images);
    expect(await cifar10Counts(dir)).toEqual({ train: 20, test: 3 });
  });

  it('a missing or truncated file, or no --data-dir, is one line naming it and the fix', async () => {
    const dir = writeCifarFixture(scratch(), { perBatch: 2, test: 2 });
    truncateSync(path.join(dir, 'data_batch_4.bin'), 3073 + 5);
    for (const load of [() => loadCifar10(dir), () => cifar10Counts(dir)]) {
      const e = (await load().catch((err: unknown) => err)) as Error;
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toContain(`${path.join(dir, 'data_batch_4.bin')}: expected whole 3073-byte records`);
      expect(e.message).toContain('--data-dir must hold data_batch_1.bin');
      expect(e.message).not.toContain('\n');
    }
    writeFileSync(path.join(dir, 'data_batch_4.bin'), handRecords([1]));
    unlinkSync(path.join(dir, CIFAR10_FILES.test[0]));
    for (const load of [() => loadCifar10(dir), () => cifar10Counts(dir)])
      await expect(load()).rejects.toThrow(`${path.join(dir, 'test_batch.bin')} not found; --data-dir must hold`);
    await expect(loadCifar10(undefined)).rejects.toThrow(/^--dataset cifar10 needs --data-dir DIR/);
    await expect(cifar10Counts(path.join(dir, 'nope'))).rejects.toThrow(/data directory .*nope does not exist/);
  });
});

describe('a federated learner draws whole 3,072-byte samples from its CIFAR-10 shard', () => {
  it('each drawn row is one of the shard rows, with its label', async () => {
    const { samplesFromShard } = await import('../../src/learner/client.ts');
    const shard = parseCifarBatch(handRecords([4, 5, 6]), 'shard');
    const drawn = samplesFromShard({ type: 'shard', samples: 3, images: shard.images, labels: shard.labels }, 5, 9);
    expect(drawn.images.length).toBe(5 * 3072);
    for (let i = 0; i < 5; i++) {
      const source = drawn.labels[i] - 4; // labels 4, 5, 6 name rows 0, 1, 2
      expect(drawn.images.subarray(i * 3072, (i + 1) * 3072)).toEqual(
        shard.images.subarray(source * 3072, (source + 1) * 3072),
      );
    }
  });
});

describe('datasets: the sample shape travels with the run', () => {
  it('MNIST is 1×28×28 (784), CIFAR-10 3×32×32 (3,072): the largest sample bounds frames before the welcome', () => {
    expect(datasetShape('mnist')).toEqual({ channels: 1, height: 28, width: 28 });
    expect(datasetShape()).toEqual({ channels: 1, height: 28, width: 28 });
    expect(datasetShape('cifar10')).toEqual({ channels: 3, height: 32, width: 32 });
    expect(LARGEST_SAMPLE_PIXELS).toBe(3072);
  });

  it("a run's layout is its model built for its data set", () => {
    expect(runLayout({ model: 'lenet5', dataset: 'mnist' }).count).toBe(61_706);
    expect(runLayout({ model: 'lenet5', dataset: 'cifar10' }).count).toBe(62_006);
    expect(runLayout({ model: 'mlp:3072-64-10', dataset: 'cifar10' }).count).toBe(3072 * 64 + 64 + 64 * 10 + 10);
    expect(() => runLayout({ model: 'mlp:784-64-10', dataset: 'cifar10' })).toThrow(
      /the first size must be the input size 3072 \(the data's 3×32×32 samples\)/,
    );
  });
});

describe('d when --train-samples is not given', () => {
  const given = (...names: string[]) => new Set(names);
  it('is the default, at most what the data set holds', () => {
    expect(trainSamplesFor({ trainSamples: 60_000, dataset: 'mnist', given: given() })).toBe(60_000);
    expect(trainSamplesFor({ trainSamples: 60_000, dataset: 'cifar10', given: given() })).toBe(50_000);
  });
  it('a value the user gave is kept as given (a count beyond the data is refused where the data is read)', () => {
    expect(trainSamplesFor({ trainSamples: 60_000, dataset: 'cifar10', given: given('train-samples') })).toBe(60_000);
    expect(trainSamplesFor({ trainSamples: 1_000, dataset: 'cifar10', given: given('train-samples') })).toBe(1_000);
  });
});
