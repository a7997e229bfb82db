/**
 * The orchestrator's transport: a WebSocket server that admits learners (the decision is
 * handshake.ts's), keeps one connection per learner id, detects dead ones by heartbeat, and carries
 * one task at a time per learner — sendTask returns a handle, and when a held task may start is the
 * caller's policy (the cycle's compute slots). Every incoming frame is validated by the protocol
 * module; a bad one gets an error reply and is dropped — it never crashes the hub. What happens to
 * connections is reported as typed events (events.ts).
 *
 * Under the virtual clock a task to a learner that shares its process (a learner host) with others
 * names the global model instead of carrying it, and the process fetches each model once: nothing
 * waits for bytes in that mode, so only their count matters, and it is the full frame's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { LearnerSpec } from '../model/devices.ts';
import { monotonicSeconds, type Clock } from '../emulation/clock.ts';
import { InputError } from '../errors.ts';
import { TRAINING_DIVERGED_REASON } from './divergence.ts';
import type { HubEvent } from './events.ts';
import { judgeClaim, judgeHello, type HandshakeState } from './handshake.ts';
import { formatIdRanges } from '../util/id-ranges.ts';
import { createListener, type TlsFiles } from './listener.ts';
import { connectionCaps, guardConnections, type ConnectionGuard } from './connection-guard.ts';
import { sendPaced } from '../emulation/link.ts';
import { timerDelayMs } from '../util/timers.ts';
import {
  CLOSE,
  decodeToOrchestrator,
  encodeMessage,
  encodeTimedMessageParts,
  type WireMessage,
  maxFrameToOrchestrator,
  partsLength,
  PROTOCOL_VERSION,
  ProtocolError,
  type Claim,
  type ComputeDone,
  type LearnerSettings,
  type Result,
  type Shard,
  type Task,
  type ToOrchestrator,
} from '../protocol/messages.ts';

export interface HubOptions {
  host: string;
  port: number; // 0 = any free port
  token: string;
  K: number;
  settings: LearnerSettings;
  clock: Clock;
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

export interface TaskWall {
  send_s: number; // paced send of the task frame (orchestrator side)
  compute_s: number; // training + padding, reported by the learner
  return_s: number; // compute_done → result received
}

export interface SendOptions {
  /** held: the learner trains only after handle.start() */
  hold: boolean;
  /**
   * called once the frame has left (or failed to): the task's arrays, which the socket writes as
   * they are (never copied into a frame), may be reused
   */
  onFrameFree?: () => void;
}

/** A task on its way: the caller decides when a held task may start. */
export interface TaskHandle {
  /** the task frame was handed to the socket (or the task already ended) */
  sent: Promise<void>;
  /** training is over (compute_done arrived) or the task ended: a compute slot may be released */
  computed: Promise<void>;
  /** lets a held task start training; no-op once the task ended */
  start(): void;
  /** never rejects */
  outcome: Promise<TaskOutcome>;
}

/** A result that arrived: the learner's weights and what its task measured. */
export interface Delivered {
  result: Result;
  computeDone: ComputeDone;
  bytesSent: number;
  bytesReturned: number;
  wall: TaskWall;
}

/**
 * ok: the result arrived; lost: it arrived but is lost on the way to the average (fault injection),
 * so its timeline is known; missing: there is no result (not connected, died, timed out, refused).
 */
export type TaskOutcome =
  | ({ status: 'ok' } & Delivered)
  | ({ status: 'lost'; reason: string } & Delivered)
  | { status: 'missing'; reason: string; bytesSent: number };

interface PendingTask {
  task: Task;
  /** the model the task named instead of carrying it: the only one its learner may ask for */
  modelRef?: string;
  /** the full task frame's length, weights included, however the weights travelled */
  bytesSent: number;
  modelRequests: number;
  sentDoneAt: number;
  sendWall_s: number;
  computeDone?: ComputeDone;
  computeDoneAt?: number;
  /** training is over (compute_done arrived) or the task ended: its compute slot may go */
  markComputed: () => void;
  resolve: (o: TaskOutcome) => void;
  timer?: NodeJS.Timeout;
}

