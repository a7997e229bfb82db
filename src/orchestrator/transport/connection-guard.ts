/**
 * Bounds what connections that have not joined may hold: a socket that does not upgrade to
 * WebSocket within the handshake timeout of its TCP accept is closed (not left to the HTTP headers
 * timeout; once upgraded, the hub's hello timer ends it), at most `maxPending` sockets wait to join
 * at once, and at most `maxPerPeer` come from one address. Past a cap a new socket is closed at once,
 * before it costs more than its accept: a flood of connections cannot take the descriptors the run
 * needs for its own files.
 */
import type { Server, Socket } from 'node:net';

export interface ConnectionCaps {
  /** sockets that have not joined (before the upgrade or before the hello) */
  maxPending: number;
  /** sockets from one address, joined or not (a learner host holds one per learner) */
  maxPerPeer: number;
  /** from the TCP accept to the upgrade, ms */
  deadlineMs: number;
}

/** Room beyond K: rejoins racing the old connection's close, and a few probes. */
export const CONNECTION_SLACK = 64;

/** The caps for a run of K learners: an honest fleet never meets them. */
export function connectionCaps(K: number, deadlineMs: number): ConnectionCaps {
  return { maxPending: K + CONNECTION_SLACK, maxPerPeer: K + CONNECTION_SLACK, deadlineMs };
}

export interface ConnectionGuard {
  /** the socket upgraded to WebSocket: from now on the hub's handshake timer ends it (with a close code) */
  upgraded(socket: Socket): void;
  /** the socket's hello was accepted: it no longer counts as pending */
  joined(socket: Socket): void;
  /** sockets closed at once because a cap was full */
  readonly refused: () => number;
  /** ends every socket still open (shutdown: the HTTP server closes only once they are gone) */
  destroyAll(): void;
}

export function guardConnections(server: Server, caps: ConnectionCaps): ConnectionGuard {
  // Keyed by the peer's address and port: under TLS the hub sees the TLS socket, the guard the raw one.
  const pending = new Set<string>();
  const deadlines = new Map<string, NodeJS.Timeout>(); // pending sockets not yet upgraded
  const perPeer = new Map<string, number>();
  const all = new Set<Socket>();
  let refused = 0;
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress ?? '';
    const key = endpoint(socket);
    const fromPeer = perPeer.get(peer) ?? 0;
    if (pending.size >= caps.maxPending || fromPeer >= caps.maxPerPeer) {
      refused++;
      socket.destroy();
      return;
    }
    perPeer.set(peer, fromPeer + 1);
    all.add(socket);
    pending.add(key);
    deadlines.set(
      key,
      setTimeout(() => socket.destroy(), caps.deadlineMs),
    );
    socket.once('close', () => {
      clearTimeout(deadlines.get(key));
      deadlines.delete(key);
      pending.delete(key);
      all.delete(socket);
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left > 0) perPeer.set(peer, left);
      else perPeer.delete(peer);
    });
  });
  return {
    upgraded(socket) {
      const key = endpoint(socket);
      clearTimeout(deadlines.get(key));
      deadlines.delete(key);
    },
    joined(socket) {
      pending.delete(endpoint(socket));
    },
    refused: () => refused,
    destroyAll() {
      for (const socket of all) socket.destroy();
    },
  };
}

const endpoint = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
