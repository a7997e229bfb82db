/**
 * Link emulation on the sending side. Virtual clock: the frame goes out at host speed.
 * Real clock: a token bucket releases the frame in WebSocket fragments at rate_bps / timeScale,
 * so the receiver sees the message complete after (bytes·8 / rate_bps)·timeScale wall seconds.
 */
import type { WebSocket } from 'ws';
import { monotonicSeconds, sleepWall, type Clock } from './clock.ts';

/** Fragments are released about every 10 ms (but at least 16 KiB each) to keep timer overhead low. */
const TICK_S = 0.01;
const MIN_CHUNK_BYTES = 16 * 1024;

function sendFragment(ws: WebSocket, data: Uint8Array, fin: boolean): Promise<void> {
  return new Promise((resolve, reject) =>
    ws.send(data, { binary: true, fin }, (err) => (err ? reject(err) : resolve())),
  );
}

/**
 * Sends one message, given whole or as consecutive parts (sent without being joined); resolves when
 * the last byte was handed to the socket. Returns wall seconds spent.
 */
export async function sendPaced(
  ws: WebSocket,
  frame: Uint8Array | readonly Uint8Array[],
  rate_bps: number,
  clock: Clock,
): Promise<number> {
  const start = monotonicSeconds();
  const parts = frame instanceof Uint8Array ? [frame] : frame.filter((p) => p.byteLength > 0);
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  if (clock.mode === 'virtual') {
    // All fragments are queued in one go: no other message can slip in between them.
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) ws.send(parts[i], { binary: true, fin: false });
    await sendFragment(ws, parts[last] ?? new Uint8Array(0), true);
    return monotonicSeconds() - start;
  }
  const wallBytesPerS = rate_bps / 8 / clock.timeScale;
  const chunk = Math.max(MIN_CHUNK_BYTES, Math.ceil(wallBytesPerS * TICK_S));
  let offset = 0; // bytes of the message handed to the socket so far
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    for (let at = 0; at < part.byteLength; at += chunk) {
      const end = Math.min(part.byteLength, at + chunk);
      // Token bucket: this fragment may leave once the link has carried the bytes before it.
      await sleepWall(start + offset / wallBytesPerS - monotonicSeconds());
      await sendFragment(ws, part.subarray(at, end), i === parts.length - 1 && end === part.byteLength);
      offset += end - at;
    }
  }
  // The last fragment's own transmission time.
  await sleepWall(start + total / wallBytesPerS - monotonicSeconds());
  return monotonicSeconds() - start;
}
