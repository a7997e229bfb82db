/**
 * A seeded generator of hostile frames: random bytes, and valid frames of the target's own
 * protocol taken apart in every way a broken or malicious peer could (truncation, wrong length
 * fields, wrong types and field values, wrong payload sizes, NaN weights, bit flips, text frames).
 * Pure: the same seed and sources give the same frames.
 */
import { encodeFrame, MAX_HEADER_BYTES, type PayloadArray } from '../../../src/protocol/frame.ts';
import { createRng, type Rng } from '../../../src/util/rng.ts';

export interface SourceMessage {
  header: Record<string, unknown> & { type: string };
  payloads?: Record<string, PayloadArray>;
  /** relative chance of being picked as a mutation seed (default 1) */
  weight?: number;
}

export interface FuzzSources {
  /** Well-formed messages the target would accept: the seeds of every mutation (read at each frame, so it may change between frames). */
  valid: SourceMessage[];
  /** Message types of the other direction and the like: legal elsewhere, wrong here. */
  foreignTypes: string[];
  /** Largest frame the target accepts (ws maxPayload); 'oversize' frames exceed it. */
  maxBytes: number;
  /** Weight of the 'oversize' kind (0 = never). */
  oversizeWeight?: number;
}

export type FuzzKind =
  | 'garbage'
  | 'truncated'
  | 'header_length'
  | 'bad_utf8'
  | 'not_object'
  | 'wrong_type'
  | 'field'
  | 'payload_size'
  | 'descriptor'
  | 'huge_length'
  | 'non_finite'
  | 'trailing'
  | 'bitflip'
  | 'splice'
  | 'deep_json'
  | 'text'
  | 'oversize';

export interface FuzzFrame {
  kind: FuzzKind;
  data: Uint8Array | string;
  binary: boolean;
}

/** Values a hostile peer puts into a header field. None of them is a plausible large τ or d_k. */
const HOSTILE_VALUES: unknown[] = [
  null,
  -1,
  0,
  1.5,
  2 ** 53,
  -(2 ** 31),
  1e308,
  -1e308,
  '7',
  '',
  'x'.repeat(300),
  [],
  [1, 2, 3],
  {},
  { nested: { deeper: [null] } },
  true,
  false,
];

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];

