/**
 * Bounds what connections that have not joined may hold: each one gets one deadline from its TCP
 * accept to an accepted hello (so a raw socket that never upgrades does not live for the HTTP
 * headers timeout), and at most `maxPending` of them exist at once, at most `maxPerPeer` sockets per
 * address. Past a cap a new socket is closed at once, before it costs more than its accept: a flood
 * of connections cannot take the descriptors the run needs for its own files.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionCaps {
  /** sockets that have not joined (before the upgrade or before the hello) */
  maxPending: number;
  /** sockets from one address, joined or not (a learner host holds one per learner) */
  maxPerPeer: number;
  /** from the TCP accept to an accepted hello, ms */
  deadlineMs: number;
}

/** Room beyond K: rejoins racing the old connection's close, and a few probes. */
export const CONNECTION_SLACK = 64;

/** The caps for a run of K learners: an honest fleet never meets them. */
export function connectionCaps(K: number, deadlineMs: number): ConnectionCaps {
  return { maxPending: K + CONNECTION_SLACK, maxPerPeer: K + CONNECTION_SLACK, deadlineMs };
}

export interface ConnectionGuard {
  /** the socket's hello was accepted: it no longer counts as pending and its deadline is off */
  joined(socket: Socket): void;
  /** sockets closed at once because a cap was full */
  readonly refused: () => number;
  /** ends every socket still open (shutdown: the HTTP server closes only once they are gone) */
  destroyAll(): void;
}

export function guardConnections(server: Server, caps: ConnectionCaps): ConnectionGuard {
  const deadlines = new Map<Socket, NodeJS.Timeout>(); // pending sockets
  const perPeer = new Map<string, number>();
  const all = new Set<Socket>();
  let refused = 0;
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress ?? '';
    const fromPeer = perPeer.get(peer) ?? 0;
    if (deadlines.size >= caps.maxPending || fromPeer >= caps.maxPerPeer) {
      refused++;
      socket.destroy();
      return;
    }
    perPeer.set(peer, fromPeer + 1);
    all.add(socket);
    deadlines.set(socket, setTimeout(() => socket.destroy(), caps.deadlineMs));
    socket.once('close', () => {
      clearTimeout(deadlines.get(socket));
      deadlines.delete(socket);
      all.delete(socket);
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left > 0) perPeer.set(peer, left);
      else perPeer.delete(peer);
    });
  });
  return {
    joined(socket) {
      clearTimeout(deadlines.get(socket));
      deadlines.delete(socket);
    },
    refused: () => refused,
    destroyAll() {
      for (const socket of all) socket.destroy();
    },
  };
}
