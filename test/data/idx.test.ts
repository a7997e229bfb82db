import { describe, it, expect } from 'vitest';
import { encodeIdx, parseIdx, IdxFormatError } from '../../src/data/idx.ts';

function header(magic: number, dims: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, magic, false);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe('parseIdx', () => {
  it('reads an images file: big-endian dims and the pixel bytes in order', () => {
    const pixels = Uint8Array.from({ length: 2 * 3 * 2 }, (_, i) => (i * 37) % 256);
    // 2 images of 3x2; dims deliberately > 255 in one byte position would be tested below
    const parsed = parseIdx(concat(header(2051, [2, 3, 2]), pixels), 'imgs');
    expect(parsed.dims).toEqual([2, 3, 2]);
    expect(Array.from(parsed.data)).toEqual(Array.from(pixels));
    expect(parsed.data).toBeInstanceOf(Uint8Array);
  });

  it('reads a labels file and multi-byte dimensions', () => {
    const labels = Uint8Array.from({ length: 300 }, (_, i) => i % 10);
    const parsed = parseIdx(concat(header(2049, [300]), labels), 'labels');
    expect(parsed.dims).toEqual([300]); // 300 = 0x012C needs two bytes: checks big-endian order
    expect(parsed.data[299]).toBe(9);
  });

  it('round-trips with encodeIdx', () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const parsed = parseIdx(encodeIdx([2, 2, 2], data), 'x');
    expect(parsed.dims).toEqual([2, 2, 2]);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
  });

  it('rejects a truncated file, naming it and the expected/found byte counts', () => {
    const bytes = concat(header(2051, [2, 28, 28]), new Uint8Array(2 * 784 - 5));
    expect(() => parseIdx(bytes, 'train-images-idx3-ubyte')).toThrow(IdxFormatError);
    expect(() => parseIdx(bytes, 'train-images-idx3-ubyte')).toThrow(
      /train-images-idx3-ubyte: expected 1568 data bytes for dimensions 2x28x28, found 1563 \(file truncated\?\)/,
    );
  });

  it('rejects trailing bytes', () => {
    const bytes = concat(header(2049, [3]), new Uint8Array(4));
    expect(() => parseIdx(bytes, 'labels')).toThrow(/expected 3 data bytes .* found 4 \(trailing bytes\)/);
  });

  it('rejects a wrong magic number', () => {
    const bytes = concat(header(2052, [1, 1, 1]), new Uint8Array(1));
    expect(() => parseIdx(bytes, 'weird')).toThrow(
      /weird: expected IDX magic number 2051 \(images\) or 2049 \(labels\), found 2052/,
    );
  });

  it('points out gzip-compressed bytes under a raw name', () => {
    const bytes = Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    expect(() => parseIdx(bytes, 'f')).toThrow(/gzip-compressed/);
  });

  it('rejects a file shorter than its header', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), 'tiny')).toThrow(/tiny: expected an IDX file/);
    expect(() => parseIdx(header(2051, [1, 28]), 'short')).toThrow(
      /short: expected a 16-byte header for 3 dimensions, found only 12 bytes/,
    );
  });
});
