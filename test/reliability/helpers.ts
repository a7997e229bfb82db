/**
 * Shared pieces of the reliability tests: a fast run configuration, a raw WebSocket client that
 * speaks (or abuses) the protocol, a stand-alone hub, and process/pid checks.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import WebSocket from 'ws';
import { formatRunEvent } from '../../src/cli/run-events.ts';
import { createClock } from '../../src/emulation/clock.ts';
import type { RunEvent } from '../../src/orchestrator/events.ts';
import type { ExperimentConfig } from '../../src/orchestrator/config.ts';
import { LearnerHub, type HubOptions } from '../../src/orchestrator/transport/hub.ts';
import { PROJECT_ROOT } from '../../src/util/project-root.ts';
import { encodeMessage, PROTOCOL_VERSION, type LearnerSettings } from '../../src/protocol/messages.ts';
import { smallConfig } from '../helpers/run-config.ts';

export { tmpDir } from '../helpers/tmp.ts';

/** K = 3, one scheme, T = 4 s: τ = 3 on 1200 samples, so a cycle trains ~3.6k sample-iterations. */
export function fastConfig(overrides: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return smallConfig({ T: 4, schemes: ['optimal'], train_samples: 1200, test_samples: 500, ...overrides });
}

export interface LogCollector {
  lines: string[];
  log: (line: string) => void;
  /** the run's typed events, in order (their text, as the CLI shows it, is in `lines` too) */
  events: RunEvent[];
  onEvent: (e: RunEvent) => void;
  /** both, to spread into runExperiment's options */
  sinks: { log: (line: string) => void; onEvent: (e: RunEvent) => void };
  /** Resolves when a line matching `pattern` has been logged (including earlier ones). */
  when: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  /** Resolves with the first event of `type` that satisfies `match` (including earlier ones). */
  whenEvent: <T extends RunEvent['type']>(
    type: T,
    match?: (e: Extract<RunEvent, { type: T }>) => boolean,
    timeoutMs?: number,
  ) => Promise<Extract<RunEvent, { type: T }>>;
}

export function collectLog(echo = false): LogCollector {
  const lines: string[] = [];
  const events: RunEvent[] = [];
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const eventWaiters: { test: (e: RunEvent) => boolean; resolve: (e: RunEvent) => void }[] = [];
  const log = (line: string) => {
    lines.push(line);
    if (echo) process.stderr.write(line + '\n');
    for (const w of [...waiters]) {
      const m = line.match(w.pattern);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  const onEvent = (e: RunEvent) => {
    events.push(e);
    for (const w of [...eventWaiters])
      if (w.test(e)) {
        eventWaiters.splice(eventWaiters.indexOf(w), 1);
        w.resolve(e);
      }
    const text = formatRunEvent(e);
    if (text !== null) log(text);
  };
  const when = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      for (const line of lines) {
        const m = line.match(pattern);
        if (m) return resolve(m);
      }
      const timer = setTimeout(
        () => reject(new Error(`no log line matched ${pattern} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiters.push({ pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  const whenEvent = <T extends RunEvent['type']>(
    type: T,
    match: (e: Extract<RunEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 60_000,
  ) =>
    new Promise<Extract<RunEvent, { type: T }>>((resolve, reject) => {
      const test = (e: RunEvent) => e.type === type && match(e as Extract<RunEvent, { type: T }>);
      const seen = events.find(test);
      if (seen) return resolve(seen as Extract<RunEvent, { type: T }>);
      const timer = setTimeout(() => reject(new Error(`no ${type} event within ${timeoutMs} ms`)), timeoutMs);
      eventWaiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e as Extract<RunEvent, { type: T }>)) });
    });
  return { lines, log, events, onEvent, sinks: { log, onEvent }, when, whenEvent };
}

/** Learner pids the hub logged at each join ("learner 1 joined from ... (pid 1234)"), by learner id. */
export function joinedPids(lines: string[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const line of lines) {
    const m = /^learner (\d+) joined from .* \(pid (\d+)\)/.exec(line);
    if (m) out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), Number(m[2])]);
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------- a raw protocol client ----------

export interface Closed {
  code: number;
  reason: string;
}

/** A WebSocket client that records every frame it receives; decoding is up to the test. */
export class RawClient {
  readonly received: { data: Buffer; binary: boolean }[] = [];
  readonly closed: Promise<Closed>;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      this.received.push({ data, binary });
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('error', () => {}); // the close event carries what the tests check
  }

  static connect(url: string, maxPayload = 256 * 1024 * 1024): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload });
      const client = new RawClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(data: Uint8Array | string, binary = typeof data !== 'string'): void {
    if (this.open) this.ws.send(data, { binary });
  }

  /** Waits until a received frame satisfies `match`; returns it. */
  async next(
    match: (f: { data: Buffer; binary: boolean }) => boolean,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<{ data: Buffer; binary: boolean; index: number }> {
    const end = Date.now() + timeoutMs;
    for (let i = from; ; ) {
      for (; i < this.received.length; i++) if (match(this.received[i])) return { ...this.received[i], index: i };
      const left = end - Date.now();
      if (left <= 0 || !this.open)
        throw new Error(`no matching frame within ${timeoutMs} ms (connection ${this.open ? 'open' : 'closed'})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
        this.closed.then(() => resolve());
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

export function helloFrame(token: string | undefined, learnerId: number, over: Record<string, unknown> = {}): Buffer {
  return encodeMessage({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    token: token as string,
    learner_id: learnerId,
    profile: { f_hz: 1e9, rate_bps: 1e8 },
    ...over,
  } as any);
}

// ---------- a stand-alone hub ----------

export function hubSettings(paramCount: number, maxSamples = 16): LearnerSettings {
  return {
    run_id: 'reliability',
    param_count: paramCount,
    minibatch: 8,
    lr: 0.1,
    local_iteration: 'epoch',
    clock: 'virtual',
    time_scale: 1,
    flops_per_sample: 1e6,
    engine: 'auto',
    backend: 'wasm',
    max_samples: maxSamples,
  };
}

export async function startHub(
  over: Partial<HubOptions> = {},
): Promise<{ hub: LearnerHub; url: string; log: LogCollector }> {
  const log = collectLog();
  const hub = new LearnerHub({
    host: '127.0.0.1',
    port: 0,
    token: 'right-token',
    K: 3,
    settings: hubSettings(1000),
    clock: createClock('virtual'),
    heartbeatMs: 10_000,
    handshakeTimeoutMs: 5_000,
    log: log.log,
    onEvent: log.onEvent,
    ...over,
  });
  const url = await hub.start();
  return { hub, url, log };
}

// ---------- the learner CLI as a real process ----------

export interface CliRun {
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>;
  kill: (signal?: NodeJS.Signals) => void;
}

/** Starts `src/cli/learner.ts` the way `npm run learner` does (tsx), token in MEL_TOKEN. */
export function startLearnerCli(args: string[], token: string | undefined): CliRun {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.MEL_TOKEN;
  if (token !== undefined) env.MEL_TOKEN = token;
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/learner.ts'), ...args], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => (stdout += d));
  return {
    pid: child.pid!,
    exited: new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stderr, stdout }))),
    kill: (signal = 'SIGKILL') => void child.kill(signal),
  };
}
