/**
 * Binary framing: round trips of every payload kind, alignment, and one test per decode error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  FrameError,
  frameOverheadBytes,
  MAX_HEADER_BYTES,
  type PayloadArray,
} from '../../src/protocol/frame.ts';
import { f32Bytes, rawFrame } from './raw-frame.ts';

const LIMITS = { w: 1000, px: 1000, lb: 1000 };

function expectFrameError(data: Uint8Array, pattern: RegExp, limits: Record<string, number> = LIMITS): void {
  let thrown: unknown;
  try {
    decodeFrame(data, limits);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(FrameError);
  expect((thrown as Error).message).toMatch(pattern);
}

/** Byte offsets of each payload inside an encoded frame, read back from its own header. */
function payloadOffsets(frame: Buffer): number[] {
  const h = frame.readUInt32LE(0);
  const header = JSON.parse(frame.subarray(4, 4 + h).toString('utf8')) as {
    payloads: { dtype: string; length: number }[];
  };
  let offset = (4 + h + 3) & ~3;
  return header.payloads.map((d) => {
    const at = offset;
    offset += (d.length * (d.dtype === 'f32' ? 4 : 1) + 3) & ~3;
    return at;
  });
}

describe('encodeFrame / decodeFrame round trips', () => {
  it('keeps f32 values bit for bit (including NaN, -0, ±Inf and subnormals) and u8 values exactly', () => {
    const w = Float32Array.from([0, -0, 1.5, -3.25e-41, 3.4e38, Infinity, -Infinity, NaN, 1e-45]);
    const px = Uint8Array.from([0, 1, 127, 128, 255]);
    const frame = encodeFrame({ type: 'x', note: 'é ü 日本' }, { w, px });
    const back = decodeFrame(frame, LIMITS);
    expect(back.header).toEqual({ type: 'x', note: 'é ü 日本' });
    expect(back.payloads.w).toBeInstanceOf(Float32Array);
    expect(back.payloads.px).toBeInstanceOf(Uint8Array);
    expect(new Uint8Array(back.payloads.w.buffer, back.payloads.w.byteOffset, back.payloads.w.byteLength)).toEqual(
      new Uint8Array(w.buffer),
    );
    expect(Object.is(back.payloads.w[1], -0)).toBe(true);
    expect(back.payloads.px).toEqual(px);
  });

  it('aligns the header region and every payload to 4 bytes', () => {
    for (let n = 0; n < 9; n++) {
      const frame = encodeFrame(
        { type: 'x', pad: 'a'.repeat(n) },
        { lb: new Uint8Array(n), w: new Float32Array(n), px: new Uint8Array(3 * n) },
      );
      expect(frame.length % 4).toBe(0);
      for (const offset of payloadOffsets(frame)) expect(offset % 4).toBe(0);
      const back = decodeFrame(frame, LIMITS);
      expect(back.payloads.w.length).toBe(n);
      expect(back.payloads.px.length).toBe(3 * n);
    }
  });

  it('decodes from an unaligned view into aligned copies that do not alias the socket buffer', () => {
    const w = Float32Array.from([1, 2, 3, 4]);
    const frame = encodeFrame({ type: 'x' }, { px: Uint8Array.from([9, 8, 7]), w });
    const backing = Buffer.alloc(frame.length + 1);
    frame.copy(backing, 1);
    const view = backing.subarray(1); // byteOffset 1: a Float32Array view over it would throw
    const back = decodeFrame(view, LIMITS);
    expect(back.payloads.w.byteOffset % 4).toBe(0);
    expect(Array.from(back.payloads.w)).toEqual([1, 2, 3, 4]);
    backing.fill(0);
    expect(Array.from(back.payloads.w)).toEqual([1, 2, 3, 4]);
    expect(Array.from(back.payloads.px)).toEqual([9, 8, 7]);
  });

  it('carries empty payloads and frames without payloads', () => {
    const empty = decodeFrame(encodeFrame({ type: 'e' }, { w: new Float32Array(0), px: new Uint8Array(0) }), LIMITS);
    expect(empty.payloads.w).toBeInstanceOf(Float32Array);
    expect(empty.payloads.w.length).toBe(0);
    expect(empty.payloads.px.length).toBe(0);
    const none = decodeFrame(encodeFrame({ type: 'n', k: 1 }), {});
    expect(none).toEqual({ header: { type: 'n', k: 1 }, payloads: {} });
  });

  it('round-trips random headers and payload sets (property, seeded)', () => {
    const payloadArb = fc.record({
      w: fc.option(fc.float32Array({ maxLength: 40 }), { nil: undefined }),
      px: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
      lb: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
    });
    const headerArb = fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== 'payloads' && k !== 'type' && k !== '__proto__'),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 5 },
    );
    fc.assert(
      fc.property(headerArb, fc.string({ maxLength: 12 }), payloadArb, (extra, type, ps) => {
        const payloads: Record<string, PayloadArray> = {};
        for (const [k, v] of Object.entries(ps)) if (v) payloads[k] = v;
        const header = { ...extra, type };
        const frame = encodeFrame(header, payloads);
        expect(frame.length % 4).toBe(0);
        const back = decodeFrame(frame, LIMITS);
        expect(back.header).toEqual(JSON.parse(JSON.stringify(header)));
        expect(Object.keys(back.payloads).sort()).toEqual(Object.keys(payloads).sort());
        for (const [k, v] of Object.entries(payloads))
          expect(
            Buffer.from(back.payloads[k].buffer, back.payloads[k].byteOffset, back.payloads[k].byteLength),
          ).toEqual(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      }),
      { seed: 20261128, numRuns: 300 },
    );
  });

  it('a fixed header size makes the frame length depend only on the payload sizes', () => {
    const w = new Float32Array(10);
    const a = encodeFrame({ type: 'r', loss: 0.1 }, { w }, 200);
    const b = encodeFrame({ type: 'r', loss: 0.12345678901234567, wall: 1.0000000000000002 }, { w }, 200);
    expect(a.length).toBe(b.length);
    expect(a.readUInt32LE(0)).toBe(200);
    expect(decodeFrame(b, LIMITS).header).toEqual({ type: 'r', loss: 0.12345678901234567, wall: 1.0000000000000002 });
    expect(frameOverheadBytes(a.length, { w })).toBe(4 + 200);
    expect(() => encodeFrame({ type: 'r', big: 'x'.repeat(300) }, { w }, 200)).toThrow(FrameError);
  });

  it('refuses to encode a header over MAX_HEADER_BYTES', () => {
    expect(() => encodeFrame({ type: 'x', blob: 'x'.repeat(MAX_HEADER_BYTES) })).toThrow(/exceeds/);
  });
});

