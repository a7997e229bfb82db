/**
 * The hub's listening socket: plain HTTP (ws://) or TLS (wss://) under the WebSocket server. With
 * TLS one port answers both kinds of client: a TLS handshake goes on to the HTTPS server, anything
 * else (a learner told ws://) gets a 426 that says to use wss://, so it is refused at once with a
 * reason instead of seeing a reset connection that looks like a network fault.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { InputError } from '../../errors.ts';
import { TLS_REQUIRED_HEADER, TLS_REQUIRED_REASON } from '../../protocol/messages.ts';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/** A TLS record starts with 0x16 (handshake); an HTTP request with a method's letter. */
const TLS_HANDSHAKE_BYTE = 0x16;
/** A connection that says nothing this long is closed (a real client speaks at once). */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

/** Reads --tls-cert and --tls-key and checks they make a usable pair, so a bad file fails before the run starts. */
export function readTlsFiles(certFile: string, keyFile: string): TlsFiles {
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new InputError(`cannot read ${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const files = { cert: read('--tls-cert', certFile), key: read('--tls-key', keyFile) };
  try {
    createSecureContext(files);
  } catch (e) {
    throw new InputError(
      `--tls-cert ${certFile} with --tls-key ${keyFile} is not a usable PEM certificate and key: ${(e as Error).message}`,
    );
  }
  return files;
}

/** SHA-256 fingerprint of the (first) certificate, as a TLS peer reports it: what spawned hosts pin. */
export function certFingerprint(cert: Buffer): string {
  return new X509Certificate(cert).fingerprint256;
}

/** Non-upgrade HTTP requests get what ws answers them when it owns the server. */
function upgradeOnly(_req: http.IncomingMessage, res: http.ServerResponse): void {
  const body = http.STATUS_CODES[426]!;
  res.writeHead(426, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function refusePlain(socket: net.Socket): void {
  socket.resume(); // the rest of the request is read and dropped, so the socket closes when the client does
  const body = TLS_REQUIRED_REASON + '\n';
  socket.end(
    `HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Type: text/plain\r\n${TLS_REQUIRED_HEADER}: ${TLS_REQUIRED_REASON}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * `listener` is what listens (and reports listen errors); `server` is what the WebSocket server
 * attaches to. Without TLS they are one HTTP server.
 */
export function createListener(tls?: TlsFiles): { listener: net.Server; server: http.Server } {
  if (!tls) {
    const server = http.createServer(upgradeOnly);
    return { listener: server, server };
  }
  const server = https.createServer({ cert: tls.cert, key: tls.key }, upgradeOnly);
  const listener = net.createServer((socket) => {
    socket.on('error', () => {}); // a peer that resets mid-handshake is not the server's fault
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('data', (first) => {
      socket.setTimeout(0);
      if (first[0] !== TLS_HANDSHAKE_BYTE) return refusePlain(socket);
      socket.pause();
      socket.unshift(first); // the TLS socket reads what is buffered first
      server.emit('connection', socket);
    });
  });
  return { listener, server };
}

/** Why we could not listen, in the user's terms (the flags to change). */
export function listenError(e: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return new InputError(
        `cannot listen on ${where}: port ${port} is already in use; choose another --port (0 = any free port)`,
      );
    case 'EACCES':
      return new InputError(
        `cannot listen on ${where}: permission denied (ports below 1024 need privileges); choose another --port`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new InputError(`cannot listen on ${where}: --host ${host} is not an address of this machine (${e.code})`);
    default:
      return new Error(`cannot listen on ${where}: ${e.message}`);
  }
}