function pickWeighted(rng: Rng, items: readonly SourceMessage[]): SourceMessage {
  const total = items.reduce((s, m) => s + (m.weight ?? 1), 0);
  let r = rng.next() * total;
  for (const m of items) if ((r -= m.weight ?? 1) < 0) return m;
  return items[items.length - 1];
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

function encode(m: SourceMessage, header = m.header, payloads = m.payloads ?? {}): Buffer {
  return encodeFrame(header, payloads);
}

function withLengthPrefix(frame: Buffer, value: number): Buffer {
  const out = Buffer.from(frame);
  out.writeUInt32LE(value >>> 0, 0);
  return out;
}

/** Builds a frame around a header given as raw bytes (may be invalid UTF-8 or JSON). */
function rawHeaderFrame(headerBytes: Uint8Array, body: Uint8Array = new Uint8Array(0)): Buffer {
  const region = (4 + headerBytes.length + 3) & ~3;
  const out = Buffer.alloc(region + body.length);
  out.writeUInt32LE(headerBytes.length, 0);
  out.set(headerBytes, 4);
  out.set(body, region);
  return out;
}

/** The header a frame of `m` carries, payload descriptors included (as the encoder writes them). */
function fullHeader(m: SourceMessage): Record<string, unknown> {
  const payloads = Object.entries(m.payloads ?? {}).map(([name, a]) => ({
    name,
    dtype: a instanceof Float32Array ? 'f32' : 'u8',
    length: a.length,
  }));
  return { ...m.header, payloads };
}

function payloadBody(m: SourceMessage): Uint8Array {
  const frame = encode(m);
  return frame.subarray((4 + frame.readUInt32LE(0) + 3) & ~3);
}

export function createFuzzer(seed: number, sources: FuzzSources): { next: () => FuzzFrame } {
  const rng = createRng(seed);
  const table: [FuzzKind, number][] = [
    ['garbage', 8],
    ['truncated', 8],
    ['header_length', 7],
    ['bad_utf8', 3],
    ['not_object', 3],
    ['wrong_type', 8],
    ['field', 14],
    ['payload_size', 8],
    ['descriptor', 6],
    ['huge_length', 4],
    ['non_finite', 6],
    ['trailing', 3],
    ['bitflip', 10],
    ['splice', 5],
    ['deep_json', 1],
    ['text', 5],
    ['oversize', sources.oversizeWeight ?? 0],
  ];
  const total = table.reduce((s, [, w]) => s + w, 0);
  const chooseKind = (): FuzzKind => {
    let r = rng.next() * total;
    for (const [kind, w] of table) if ((r -= w) < 0) return kind;
    return 'garbage';
  };
  const bin = (kind: FuzzKind, data: Uint8Array): FuzzFrame => ({ kind, data, binary: true });
  const generate = (kind: FuzzKind): FuzzFrame => {
    const src = pickWeighted(rng, sources.valid);
    switch (kind) {
      case 'garbage':
        return bin(kind, randomBytes(rng, rng.next() < 0.8 ? rng.int(65) : rng.int(4096)));
      case 'truncated': {
        const frame = encode(src);
        // Mostly inside the header region, where the interesting boundaries are.
        const cut =
          rng.next() < 0.6 ? rng.int(Math.min(frame.length, 64 + frame.readUInt32LE(0))) : rng.int(frame.length);
        return bin(kind, frame.subarray(0, cut));
      }
      case 'header_length': {
        const frame = encode(src);
        const real = frame.readUInt32LE(0);
        const value = pick(rng, [
          0,
          1,
          0xffffffff,
          0x7fffffff,
          MAX_HEADER_BYTES + 1,
          real + 1 + rng.int(8),
          Math.max(1, real - 1 - rng.int(8)),
          rng.int(2 ** 32),
          frame.length,
        ]);
        return bin(kind, withLengthPrefix(frame, value));
      }
      case 'bad_utf8': {
        const json = Buffer.from(JSON.stringify(fullHeader(src)), 'utf8');
        const bytes = Buffer.from(json);
        const at = 1 + rng.int(bytes.length - 2);
        bytes[at] = pick(rng, [0xff, 0xfe, 0xc0, 0x80, 0xed]);
        return bin(kind, rawHeaderFrame(bytes, payloadBody(src)));
      }
      case 'not_object':
        return bin(
          kind,
          rawHeaderFrame(
            Buffer.from(
              pick(rng, [
                '[]',
                '[{"type":"result"}]',
                'null',
                '42',
                '"task"',
                'true',
                '{',
                '{"type":"x",}',
                '{"type":"x"}{"type":"y"}',
                ' ',
                '\u0000',
              ]),
              'utf8',
            ),
          ),
        );
      case 'wrong_type': {
        const type = pick(rng, [
          ...sources.foreignTypes,
          'HELLO',
          'result ',
          '',
          'constructor',
          '__proto__',
          'x'.repeat(100),
          5,
          null,
          true,
          {},
          [],
        ]);
        return bin(kind, encodeFrame({ ...src.header, type } as any, rng.next() < 0.5 ? (src.payloads ?? {}) : {}));
      }
      case 'field': {
        const header: Record<string, unknown> = { ...src.header };
        const names = Object.keys(header).filter((k) => k !== 'type');
        const name = names.length && rng.next() < 0.9 ? pick(rng, names) : `extra_${rng.int(100)}`;
        if (rng.next() < 0.2) delete header[name];
        else if (typeof header[name] === 'object' && header[name] !== null && rng.next() < 0.5) {
          // One level down (hello.profile, welcome.settings).
          const inner: Record<string, unknown> = { ...(header[name] as Record<string, unknown>) };
          const keys = Object.keys(inner);
          if (keys.length) inner[pick(rng, keys)] = pick(rng, HOSTILE_VALUES);
          header[name] = inner;
        } else header[name] = pick(rng, HOSTILE_VALUES);
        return bin(kind, encodeFrame(header as SourceMessage['header'], src.payloads ?? {}));
      }
      case 'payload_size': {
        // The header promises one size, the body carries another.
        const h = fullHeader(src) as { payloads: { length: number }[] };
        const body = payloadBody(src);
        if (h.payloads.length && rng.next() < 0.6) {
          const d = pick(rng, h.payloads);
          d.length = Math.max(0, d.length + pick(rng, [-1, 1, -4, 4, 1000, -d.length]));
          return bin(kind, rawHeaderFrame(Buffer.from(JSON.stringify(h)), body));
        }
        const cut = rng.next() < 0.5;
        return bin(
          kind,
          rawHeaderFrame(
            Buffer.from(JSON.stringify(h)),
            cut
              ? body.subarray(0, rng.int(body.length + 1))
              : Buffer.concat([body, randomBytes(rng, 4 * (1 + rng.int(16)))]),
          ),
        );
      }
      case 'descriptor': {
        const h = fullHeader(src);
        const variants: unknown[] = [
          {},
          'weights',
          [null],
          [1, 2],
          Array.from({ length: 9 }, (_, i) => ({ name: `p${i}`, dtype: 'u8', length: 0 })),
          [{ name: 'weights', dtype: 'f64', length: 1 }],
          [{ name: 'weights', dtype: 'u8', length: 4 }],
          [{ name: 'toString', dtype: 'u8', length: 0 }],
          [{ name: '__proto__', dtype: 'u8', length: 0 }],
          [
            { name: 'weights', dtype: 'f32', length: 0 },
            { name: 'weights', dtype: 'f32', length: 0 },
          ],
          [{ name: 'secret', dtype: 'u8', length: 0 }],
          [{ name: 'labels', dtype: 'f32', length: 1 }],
        ];
        return bin(
          kind,
          rawHeaderFrame(Buffer.from(JSON.stringify({ ...h, payloads: pick(rng, variants) })), payloadBody(src)),
        );
      }
      case 'huge_length': {
        const h = fullHeader(src) as { payloads: { name: string; dtype: string; length: unknown }[] };
        const d = h.payloads.length
          ? pick(rng, h.payloads)
          : (h.payloads[0] = { name: 'weights', dtype: 'f32', length: 0 });
        d.length = pick(rng, [2 ** 31, 2 ** 32, 2 ** 53, 1e15, 1e300, -(2 ** 31), 2 ** 30 + 1]);
        return bin(kind, rawHeaderFrame(Buffer.from(JSON.stringify(h)), randomBytes(rng, rng.int(64))));
      }
      case 'non_finite': {
        const withWeights = sources.valid.filter((m) =>
          Object.values(m.payloads ?? {}).some((p) => p instanceof Float32Array),
        );
        const m = withWeights.length ? pickWeighted(rng, withWeights) : src;
        const payloads: Record<string, PayloadArray> = {};
        for (const [name, p] of Object.entries(m.payloads ?? {})) {
          if (p instanceof Float32Array && p.length > 0) {
            const w = p.slice();
            const n = 1 + rng.int(3);
            for (let i = 0; i < n; i++) w[rng.int(w.length)] = pick(rng, [NaN, Infinity, -Infinity]);
            payloads[name] = w;
          } else payloads[name] = p;
        }
        return bin(kind, encodeFrame(m.header, payloads));
      }
      case 'trailing':
        return bin(kind, Buffer.concat([encode(src), randomBytes(rng, 1 + rng.int(8))]));
      case 'bitflip': {
        const frame = Buffer.from(encode(src));
        const headerEnd = Math.min(frame.length, 4 + frame.readUInt32LE(0) + 4);
        const flips = 1 + rng.int(8);
        for (let i = 0; i < flips; i++) {
          const at = rng.next() < 0.8 ? rng.int(headerEnd) : rng.int(frame.length);
          frame[at] ^= 1 << rng.int(8);
        }
        return bin(kind, frame);
      }
      case 'splice': {
        // Delete, duplicate or overwrite a run of bytes.
        const frame = encode(src);
        const at = rng.int(frame.length);
        const len = 1 + rng.int(16);
        const op = rng.int(3);
        if (op === 0)
          return bin(kind, Buffer.concat([frame.subarray(0, at), frame.subarray(Math.min(frame.length, at + len))]));
        if (op === 1)
          return bin(kind, Buffer.concat([frame.subarray(0, at), frame.subarray(at, at + len), frame.subarray(at)]));
        const out = Buffer.from(frame);
        out.set(randomBytes(rng, Math.min(len, out.length - at)), at);
        return bin(kind, out);
      }
      case 'deep_json': {
        const depth = 1000 + rng.int(3000);
        const json =
          rng.next() < 0.5
            ? '['.repeat(depth) + ']'.repeat(depth)
            : `{"type":"result","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
        return bin(kind, rawHeaderFrame(Buffer.from(json)));
      }
      case 'text': {
        const options = [
          '',
          'hello',
          JSON.stringify(src.header),
          JSON.stringify({ type: 'hello', token: 'x', learner_id: 0 }),
          String.fromCharCode(...Array.from({ length: rng.int(64) }, () => 32 + rng.int(95))),
        ];
        return { kind, data: pick(rng, options), binary: false };
      }
      case 'oversize':
        return bin(
          kind,
          Buffer.concat([
            encode(src),
            Buffer.alloc(sources.maxBytes + 1 - Math.min(sources.maxBytes, encode(src).length) + rng.int(1024)),
          ]),
        );
    }
  };

  return { next: () => generate(chooseKind()) };
}