interface Connection {
  ws: WebSocket;
  id: number;
  profile: LearnerSpec;
  pid?: number;
  remote: string;
  alive: boolean; // a pong or a frame arrived since the last beat
  missedBeats: number; // consecutive beats without a sign of life
  dropReason?: string; // why the hub itself cut this connection
  pending?: PendingTask;
  rejectedFrames: number;
}

/** A host's claim on learner ids (--learner-ids auto:N): its ids are its own while this connection lasts. */
interface HostClaim {
  ws: WebSocket;
  claim: string;
  ids: number[];
  alive: boolean;
  missedBeats: number;
}

export interface HubStats {
  connections: number;
  /** tasks that named the global model, and the models sent on request (see sendTask) */
  tasksNamingModel: number;
  modelsSent: number;
  authFailures: number;
  handshakeFailures: number;
  framesRejected: number;
  disconnects: number;
  heartbeatTimeouts: number;
}

/** Models a learner may still ask for: a cycle names one per scheme, and schemes run one after another. */
const MODELS_KEPT = 8;

/**
 * What one connection may cost us before it is cut. An honest learner asks for a task's model once
 * (twice if a sibling's fetch died with its session), has few frames refused, and reads what we
 * send; a peer that does otherwise would make the orchestrator buffer frames for it without end.
 */
export const CONNECTION_LIMITS = {
  model_requests_per_task: 2,
  rejected_frames: 100,
  /** our replies and models it leaves unread, bytes (a task frame is sent regardless: it is paced) */
  unread_bytes: 16 * 2 ** 20,
} as const;

/** The process a connection comes from: its address and the pid its hello gave (none: its own). */
function hostKey(conn: Connection): string {
  return conn.pid === undefined ? `learner ${conn.id}` : `${conn.remote.replace(/:\d+$/, '')} pid ${conn.pid}`;
}

const messageBytes = (m: WireMessage) => (m instanceof Uint8Array ? m.byteLength : partsLength(m));

