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
  return new Promise((resolve, reject) => ws.send(data, { binary: true, fin }, (err) => (err ? reject(err) : resolve())));
}

/** Sends one message; resolves when the last byte was handed to the socket. Returns wall seconds spent. */
export async function sendPaced(ws: WebSocket, frame: Uint8Array, rate_bps: number, clock: Clock): Promise<number> {
  const start = monotonicSeconds();
  if (clock.mode === 'virtual') {
    await sendFragment(ws, frame, true);
    return monotonicSeconds() - start;
  }
  const wallBytesPerS = rate_bps / 8 / clock.timeScale;
  const chunk = Math.max(MIN_CHUNK_BYTES, Math.ceil(wallBytesPerS * TICK_S));
  for (let offset = 0; offset < frame.length; offset += chunk) {
    const end = Math.min(frame.length, offset + chunk);
    // Token bucket: this fragment may leave once the link has carried the bytes before it.
    await sleepWall(start + offset / wallBytesPerS - monotonicSeconds());
    await sendFragment(ws, frame.subarray(offset, end), end === frame.length);
  }
  // The last fragment's own transmission time.
  await sleepWall(start + frame.length / wallBytesPerS - monotonicSeconds());
  return monotonicSeconds() - start;
}
