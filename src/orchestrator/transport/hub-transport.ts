/**
 * The hub's transport: a WebSocket server that admits learners (the decision is handshake.ts's),
 * keeps one connection per learner id, detects dead ones by heartbeat, and sends what is asked of
 * it, cutting a peer that leaves too much unread. Every incoming frame is validated by the protocol
 * module; a bad one gets an error reply and is dropped — it never crashes the hub. A learner's frames
 * after its hello go to the hub's hooks; what happens to connections is reported as typed events
 * (events.ts). Tasks and emulated links are not known here.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo, Server, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { LearnerSpec } from '../../model/devices.ts';
import {
  CLOSE,
  type Claim,
  decodeToOrchestrator,
  encodeMessage,
  type LearnerSettings,
  maxFrameToOrchestrator,
  partsLength,
  PROTOCOL_VERSION,
  ProtocolError,
  type ToOrchestrator,
  type WireMessage,
} from '../../protocol/messages.ts';
import { formatIdRanges } from '../../util/id-ranges.ts';
import { timerDelayMs } from '../../util/timers.ts';
import { connectionCaps, type ConnectionGuard, guardConnections } from './connection-guard.ts';
import type { HubEvent } from '../events.ts';
import { type HandshakeState, judgeClaim, judgeHello } from './handshake.ts';
import { beatOnce, Heartbeat } from './heartbeat.ts';
import { type HostClaim, HostClaims } from './host-claims.ts';
import { type ConnectionReports, errorFrame, LearnerConnection } from './learner-connection.ts';
import { createListener, listenError, type TlsFiles } from './listener.ts';

export interface TransportOptions {
  host: string;
  port: number; // 0 = any free port
  token: string;
  K: number;
  settings: LearnerSettings;
  heartbeatMs: number;
  handshakeTimeoutMs: number;
  log: (line: string) => void;
  /** the run's test of a joining learner's profile: a reason to refuse it, or null */
  checkProfile?: (spec: LearnerSpec, id: number) => string | null;
  /** the run's fleet entry for an id: the profile of a learner whose hello names none (learner hosts) */
  fleetProfile?: (id: number) => LearnerSpec | undefined;
  /** serve wss:// with this certificate and key (default: ws://) */
  tls?: TlsFiles;
  /** who came, who went, who was turned away (the caller formats them); `log` keeps only server faults */
  onEvent?: (event: HubEvent) => void;
}

export interface HubStats {
  connections: number;
  /** tasks that named the global model, and the models sent on request (model-sharing.ts) */
  tasksNamingModel: number;
  modelsSent: number;
  authFailures: number;
  handshakeFailures: number;
  framesRejected: number;
  disconnects: number;
  heartbeatTimeouts: number;
}

/** A learner's frame after its hello: about its task, or an error. */
export type LearnerFrame = Exclude<ToOrchestrator, { type: 'hello' | 'claim' }>;

/** What the hub does with its learners' connections. */
export interface TransportHooks {
  /** a learner was admitted (before anyone is told it joined) */
  connected(conn: LearnerConnection): void;
  frame(conn: LearnerConnection, message: LearnerFrame, frameBytes: number): void;
  /** a frame from it could not be read intact (it gets an error reply after this) */
  undecodable(conn: LearnerConnection, err: ProtocolError): void;
  /** its connection ended, for `why` */
  disconnected(conn: LearnerConnection, why: string): void;
}

/** One socket from its upgrade on: first a peer to admit, then a learner or a host's claim. */
interface Peer {
  ws: WebSocket;
  remote: string;
  socket: Socket;
  conn: LearnerConnection | null;
  claim: HostClaim | null;
  refused: boolean;
  handshakeTimer?: NodeJS.Timeout;
}

type CloseCode = { code: number; reason: string };

/** The process a connection comes from: its address and the pid its hello gave (none: its own). */
function hostKey(id: number, remote: string, pid: number | undefined): string {
  return pid === undefined ? `learner ${id}` : `${remote.replace(/:\d+$/, '')} pid ${pid}`;
}

