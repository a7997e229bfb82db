/**
 * Reader for the IDX format MNIST ships in (http://yann.lecun.com/exdb/mnist/): a 4-byte
 * big-endian magic (0x00 0x00, type 0x08 = unsigned byte, number of dimensions), one
 * big-endian uint32 per dimension, then the bytes. Pure: bytes in, typed arrays out.
 */
import { InputError } from '../errors.ts';

export const IDX_IMAGES_MAGIC = 2051; // 0x00000803: ubyte, 3 dims (count, rows, cols)
export const IDX_LABELS_MAGIC = 2049; // 0x00000801: ubyte, 1 dim (count)

export interface IdxArray {
  dims: number[];
  /** A view into `bytes` (no copy); row-major. */
  data: Uint8Array;
}

/** The bytes are not a valid IDX file; the message names the file, what was expected and found. */
export class IdxFormatError extends InputError {
  override name = 'IdxFormatError';
}

export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  const fail = (msg: string) => new IdxFormatError(`${name}: ${msg}`);
  if (bytes.length < 4) throw fail(`expected an IDX file (at least a 4-byte header), found ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== IDX_IMAGES_MAGIC && magic !== IDX_LABELS_MAGIC)
    throw fail(
      `expected IDX magic number ${IDX_IMAGES_MAGIC} (images) or ${IDX_LABELS_MAGIC} (labels), found ${magic}` +
        (bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (the file is gzip-compressed; name it *.gz)' : ''),
    );
  const rank = bytes[3];
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes)
    throw fail(`expected a ${headerBytes}-byte header for ${rank} dimensions, found only ${bytes.length} bytes`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const found = bytes.length - headerBytes;
  if (found !== expected)
    throw fail(
      `expected ${expected} data bytes for dimensions ${dims.join('x')}, found ${found}` +
        (found < expected ? ' (file truncated?)' : ' (trailing bytes)'),
    );
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Encode an IDX ubyte file (used by tests and to write subsets). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new RangeError(`encodeIdx: dims ${dims.join('x')} need ${count} bytes, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