/** Peer-supplied text goes into the run log on one line: control characters are escaped. */
function oneLine(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this escapes
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Why we could not listen, in the user's terms (the flags to change). */
function listenError(e: NodeJS.ErrnoException, host: string, port: number): Error {
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

function errorFrame(code: string, message: string, task_id?: string): Buffer {
  return encodeMessage({
    type: 'error',
    code,
    message: message.slice(0, 200),
    ...(task_id === undefined ? {} : { task_id }),
  });
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export class LearnerHub {
  readonly stats: HubStats = {
    connections: 0,
    tasksNamingModel: 0,
    modelsSent: 0,
    authFailures: 0,
    handshakeFailures: 0,
    framesRejected: 0,
    disconnects: 0,
    heartbeatTimeouts: 0,
  };
  private server?: WebSocketServer;
  private listener?: Server;
  private guard?: ConnectionGuard;
  private readonly byId = new Map<number, Connection>();
  private readonly claims = new Map<string, HostClaim>();
  private readonly claimOfId = new Map<number, string>();
  private readonly joinListeners = new Set<(id: number) => void>();
  private heartbeat?: NodeJS.Timeout;
  private lastBeatAt = 0;
  private closing = false; // once set, nobody new gets in
  private readonly tokenDigest: Buffer;
  private readonly paramCount: number;
  /** connected learners per process (hostKeyOf) */
  private readonly sessionsPerHost = new Map<string, number>();
  /** the global models tasks named, newest last; refs are unique to this hub (a rejoining host never mixes runs) */
  private readonly models = new Map<string, Float32Array>();
  private readonly modelRefs = new WeakMap<Float32Array, string>();
  private readonly refPrefix = randomBytes(4).toString('hex');
  private modelCount = 0;

  constructor(private readonly opts: HubOptions) {
    // An empty token would let any client that sends an empty one in.
    if (opts.token.length === 0) throw new RangeError('the run token must not be empty');
    this.tokenDigest = digest(opts.token);
    this.paramCount = opts.settings.param_count;
  }

  /**
   * Starts listening; resolves with the ws:// (wss:// with TLS) URL learners connect to. A port in
   * use or an address we cannot bind is the user's to fix (InputError); nothing is left running
   * when it fails.
   */
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
        this.lastBeatAt = monotonicSeconds();
        this.heartbeat = setInterval(() => this.beat(), timerDelayMs(this.opts.heartbeatMs));
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

  connectedIds(): number[] {
    return [...this.byId.keys()].sort((a, b) => a - b);
  }

  isConnected(id: number): boolean {
    return this.byId.has(id);
  }

  /** The process learner `id` runs in (address and pid): learners of one host share its CPU. */
  hostKeyOf(id: number): string {
    const conn = this.byId.get(id);
    return conn ? hostKey(conn) : `learner ${id}`;
  }

  profileOf(id: number): LearnerSpec | undefined {
    return this.byId.get(id)?.profile;
  }

  onJoin(listener: (id: number) => void): () => void {
    this.joinListeners.add(listener);
    return () => this.joinListeners.delete(listener);
  }

  /**
   * Resolves with the ids still absent after `timeoutMs` (empty when all joined in time), or at
   * once when `signal` aborts (Ctrl-C must not wait out the join timeout).
   */
  waitFor(ids: number[], timeoutMs: number, signal?: AbortSignal): Promise<number[]> {
    const absent = () => ids.filter((id) => !this.byId.has(id));
    if (absent().length === 0 || signal?.aborted) return Promise.resolve(absent());
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', done);
        resolve(absent());
      };
      const off = this.onJoin(() => {
        if (absent().length === 0) done();
      });
      const timer = setTimeout(done, timerDelayMs(timeoutMs));
      signal?.addEventListener('abort', done);
    });
  }

  async sendShard(id: number, shard: Shard): Promise<void> {
    const conn = this.byId.get(id);
    if (!conn) throw new Error(`learner ${id} is not connected`);
    // The shard is set-up, not part of any cycle: it is not paced.
    await new Promise<void>((resolve, reject) =>
      conn.ws.send(encodeMessage(shard), (e) => (e ? reject(e) : resolve())),
    );
  }

  /** Sends one task that starts at once and waits for its outcome (never rejects; failures are 'missing'). */
  runTask(id: number, task: Task, timeoutMs: number): Promise<TaskOutcome> {
    return this.sendTask(id, task, timeoutMs, { hold: false }).outcome;
  }

  /**
   * Sends one task now. A held task travels at once but the learner trains only after
   * `handle.start()` (the caller's compute-slot policy decides when); its timeout starts then,
   * because it covers the learner's work. The outcome never rejects: failures are 'missing'.
   */
  sendTask(id: number, task: Task, timeoutMs: number, opts: SendOptions): TaskHandle {
    const conn = this.byId.get(id);
    const refused = (reason: string): TaskHandle => ({
      sent: Promise.resolve(),
      computed: Promise.resolve(),
      start: () => {},
      outcome: Promise.resolve({ status: 'missing', reason, bytesSent: 0 }),
    });
    if (!conn || conn.pending) opts.onFrameFree?.();
    if (!conn) return refused('not connected');
    if (conn.pending) return refused('previous task still running');
    const full = opts.hold ? { ...task, hold: true } : task;
    const modelRef = this.shareModelWith(conn) ? this.refOf(task.weights) : undefined;
    const whole = encodeTimedMessageParts(full); // views of the task's arrays: nothing is copied
    const frameBytes = partsLength(whole);
    const frame = modelRef === undefined ? whole : encodeTimedMessageParts(full, modelRef);
    if (modelRef !== undefined) this.stats.tasksNamingModel++;
    let markSent: () => void = () => {};
    const sent = new Promise<void>((r) => (markSent = r));
    let markComputed: () => void = () => {};
    const computed = new Promise<void>((r) => (markComputed = r));
    let resolveOutcome: (o: TaskOutcome) => void = () => {};
    const outcome = new Promise<TaskOutcome>((r) => (resolveOutcome = r));

    const pending: PendingTask = {
      task,
      modelRef,
      bytesSent: frameBytes,
      modelRequests: 0,
      sentDoneAt: 0,
      sendWall_s: 0,
      markComputed,
      resolve: () => {},
    };
    pending.resolve = (o) => {
      clearTimeout(pending.timer);
      if (conn.pending === pending) conn.pending = undefined;
      markSent(); // a failed send must not leave a slot waiting for it
      markComputed();
      resolveOutcome(o);
    };
    conn.pending = pending;
    sendPaced(conn.ws, frame, task.rate_bps, this.opts.clock)
      .then(
        (wall) => {
          pending.sendWall_s = wall;
          pending.sentDoneAt = monotonicSeconds();
          markSent();
        },
        (e: Error) =>
          pending.resolve({ status: 'missing', reason: `send failed: ${e.message}`, bytesSent: frameBytes }),
      )
      .finally(() => opts.onFrameFree?.());
    const armTimeout = () => {
      if (conn.pending !== pending) return;
      pending.timer = setTimeout(
        () =>
          pending.resolve({
            status: 'missing',
            reason: `no result within ${(timeoutMs / 1000).toFixed(0)} s`,
            bytesSent: frameBytes,
          }),
        timerDelayMs(timeoutMs),
      );
    };
    if (!opts.hold) armTimeout();
    const start = () => {
      if (conn.pending !== pending || conn.ws.readyState !== WebSocket.OPEN) return;
      conn.ws.send(encodeMessage({ type: 'start', task_id: task.task_id }));
      armTimeout();
    };
    return { sent, computed, start, outcome };
  }

  /** A learner shares its process with others and nothing waits for bytes: its tasks may name their model. */
  private shareModelWith(conn: Connection): boolean {
    return this.opts.clock.mode === 'virtual' && (this.sessionsPerHost.get(hostKey(conn)) ?? 0) > 1;
  }

  /**
   * The ref of a global model (the same array, the same ref), kept for the learners that will ask for
   * it. A model may be named again much later (every scheme starts from the same initial weights).
   */
  private refOf(weights: Float32Array): string {
    let ref = this.modelRefs.get(weights);
    if (ref === undefined) {
      ref = `${this.refPrefix}-${++this.modelCount}`;
      this.modelRefs.set(weights, ref);
    }
    // Newest last: the least recently named model goes first.
    this.models.delete(ref);
    this.models.set(ref, weights);
    for (const old of this.models.keys()) if (this.models.size > MODELS_KEPT) this.models.delete(old);
    return ref;
  }

  /** Drops a learner's connection (fault injection and shutdown). */
  disconnect(id: number, code: number = CLOSE.shutdown.code, reason: string = CLOSE.shutdown.reason): void {
    const conn = this.byId.get(id);
    if (conn) conn.ws.close(code, reason);
  }

  /**
   * Cuts a learner's connection without a close frame, as a crash looks (fault injection, a stuck
   * learner in a shared host): its task, if any, is missing with `reason`; the learner may rejoin.
   */
  cut(id: number, reason: string): void {
    const conn = this.byId.get(id);
    if (!conn) return;
    conn.dropReason = reason;
    conn.ws.terminate();
  }

  /** Gives up every running task now (Ctrl-C): the cycle loop then finishes at once. */
  failPending(reason: string): void {
    for (const conn of this.byId.values())
      conn.pending?.resolve({ status: 'missing', reason, bytesSent: conn.pending.bytesSent });
  }

  async close(reason = 'run finished'): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    this.failPending('orchestrator shutting down');
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

  // ---------- connection handling ----------

  private accept(ws: WebSocket, remote: string, socket: Socket): void {
    this.guard?.upgraded(socket);
    if (this.closing) return ws.close(CLOSE.shutdown.code, CLOSE.shutdown.reason);
    let conn: Connection | null = null;
    let claim: HostClaim | null = null;
    let refused = false;
    const refuse = (close: { code: number; reason: string }, detail: string) => {
      refused = true;
      this.emit({ type: 'refused', remote, reason: close.reason, detail });
      ws.close(close.code, close.reason);
      // A client that ignores the close frame does not get to hold the socket.
      setTimeout(() => ws.terminate(), 2000).unref();
    };
    const handshakeTimer = setTimeout(() => {
      this.stats.handshakeFailures++;
      refuse(CLOSE.handshakeTimeout, '');
    }, timerDelayMs(this.opts.handshakeTimeoutMs));

    // Messages as their fragments: a result's weights, sent as a fragment of their own, are read in place.
    ws.binaryType = 'fragments';
    ws.on('message', (data: WireMessage, isBinary: boolean) => {
      if (refused || conn?.dropReason !== undefined) return; // frames already in flight after a refusal or a cut are not read
      if (conn) conn.alive = true;
      if (claim) {
        claim.alive = true;
        return this.replyToClaim(ws, 'unexpected', 'a claim connection carries nothing after its claim');
      }
      let message: ToOrchestrator;
      try {
        if (!isBinary) throw new ProtocolError('bad_frame', 'text frames are not part of the protocol');
        message = decodeToOrchestrator(data, this.paramCount);
      } catch (e) {
        const err = e instanceof ProtocolError ? e : new ProtocolError('bad_frame', String(e));
        if (!conn) {
          clearTimeout(handshakeTimer);
          if (err.code === 'auth_failed') {
            this.stats.authFailures++;
            return refuse(CLOSE.authFailed, err.message);
          }
          this.stats.handshakeFailures++;
          return refuse(CLOSE.badHandshake, err.message);
        }
        // A result the assigned learner could not deliver intact (e.g. NaN weights) fails its task now.
        if (err.code === 'non_finite' && conn.pending?.computeDone)
          conn.pending.resolve({
            status: 'missing',
            reason: `result rejected: ${err.message}`,
            bytesSent: conn.pending.bytesSent,
          });
        return this.reject(conn, err.code, err.message);
      }
      if (!conn) {
        clearTimeout(handshakeTimer);
        if (message.type === 'claim') {
          claim = this.grantClaim(ws, remote, message, refuse);
          if (claim) this.guard?.joined(socket); // a granted claim is a host at work, not a pending socket
        } else {
          conn = this.handshake(ws, remote, message, refuse);
          if (conn) this.guard?.joined(socket);
        }
        return;
      }
      this.route(conn, message, messageBytes(data));
    });
    ws.on('pong', () => {
      if (conn) conn.alive = true;
      if (claim) claim.alive = true;
    });
    ws.on('error', (e) => this.opts.log(`connection ${remote}: ${e.message}`));
    ws.on('close', (code, reason) => {
      clearTimeout(handshakeTimer);
      if (claim) this.endClaim(claim, `disconnected (${code}${reason.length ? ' ' + reason.toString() : ''})`);
      if (!conn || this.byId.get(conn.id) !== conn) return;
      this.byId.delete(conn.id);
      const key = hostKey(conn);
      const left = (this.sessionsPerHost.get(key) ?? 1) - 1;
      if (left > 0) this.sessionsPerHost.set(key, left);
      else this.sessionsPerHost.delete(key);
      this.stats.disconnects++;
      const why = conn.dropReason ?? `disconnected (${code}${reason.length ? ' ' + reason.toString() : ''})`;
      if (!this.closing) this.emit({ type: 'left', learner: conn.id, reason: why }); // at shutdown every learner leaves: not news
      conn.pending?.resolve({ status: 'missing', reason: why, bytesSent: conn.pending.bytesSent });
    });
  }

  private handshake(
    ws: WebSocket,
    remote: string,
    message: ToOrchestrator,
    refuse: (c: { code: number; reason: string }, detail: string) => void,
  ): Connection | null {
    const decision = judgeHello(message, digest, this.handshakeState());
    if (!decision.accept) {
      if (decision.counts) this.stats[decision.counts]++;
      refuse(decision.close, decision.detail);
      return null;
    }
    if (message.type !== 'hello') return null; // judgeHello accepts only hellos; this narrows the type
    const conn: Connection = {
      ws,
      id: message.learner_id,
      profile: decision.profile,
      pid: message.pid,
      remote,
      alive: true,
      missedBeats: 0,
      rejectedFrames: 0,
    };
    this.byId.set(conn.id, conn);
    const key = hostKey(conn);
    this.sessionsPerHost.set(key, (this.sessionsPerHost.get(key) ?? 0) + 1);
    this.stats.connections++;
    ws.send(
      encodeMessage({ type: 'welcome', protocol: PROTOCOL_VERSION, learner_id: conn.id, settings: this.opts.settings }),
    );
    this.emit({ type: 'joined', learner: conn.id, remote, pid: message.pid ?? null });
    for (const listener of this.joinListeners) listener(conn.id);
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
      claimOf: (id) => this.claimOfId.get(id),
    };
  }

  /** A host asks for ids: the lowest free ones are its own until its claim connection ends. */
  private grantClaim(
    ws: WebSocket,
    remote: string,
    message: Claim,
    refuse: (c: { code: number; reason: string }, detail: string) => void,
  ): HostClaim | null {
    const decision = judgeClaim(message, digest, this.handshakeState());
    if (!decision.accept) {
      if (decision.counts) this.stats[decision.counts]++;
      // How many ids are free is the host's to know: it is told before the close.
      if (decision.close === CLOSE.tooManyIds) this.replyToClaim(ws, 'too_many_ids', decision.detail);
      refuse(decision.close, decision.detail);
      return null;
    }
    const claim: HostClaim = {
      ws,
      claim: randomBytes(8).toString('hex'),
      ids: decision.ids,
      alive: true,
      missedBeats: 0,
    };
    this.claims.set(claim.claim, claim);
    for (const id of claim.ids) this.claimOfId.set(id, claim.claim);
    const ids = formatIdRanges(claim.ids);
    ws.send(encodeMessage({ type: 'grant', claim: claim.claim, ids }));
    this.emit({ type: 'claimed', remote, pid: message.pid ?? null, ids });
    return claim;
  }

  /** The claim's ids are free again (its host is gone): the next host that asks gets them. */
  private endClaim(claim: HostClaim, reason: string): void {
    if (this.claims.get(claim.claim) !== claim) return;
    this.claims.delete(claim.claim);
    for (const id of claim.ids) if (this.claimOfId.get(id) === claim.claim) this.claimOfId.delete(id);
    if (!this.closing) this.emit({ type: 'claim-ended', ids: formatIdRanges(claim.ids), reason });
  }

  private route(conn: Connection, message: ToOrchestrator, frameBytes: number): void {
    const pending = conn.pending;
    switch (message.type) {
      case 'trained':
        if (!pending || pending.task.task_id !== message.task_id)
          return this.reject(conn, 'unexpected', `trained for task ${message.task_id} that is not running`);
        pending.markComputed();
        return;
      case 'compute_done':
        if (!pending || pending.task.task_id !== message.task_id || pending.computeDone)
          return this.reject(conn, 'unexpected', `compute_done for task ${message.task_id} that is not running`);
        pending.computeDone = message;
        pending.computeDoneAt = monotonicSeconds();
        pending.markComputed();
        return;
      case 'result': {
        if (!pending || pending.task.task_id !== message.task_id)
          return this.reject(conn, 'unexpected', `result for task ${message.task_id} that is not running`);
        if (message.samples !== pending.task.samples || message.cycle !== pending.task.cycle)
          return this.reject(
            conn,
            'bad_field',
            `result for ${message.samples} samples of cycle ${message.cycle}, task was ${pending.task.samples} of cycle ${pending.task.cycle}`,
          );
        const now = monotonicSeconds();
        const computeDone = pending.computeDone ?? {
          type: 'compute_done',
          task_id: message.task_id,
          train_wall_s: message.train_wall_s,
          compute_wall_s: message.compute_wall_s,
          overrun_s: message.overrun_s,
        };
        pending.resolve({
          status: 'ok',
          result: message,
          computeDone,
          bytesSent: pending.bytesSent,
          bytesReturned: frameBytes,
          wall: {
            send_s: pending.sendWall_s,
            compute_s: computeDone.compute_wall_s,
            return_s: now - (pending.computeDoneAt ?? now),
          },
        });
        return;
      }
      case 'model_request': {
        const weights = this.models.get(message.model);
        if (!pending || pending.modelRef !== message.model || !weights)
          return this.reject(
            conn,
            'unexpected',
            `model ${message.model} is not named by a running task`,
            message.task_id,
          );
        if (++pending.modelRequests > CONNECTION_LIMITS.model_requests_per_task)
          return this.cutFlooding(
            conn,
            `asked ${pending.modelRequests} times for the model of task ${pending.task.task_id} (at most ${CONNECTION_LIMITS.model_requests_per_task})`,
          );
        if (this.sendUnlessBacklogged(conn, encodeMessage({ type: 'model', model: message.model, weights })))
          this.stats.modelsSent++;
        return;
      }
      case 'error':
        if (pending && message.task_id === pending.task.task_id) {
          // Its own training produced NaN/Inf (too high a learning rate): the learner is fine, the run's settings are not.
          const reason =
            message.code === 'non_finite'
              ? TRAINING_DIVERGED_REASON
              : oneLine(`learner failed the task: ${message.code}: ${message.message}`);
          pending.resolve({ status: 'missing', reason, bytesSent: pending.bytesSent });
        } else
          this.emit({
            type: 'learner-error',
            learner: conn.id,
            code: oneLine(message.code),
            message: oneLine(message.message),
          });
        return;
      case 'hello':
      case 'claim':
        return this.reject(conn, 'unexpected', 'already joined');
    }
  }

  private reject(conn: Connection, code: string, message: string, task_id?: string): void {
    this.stats.framesRejected++;
    if (++conn.rejectedFrames > CONNECTION_LIMITS.rejected_frames)
      return this.cutFlooding(
        conn,
        `sent ${conn.rejectedFrames} frames the orchestrator refused (at most ${CONNECTION_LIMITS.rejected_frames})`,
      );
    this.sendUnlessBacklogged(conn, errorFrame(code, message, task_id));
  }

  /** An error frame to a host's claim connection (a claim holds no learner, so nothing to count or cut). */
  private replyToClaim(ws: WebSocket, code: string, message: string): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(errorFrame(code, message));
  }

  /** Sends unless the peer has left too much of what we sent unread: then it is cut (false). */
  private sendUnlessBacklogged(conn: Connection, frame: Buffer): boolean {
    if (conn.ws.readyState !== WebSocket.OPEN) return false;
    if (conn.ws.bufferedAmount + frame.byteLength > CONNECTION_LIMITS.unread_bytes) {
      this.cutFlooding(
        conn,
        `left ${(conn.ws.bufferedAmount / 2 ** 20).toFixed(1)} MiB of replies unread (at most ${CONNECTION_LIMITS.unread_bytes / 2 ** 20} MiB)`,
      );
      return false;
    }
    conn.ws.send(frame);
    return true;
  }

  /** A connection that costs more than any honest learner's is cut; its task is missing, and it may rejoin. */
  private cutFlooding(conn: Connection, what: string): void {
    if (conn.dropReason !== undefined) return;
    this.emit({ type: 'learner-error', learner: conn.id, code: 'flooding', message: `cut: it ${what}` });
    conn.dropReason = `cut for flooding: it ${what}`;
    conn.ws.terminate();
  }

  /**
   * A learner that shows no sign of life (pong or frame) for two beats in a row is dropped.
   * A beat that fires late means this process itself was stalled (a long evaluation, a loaded
   * host): pongs may sit unread in the socket, so that beat judges nobody.
   */
  private beat(): void {
    const now = monotonicSeconds();
    const stalled = now - this.lastBeatAt > (1.5 * this.opts.heartbeatMs) / 1000;
    this.lastBeatAt = now;
    for (const conn of this.byId.values()) {
      if (conn.alive) conn.missedBeats = 0;
      else if (!stalled) conn.missedBeats++;
      if (conn.missedBeats >= 2) {
        this.stats.heartbeatTimeouts++;
        conn.dropReason = `missed heartbeat (silent for ${conn.missedBeats} beats)`;
        this.emit({
          type: 'heartbeat-missed',
          learner: conn.id,
          beats: conn.missedBeats,
          heartbeat_ms: this.opts.heartbeatMs,
        });
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
    for (const claim of this.claims.values()) {
      if (claim.alive) claim.missedBeats = 0;
      else if (!stalled) claim.missedBeats++;
      if (claim.missedBeats >= 2) {
        claim.ws.terminate(); // its close ends the claim
        continue;
      }
      claim.alive = false;
      claim.ws.ping();
    }
  }
}
