/**
 * Reader for the CIFAR-10 binary version (cifar-10-batches-bin): data_batch_1..5.bin for training,
 * test_batch.bin for testing; each record is 1 label byte then 3,072 pixel bytes, channels first
 * (1,024 red, 1,024 green, 1,024 blue, each 32×32 row-major). A row of the ImageSet is the record's
 * pixel bytes as they are, so it is already the channels-first 3×32×32 sample the engines reshape.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DataError, type ImageSet, type Mnist } from './mnist.ts';

export const CIFAR10_SHAPE = Object.freeze({ channels: 3, height: 32, width: 32 });
export const CIFAR10_PIXELS = 3 * 32 * 32; // 3072
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_PIXELS; // 3073
export const CIFAR10_CLASSES = 10;

export const CIFAR10_FILES = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
} as const;

const HOW_TO_FIX =
  '--data-dir must hold data_batch_1.bin … data_batch_5.bin and test_batch.bin of the CIFAR-10 binary version ' +
  '(the cifar-10-batches-bin folder of cifar-10-binary.tar.gz)';

function assertWholeRecords(size: number, file: string): void {
  if (size === 0 || size % CIFAR10_RECORD_BYTES !== 0)
    throw new DataError(
      `${file}: expected whole ${CIFAR10_RECORD_BYTES}-byte records (1 label + ${CIFAR10_PIXELS} pixels), ` +
        `found ${size} bytes (file truncated?); ${HOW_TO_FIX}`,
    );
}

/** The records of one batch file; DataError (naming the file) when it is not whole records with labels 0..9. */
export function parseCifarBatch(bytes: Uint8Array, file: string): ImageSet {
  assertWholeRecords(bytes.length, file);
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const images = new Uint8Array(count * CIFAR10_PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * CIFAR10_RECORD_BYTES;
    labels[i] = bytes[at];
    if (labels[i] >= CIFAR10_CLASSES)
      throw new DataError(`${file}: expected labels 0..9, found ${labels[i]} in record ${i} (not a CIFAR-10 file?)`);
    images.set(bytes.subarray(at + 1, at + CIFAR10_RECORD_BYTES), i * CIFAR10_PIXELS);
  }
  return { images, labels, count };
}

/** Encode records in the batch format (used by tests to write small files). */
export function encodeCifarBatch(set: ImageSet): Uint8Array {
  const out = new Uint8Array(set.count * CIFAR10_RECORD_BYTES);
  for (let i = 0; i < set.count; i++) {
    out[i * CIFAR10_RECORD_BYTES] = set.labels[i];
    out.set(set.images.subarray(i * CIFAR10_PIXELS, (i + 1) * CIFAR10_PIXELS), i * CIFAR10_RECORD_BYTES + 1);
  }
  return out;
}

async function existingDir(dataDir: string | undefined): Promise<string> {
  if (dataDir === undefined) throw new DataError(`--dataset cifar10 needs --data-dir DIR; ${HOW_TO_FIX}`);
  const dir = path.resolve(dataDir);
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat?.isDirectory()) throw new DataError(`data directory ${dir} does not exist; ${HOW_TO_FIX}`);
  return dir;
}

async function readBatches(dir: string, files: readonly string[]): Promise<ImageSet> {
  const sets: ImageSet[] = [];
  for (const base of files) {
    const file = path.join(dir, base);
    const bytes = await readFile(file).catch(() => null);
    if (bytes === null) throw new DataError(`${file} not found; ${HOW_TO_FIX}`);
    sets.push(parseCifarBatch(bytes, file));
  }
  return concat(sets);
}

function concat(sets: ImageSet[]): ImageSet {
  const count = sets.reduce((n, s) => n + s.count, 0);
  const images = new Uint8Array(count * CIFAR10_PIXELS);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const s of sets) {
    images.set(s.images, at * CIFAR10_PIXELS);
    labels.set(s.labels, at);
    at += s.count;
  }
  return { images, labels, count };
}

/** The six batch files of `dataDir`: training batches 1..5 in order, then the test batch. */
export async function loadCifar10(dataDir: string | undefined): Promise<Mnist> {
  const dir = await existingDir(dataDir);
  const train = await readBatches(dir, CIFAR10_FILES.train);
  const test = await readBatches(dir, CIFAR10_FILES.test);
  return { train, test, source: dir };
}

/**
 * Training and test record counts from the file sizes alone, so flags are checked (and a missing or
 * truncated file is named) before a run folder or a learner process exists.
 */
export async function cifar10Counts(dataDir: string | undefined): Promise<{ train: number; test: number }> {
  const dir = await existingDir(dataDir);
  const records = async (files: readonly string[]) => {
    let sum = 0;
    for (const base of files) {
      const file = path.join(dir, base);
      const s = await stat(file).catch(() => null);
      if (!s?.isFile()) throw new DataError(`${file} not found; ${HOW_TO_FIX}`);
      assertWholeRecords(s.size, file);
      sum += s.size / CIFAR10_RECORD_BYTES;
    }
    return sum;
  };
  return { train: await records(CIFAR10_FILES.train), test: await records(CIFAR10_FILES.test) };
}
