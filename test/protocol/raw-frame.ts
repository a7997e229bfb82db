/**
 * Builds frames byte by byte, bypassing encodeFrame, so tests can write exactly the malformed
 * layouts a hostile peer could send (wrong lengths, bad JSON, missing padding, ...).
 */
export interface RawFrameParts {
  /** the header bytes (a string is UTF-8 encoded; an object is JSON-encoded) */
  header: string | object | Uint8Array;
  /** value written into the u32 length prefix (default: the header's real byte length) */
  headerLength?: number;
  /** bytes after the header region (already padded as the test wants) */
  body?: Uint8Array;
  /** pad the header region to a multiple of 4 (default true, as the format requires) */
  padHeader?: boolean;
}

export function rawFrame(parts: RawFrameParts): Buffer {
  const header =
    parts.header instanceof Uint8Array
      ? Buffer.from(parts.header)
      : Buffer.from(typeof parts.header === 'string' ? parts.header : JSON.stringify(parts.header), 'utf8');
  const region = parts.padHeader === false ? 4 + header.length : (4 + header.length + 3) & ~3;
  const body = parts.body ?? new Uint8Array(0);
  const out = Buffer.alloc(region + body.length);
  out.writeUInt32LE(parts.headerLength ?? header.length, 0);
  header.copy(out, 4);
  out.set(body, region);
  return out;
}

/** Raw little-endian bytes of a Float32Array, padded to a multiple of 4 (always already). */
export function f32Bytes(values: number[]): Uint8Array {
  const a = Float32Array.from(values);
  return new Uint8Array(a.buffer);
}