describe('decodeFrame rejects every malformed layout with a FrameError', () => {
  const ok = (header: object, body?: Uint8Array) => rawFrame({ header, body });

  it('short frames', () => {
    for (const n of [0, 1, 3]) expectFrameError(new Uint8Array(n), /shorter than its 4-byte length prefix/);
  });

  it('header length 0, huge, or past the end', () => {
    expectFrameError(rawFrame({ header: '', headerLength: 0 }), /header length 0 is outside/);
    expectFrameError(
      rawFrame({ header: '{"type":"x"}', headerLength: 0xffffffff }),
      /header length 4294967295 is outside/,
    );
    expectFrameError(rawFrame({ header: '{"type":"x"}', headerLength: MAX_HEADER_BYTES + 1 }), /is outside 1\.\.8192/);
    expectFrameError(rawFrame({ header: '{"type":"x"}', headerLength: 100 }), /runs past the end/);
  });

  it('headers that are not UTF-8 JSON objects with a string type', () => {
    expectFrameError(rawFrame({ header: Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]) }), /not valid UTF-8 JSON/);
    expectFrameError(rawFrame({ header: '{"type":"x"' }), /not valid UTF-8 JSON/);
    expectFrameError(rawFrame({ header: 'hello' }), /not valid UTF-8 JSON/);
    for (const h of ['[1,2]', 'null', '42', '"task"', 'true'])
      expectFrameError(rawFrame({ header: h }), /not a JSON object/);
    expectFrameError(ok({}), /no string "type"/);
    expectFrameError(ok({ type: 5 }), /no string "type"/);
    expectFrameError(ok({ type: null }), /no string "type"/);
  });

  it('bad payload descriptors', () => {
    expectFrameError(ok({ type: 'x', payloads: {} }), /must be an array/);
    expectFrameError(ok({ type: 'x', payloads: 'w' }), /must be an array/);
    expectFrameError(
      ok({ type: 'x', payloads: Array.from({ length: 9 }, (_, i) => ({ name: `p${i}`, dtype: 'u8', length: 0 })) }),
      /at most 8/,
    );
    expectFrameError(ok({ type: 'x', payloads: [null] }), /descriptor is not an object/);
    expectFrameError(ok({ type: 'x', payloads: [7] }), /descriptor is not an object/);
    expectFrameError(ok({ type: 'x', payloads: [{ name: 'zz', dtype: 'u8', length: 0 }] }), /unexpected payload "zz"/);
    expectFrameError(ok({ type: 'x', payloads: [{ dtype: 'u8', length: 0 }] }), /unexpected payload undefined/);
    // Names inherited from Object.prototype are not "listed" payloads.
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty'])
      expectFrameError(ok({ type: 'x', payloads: [{ name, dtype: 'u8', length: 0 }] }), /unexpected payload/);
    expectFrameError(
      ok({
        type: 'x',
        payloads: [
          { name: 'w', dtype: 'u8', length: 0 },
          { name: 'w', dtype: 'u8', length: 0 },
        ],
      }),
      /given twice/,
    );
  });

  it('wrong dtypes and lengths', () => {
    for (const dtype of ['f64', 'F32', '', null, undefined])
      expectFrameError(ok({ type: 'x', payloads: [{ name: 'w', dtype, length: 0 }] }), /unknown dtype/);
    for (const length of [-1, 1.5, '4', null, 1e300, 1001])
      expectFrameError(
        ok({ type: 'x', payloads: [{ name: 'w', dtype: 'f32', length }] }),
        /length .* is outside 0\.\.1000/,
      );
    expectFrameError(
      ok({ type: 'x', payloads: [{ name: 'w', dtype: 'f32', length: 1 }] }, f32Bytes([1])),
      /is outside 0\.\.0/,
      { w: 0 },
    );
  });

  it('payloads past the end, missing padding and trailing bytes', () => {
    expectFrameError(
      ok({ type: 'x', payloads: [{ name: 'w', dtype: 'f32', length: 3 }] }, f32Bytes([1, 2])),
      /runs past the end/,
    );
    // 3 u8 bytes must be padded to 4 before the next payload or the end.
    expectFrameError(
      ok({ type: 'x', payloads: [{ name: 'px', dtype: 'u8', length: 3 }] }, Uint8Array.from([1, 2, 3])),
      /3 bytes but its header describes 4|header describes/,
    );
    expectFrameError(
      ok({ type: 'x', payloads: [{ name: 'px', dtype: 'u8', length: 4 }] }, new Uint8Array(8)),
      /12|header describes/,
    );
    expectFrameError(ok({ type: 'x' }, new Uint8Array(4)), /header describes/);
    // A header region without its padding shifts every payload: refused, not misread.
    let header = JSON.stringify({ type: 'x', payloads: [{ name: 'w', dtype: 'f32', length: 1 }] });
    while ((4 + header.length) % 4 !== 1) header += ' ';
    expectFrameError(rawFrame({ header, body: f32Bytes([1]), padHeader: false }), /runs past the end/);
  });
});
