/**
 * Binary framing: the only place that knows how bytes are laid out on the wire.
 *
 *   u32 LE  header length H (bytes of UTF-8 JSON)
 *   H bytes header JSON: { "type": ..., ..., "payloads": [{ "name", "dtype", "length" }] }
 *   zero padding to a multiple of 4
 *   each payload's raw bytes (little-endian for f32), each padded to a multiple of 4
 *
 * Numbers in bulk (weights, pixels, labels) never travel as JSON: they are typed-array payloads.
 * Decoding checks every length before touching the bytes, so a hostile frame can only
 * produce a FrameError, never an out-of-bounds read or a huge allocation.
 */

export type DType = 'f32' | 'u8';
export type PayloadArray = Float32Array | Uint8Array;

export interface PayloadDescriptor {
  name: string;
  dtype: DType;
  length: number; // elements, not bytes
}

export interface Frame {
  header: Record<string, unknown> & { type: string };
  payloads: Record<string, PayloadArray>;
}

export class FrameError extends Error {
  override name = 'FrameError';
}

/** Largest header we accept: headers carry settings and ids, never bulk data. */
export const MAX_HEADER_BYTES = 8192;
const ELEMENT_BYTES: Record<DType, number> = { f32: 4, u8: 1 };

const pad4 = (n: number) => (n + 3) & ~3;

/** Bytes a frame carries beyond its raw payload bytes (length prefix, header, padding). */
export function frameOverheadBytes(frameBytes: number, payloads: Record<string, PayloadArray>): number {
  let raw = 0;
  for (const p of Object.values(payloads)) raw += p.byteLength;
  return frameBytes - raw;
}

/**
 * The frame as consecutive parts: the length prefix and header, then each payload's own bytes (a
 * view, not a copy) and its zero padding. A socket can write the parts as they are: one global
 * model sent to a thousand learners is never copied a thousand times.
 *
 * `fixedHeaderBytes` pads the JSON header with spaces to exactly that size, so the frame's length
 * depends only on its payload sizes — never on how many digits a loss or a timing has. Emulated
 * link times are computed from frame lengths, and this keeps them identical run after run.
 */