const messageBytes = (m: WireMessage) => (m instanceof Uint8Array ? m.byteLength : partsLength(m));

const closeText = (code: number, reason: Buffer) =>
  `disconnected (${code}${reason.length ? ' ' + reason.toString() : ''})`;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export class LearnerTransport {
  private server?: WebSocketServer;
  private listener?: Server;
  private guard?: ConnectionGuard;
  private readonly byId = new Map<number, LearnerConnection>();
  private readonly claims = new HostClaims();
  private readonly joinListeners = new Set<(id: number) => void>();
  private readonly heartbeat: Heartbeat;
  private closing = false; // once set, nobody new gets in
  private readonly tokenDigest: Buffer;
  private readonly connectionReports: ConnectionReports = {
    rejected: () => this.stats.framesRejected++,
    emit: (event) => this.emit(event),
  };
  private readonly paramCount: number;

  constructor(
    private readonly opts: TransportOptions,
    private readonly stats: HubStats,
    private readonly hooks: TransportHooks,
  ) {
    // An empty token would let any client that sends an empty one in.
    if (opts.token.length === 0) throw new RangeError('the run token must not be empty');
    this.tokenDigest = digest(opts.token);
    this.paramCount = opts.settings.param_count;
    this.heartbeat = new Heartbeat(opts.heartbeatMs, (stalled) => this.beat(stalled));
  }

  /** Starts listening: see LearnerHub.start. */
  start(): Promise<string> {
    return new Promise((resolve, reject) => {
      const { listener, server: http } = createListener(this.opts.tls);
      // Every TCP accept is bounded before it upgrades (connection-guard.ts), TLS or not.
      this.guard = guardConnections(listener, connectionCaps(this.opts.K, this.opts.handshakeTimeoutMs));
      const server = new WebSocketServer({
        server: http,
        // Nothing a learner may legally send is larger than a result frame.
        maxPayload: maxFrameToOrchestrator(this.paramCount),
        perMessageDeflate: false,
      });
      server.on('error', () => {}); // the listener's errors, forwarded by ws: handled on the listener
      this.server = server;
      this.listener = listener;
      listener.once('error', (e: NodeJS.ErrnoException) => {
        this.server = this.listener = undefined;
        server.close();
        http.close();
        reject(listenError(e, this.opts.host, this.opts.port));
      });
      listener.on('listening', () => {
        listener.removeAllListeners('error');
        listener.on('error', (e) => this.opts.log(`server error: ${e.message}`));
        // The heartbeat starts only once we listen: a failed start must leave no timer behind.
        this.heartbeat.start();
        const { port } = listener.address() as AddressInfo;
        const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
        resolve(`${this.opts.tls ? 'wss' : 'ws'}://${host}:${port}`);
      });
      server.on('connection', (ws, req) =>
        this.accept(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`, req.socket),
      );
      listener.listen(this.opts.port, this.opts.host);
    });
  }

  connection(id: number): LearnerConnection | undefined {
    return this.byId.get(id);
  }

  connections(): IterableIterator<LearnerConnection> {
    return this.byId.values();
  }

  onJoin(listener: (id: number) => void): () => void {
    this.joinListeners.add(listener);
    return () => this.joinListeners.delete(listener);
  }

  /** See LearnerHub.disconnect. */
  disconnect(id: number, code: number, reason: string): void {
    this.byId.get(id)?.ws.close(code, reason);
  }

  /** See LearnerHub.cut. */
  cut(id: number, reason: string): void {
    this.byId.get(id)?.cut(reason);
  }

  /** Nobody new gets in from now on. */
  stopAdmitting(): void {
    this.closing = true;
    this.heartbeat.stop();
  }

  /** Says bye to every learner and host, then closes the server (stopAdmitting first). */
  async close(reason: string): Promise<void> {
    for (const conn of this.byId.values()) {
      if (conn.ws.readyState === WebSocket.OPEN) {
        conn.ws.send(encodeMessage({ type: 'bye', reason }));
        conn.ws.close(CLOSE.done.code, CLOSE.done.reason);
      }
    }
    for (const claim of this.claims.values()) claim.ws.close(CLOSE.done.code, CLOSE.done.reason);
    const server = this.server;
    if (!server) return;
    // Give clean closes a moment, then cut whatever is left.
    await new Promise((r) => setTimeout(r, 100));
    for (const ws of server.clients) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.guard?.destroyAll();
    await new Promise<void>((resolve) => (this.listener ? this.listener.close(() => resolve()) : resolve()));
  }

  private emit(event: HubEvent): void {
    this.opts.onEvent?.(event);
  }

  // ---------- one socket ----------

  private accept(ws: WebSocket, remote: string, socket: Socket): void {
    this.guard?.upgraded(socket);
    if (this.closing) return ws.close(CLOSE.shutdown.code, CLOSE.shutdown.reason);
    const peer: Peer = { ws, remote, socket, conn: null, claim: null, refused: false };
    peer.handshakeTimer = setTimeout(() => {
      this.stats.handshakeFailures++;
      this.refuse(peer, CLOSE.handshakeTimeout, '');
    }, timerDelayMs(this.opts.handshakeTimeoutMs));
    // Messages as their fragments: a result's weights, sent as a fragment of their own, are read in place.
    ws.binaryType = 'fragments';
    ws.on('message', (data: WireMessage, isBinary: boolean) => this.onFrame(peer, data, isBinary));
    ws.on('pong', () => {
      if (peer.conn) peer.conn.alive = true;
      if (peer.claim) peer.claim.alive = true;
    });
    ws.on('error', (e) => this.opts.log(`connection ${remote}: ${e.message}`));
    ws.on('close', (code, reason) => this.onClose(peer, code, reason));
  }

  private refuse(peer: Peer, close: CloseCode, detail: string): void {
    peer.refused = true;
    this.emit({ type: 'refused', remote: peer.remote, reason: close.reason, detail });
    peer.ws.close(close.code, close.reason);
    // A client that ignores the close frame does not get to hold the socket.
    setTimeout(() => peer.ws.terminate(), 2000).unref();
  }

  private onFrame(peer: Peer, data: WireMessage, isBinary: boolean): void {
    const { conn, claim } = peer;
    if (peer.refused || conn?.dropReason !== undefined) return; // frames already in flight after a refusal or a cut are not read
    if (conn) conn.alive = true;
    if (claim) {
      claim.alive = true;
      return this.replyToClaim(peer.ws, 'unexpected', 'a claim connection carries nothing after its claim');
    }
    let message: ToOrchestrator;
    try {
      if (!isBinary) throw new ProtocolError('bad_frame', 'text frames are not part of the protocol');
      message = decodeToOrchestrator(data, this.paramCount);
    } catch (e) {
      return this.onUndecodable(peer, e instanceof ProtocolError ? e : new ProtocolError('bad_frame', String(e)));
    }
    if (!conn) return this.admit(peer, message);
    if (message.type === 'hello' || message.type === 'claim') return conn.reject('unexpected', 'already joined');
    this.hooks.frame(conn, message, messageBytes(data));
  }

  private onUndecodable(peer: Peer, err: ProtocolError): void {
    const { conn } = peer;
    if (!conn) {
      clearTimeout(peer.handshakeTimer);
      if (err.code === 'auth_failed') {
        this.stats.authFailures++;
        return this.refuse(peer, CLOSE.authFailed, err.message);
      }
      this.stats.handshakeFailures++;
      return this.refuse(peer, CLOSE.badHandshake, err.message);
    }
    this.hooks.undecodable(conn, err);
    conn.reject(err.code, err.message);
  }

  /** The first frame: a learner's hello or a host's claim. */
  private admit(peer: Peer, message: ToOrchestrator): void {
    clearTimeout(peer.handshakeTimer);
    if (message.type === 'claim') peer.claim = this.grantClaim(peer, message);
    else peer.conn = this.handshake(peer, message);
    // An admitted learner or a granted claim (a host at work) is no longer a pending socket.
    if (peer.conn || peer.claim) this.guard?.joined(peer.socket);
  }

  private onClose(peer: Peer, code: number, reason: Buffer): void {
    clearTimeout(peer.handshakeTimer);
    if (peer.claim) this.endClaim(peer.claim, closeText(code, reason));
    const { conn } = peer;
    if (!conn || this.byId.get(conn.id) !== conn) return;
    this.byId.delete(conn.id);
    this.stats.disconnects++;
    const why = conn.dropReason ?? closeText(code, reason);
    if (!this.closing) this.emit({ type: 'left', learner: conn.id, reason: why }); // at shutdown every learner leaves: not news
    this.hooks.disconnected(conn, why);
  }

  private handshake(peer: Peer, message: ToOrchestrator): LearnerConnection | null {
    const decision = judgeHello(message, digest, this.handshakeState());
    if (!decision.accept) {
      if (decision.counts) this.stats[decision.counts]++;
      this.refuse(peer, decision.close, decision.detail);
      return null;
    }
    if (message.type !== 'hello') return null; // judgeHello accepts only hellos; this narrows the type
    const id = message.learner_id;
    const host = hostKey(id, peer.remote, message.pid);
    const conn = new LearnerConnection(peer.ws, id, decision.profile, host, this.connectionReports);
    this.byId.set(id, conn);
    this.hooks.connected(conn);
    this.stats.connections++;
    peer.ws.send(
      encodeMessage({ type: 'welcome', protocol: PROTOCOL_VERSION, learner_id: id, settings: this.opts.settings }),
    );
    this.emit({ type: 'joined', learner: id, remote: peer.remote, pid: message.pid ?? null });
    for (const listener of this.joinListeners) listener(id);
    return conn;
  }

  private handshakeState(): HandshakeState {
    return {
      closing: this.closing,
      tokenDigest: this.tokenDigest,
      K: this.opts.K,
      isConnected: (id) => this.byId.has(id),
      checkProfile: this.opts.checkProfile,
      fleetProfile: this.opts.fleetProfile,
      claimOf: (id) => this.claims.claimOf(id),
    };
  }

  /** A host asks for ids: the lowest free ones are its own until its claim connection ends. */
  private grantClaim(peer: Peer, message: Claim): HostClaim | null {
    const decision = judgeClaim(message, digest, this.handshakeState());
    if (!decision.accept) {
      if (decision.counts) this.stats[decision.counts]++;
      // How many ids are free is the host's to know: it is told before the close.
      if (decision.close === CLOSE.tooManyIds) this.replyToClaim(peer.ws, 'too_many_ids', decision.detail);
      this.refuse(peer, decision.close, decision.detail);
      return null;
    }
    const claim = this.claims.grant(peer.ws, decision.ids);
    const ids = formatIdRanges(claim.ids);
    peer.ws.send(encodeMessage({ type: 'grant', claim: claim.claim, ids }));
    this.emit({ type: 'claimed', remote: peer.remote, pid: message.pid ?? null, ids });
    return claim;
  }

  /** The claim's ids are free again (its host is gone): the next host that asks gets them. */
  private endClaim(claim: HostClaim, reason: string): void {
    if (this.claims.end(claim) && !this.closing)
      this.emit({ type: 'claim-ended', ids: formatIdRanges(claim.ids), reason });
  }

  /** An error frame to a host's claim connection (a claim holds no learner, so nothing to count or cut). */
  private replyToClaim(ws: WebSocket, code: string, message: string): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(errorFrame(code, message));
  }

  /** A learner silent for two beats is dropped (its task is missing); a silent claim's host is gone. */
  private beat(stalled: boolean): void {
    for (const conn of this.byId.values()) {
      if (!beatOnce(conn, stalled)) continue;
      this.stats.heartbeatTimeouts++;
      const beats = conn.missedBeats;
      this.emit({ type: 'heartbeat-missed', learner: conn.id, beats, heartbeat_ms: this.opts.heartbeatMs });
      conn.cut(`missed heartbeat (silent for ${beats} beats)`);
    }
    for (const claim of this.claims.values()) if (beatOnce(claim, stalled)) claim.ws.terminate(); // its close ends the claim
  }
}