export function encodeFrameParts(
  header: Record<string, unknown> & { type: string },
  payloads: Record<string, PayloadArray> = {},
  fixedHeaderBytes?: number,
): Uint8Array[] {
  const descriptors: PayloadDescriptor[] = Object.entries(payloads).map(([name, arr]) => ({
    name,
    dtype: arr instanceof Float32Array ? 'f32' : 'u8',
    length: arr.length,
  }));
  let json = JSON.stringify({ ...header, payloads: descriptors });
  if (fixedHeaderBytes !== undefined) {
    const natural = Buffer.byteLength(json, 'utf8');
    if (natural > fixedHeaderBytes)
      throw new FrameError(`header of ${natural} bytes exceeds its fixed size ${fixedHeaderBytes}`);
    json += ' '.repeat(fixedHeaderBytes - natural);
  }
  const headerBytes = Buffer.from(json, 'utf8');
  if (headerBytes.length > MAX_HEADER_BYTES)
    throw new FrameError(`header of ${headerBytes.length} bytes exceeds ${MAX_HEADER_BYTES}`);
  const prefix = Buffer.alloc(pad4(4 + headerBytes.length)); // zero-filled: the padding is zero
  prefix.writeUInt32LE(headerBytes.length, 0);
  headerBytes.copy(prefix, 4);
  const parts: Uint8Array[] = [prefix];
  for (const d of descriptors) {
    const arr = payloads[d.name];
    // Float32 payloads go little-endian; every supported host (x86, ARM) is little-endian.
    if (arr.byteLength > 0) parts.push(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    const padding = pad4(arr.byteLength) - arr.byteLength;
    if (padding > 0) parts.push(new Uint8Array(padding));
  }
  return parts;
}

/** Total bytes of a frame given as parts. */
export const partsLength = (parts: readonly Uint8Array[]) => parts.reduce((n, p) => n + p.byteLength, 0);

/** The frame in one buffer (see encodeFrameParts for the layout and `fixedHeaderBytes`). */
export function encodeFrame(
  header: Record<string, unknown> & { type: string },
  payloads: Record<string, PayloadArray> = {},
  fixedHeaderBytes?: number,
  /** write into this buffer when it is large enough (a view of it is returned): a reused buffer costs no fresh pages */
  into?: Buffer,
): Buffer {
  return joinParts(encodeFrameParts(header, payloads, fixedHeaderBytes), into);
}

/** Parts copied into one buffer: `into` when it is large enough (a view of it is returned), else a new one. */
export function joinParts(parts: readonly Uint8Array[], into?: Buffer): Buffer {
  const total = partsLength(parts);
  const out = into && into.length >= total ? into.subarray(0, total) : Buffer.allocUnsafe(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/**
 * A large fragment arrives in a buffer of its own (ws assembles it from many socket reads), so a
 * payload inside it can be a view of it — no copy of a model per message. A small one may be a
 * slice of a shared socket chunk, and a Float32Array view must be 4-byte aligned: those are copied.
 */
const VIEW_MIN_BYTES = 64 * 1024;

/** A message as the socket delivered it: one buffer, or its WebSocket fragments in order. */
export type WireMessage = Uint8Array | readonly Uint8Array[];

/** Bytes [offset, offset + n) of a message, a view when they lie in one fragment; and whether that fragment is a buffer of its own. */
function bytesAt(fragments: readonly Uint8Array[], offset: number, n: number): { bytes: Uint8Array; own: boolean } {
  let start = 0;
  for (const f of fragments) {
    if (offset < start + f.byteLength) {
      if (offset + n <= start + f.byteLength) {
        const own = f.byteLength >= VIEW_MIN_BYTES && f.buffer.byteLength === f.byteLength;
        return { bytes: f.subarray(offset - start, offset - start + n), own };
      }
      break;
    }
    start += f.byteLength;
  }
  // Spread over fragments: gather a copy.
  const out = new Uint8Array(n);
  let at = 0;
  start = 0;
  for (const f of fragments) {
    const from = Math.max(offset, start);
    const to = Math.min(offset + n, start + f.byteLength);
    if (from < to) {
      out.set(f.subarray(from - start, to - start), at);
      at += to - from;
    }
    start += f.byteLength;
  }
  return { bytes: out, own: false };
}

function payloadAt(fragments: readonly Uint8Array[], offset: number, bytes: number, dtype: DType): PayloadArray {
  const { bytes: view, own } = bytesAt(fragments, offset, bytes);
  const usable =
    own && view.byteOffset % 4 === 0 ? new Uint8Array(view.buffer, view.byteOffset, bytes) : Uint8Array.from(view);
  return dtype === 'f32' ? new Float32Array(usable.buffer, usable.byteOffset, bytes / 4) : usable;
}

/**
 * Decode one frame, given whole or as the WebSocket fragments it arrived in. `maxPayloadElements`
 * bounds each payload by name (a payload not listed is refused), so the receiver states up front
 * what it is willing to accept.
 */
export function decodeFrame(message: WireMessage, maxPayloadElements: Record<string, number>): Frame {
  const fragments = message instanceof Uint8Array ? [message] : message;
  const total = fragments.reduce((n, f) => n + f.byteLength, 0);
  if (total < 4) throw new FrameError(`frame of ${total} bytes is shorter than its 4-byte length prefix`);
  const prefix = bytesAt(fragments, 0, 4).bytes;
  const headerLength = new DataView(prefix.buffer, prefix.byteOffset, 4).getUint32(0, true);
  if (headerLength === 0 || headerLength > MAX_HEADER_BYTES)
    throw new FrameError(`header length ${headerLength} is outside 1..${MAX_HEADER_BYTES}`);
  if (4 + headerLength > total)
    throw new FrameError(`header length ${headerLength} runs past the end of a ${total}-byte frame`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytesAt(fragments, 4, headerLength).bytes));
  } catch {
    throw new FrameError('header is not valid UTF-8 JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new FrameError('header is not a JSON object');
  const header = parsed as Record<string, unknown>;
  if (typeof header.type !== 'string') throw new FrameError('header has no string "type"');
  const descriptors = header.payloads ?? [];
  if (!Array.isArray(descriptors) || descriptors.length > 8)
    throw new FrameError('header "payloads" must be an array of at most 8 entries');
  delete header.payloads;

  let offset = pad4(4 + headerLength);
  const payloads: Record<string, PayloadArray> = {};
  for (const d of descriptors as unknown[]) {
    if (d === null || typeof d !== 'object') throw new FrameError('payload descriptor is not an object');
    const { name, dtype, length } = d as Record<string, unknown>;
    // Own properties only: a payload named "toString" or "__proto__" must not match Object.prototype.
    if (typeof name !== 'string' || !Object.hasOwn(maxPayloadElements, name))
      throw new FrameError(`unexpected payload ${JSON.stringify(name)?.slice(0, 60)}`);
    if (Object.hasOwn(payloads, name)) throw new FrameError(`payload "${name}" given twice`);
    if (dtype !== 'f32' && dtype !== 'u8')
      throw new FrameError(`payload "${name}" has unknown dtype ${JSON.stringify(dtype)}`);
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > maxPayloadElements[name])
      throw new FrameError(
        `payload "${name}" length ${JSON.stringify(length)} is outside 0..${maxPayloadElements[name]}`,
      );
    const bytes = length * ELEMENT_BYTES[dtype];
    if (offset + bytes > total)
      throw new FrameError(`payload "${name}" (${bytes} bytes) runs past the end of the frame`);
    payloads[name] = payloadAt(fragments, offset, bytes, dtype);
    offset += pad4(bytes);
  }
  if (offset !== total) throw new FrameError(`frame is ${total} bytes but its header describes ${offset}`);
  return { header: header as Frame['header'], payloads };
}
