/**
 * Hostile input: tens of thousands of random and mutated frames against (a) a live LearnerHub,
 * over an authenticated connection and over unauthenticated ones, (b) a live learner process,
 * and (c) the hub of a run in progress, whose results must equal those of an unfuzzed run.
 * Every answer is counted: nothing may crash, every bad frame gets an error reply or a clean close.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { PIXELS_PER_IMAGE } from '../../../src/data/format.ts';
import { CONNECTION_LIMITS, type TaskOutcome } from '../../../src/orchestrator/transport/hub.ts';
import { runExperiment } from '../../../src/orchestrator/experiment.ts';
import { PARAM_COUNT } from '../../../src/nn/mlp.ts';
import { encodeFrame } from '../../../src/protocol/frame.ts';
import {
  decodeToLearner,
  decodeToOrchestrator,
  encodeMessage,
  maxFrameToOrchestrator,
  PROTOCOL_VERSION,
  type LearnerSettings,
  type Task,
} from '../../../src/protocol/messages.ts';
import { createRng, deriveSeed } from '../../../src/util/rng.ts';
import { createFuzzer, type FuzzFrame, type FuzzSources, type SourceMessage } from './fuzz-frames.ts';
import {
  collectLog,
  fastConfig,
  helloFrame,
  hubSettings,
  isAlive,
  joinedPids,
  RawClient,
  startHub,
  startLearnerCli,
  tmpDir,
} from '../../reliability/helpers.ts';
import { readCycles, withoutWall } from '../../helpers/run-files.ts';

const SEED = 20261128;
const TOKEN = 'fuzz-token';
const BATCH = 100; // frames between sentinels: bounds what is in flight and orders the counting
const tally: Record<string, number> = {};
const count = (key: string, n = 1) => (tally[key] = (tally[key] ?? 0) + n);

afterAll(() => {
  // The numbers the report quotes.
  console.log(`FUZZ TALLY ${JSON.stringify(tally)}`);
});

const isErrorTo =
  (decode: (d: Buffer) => { type: string; message?: string }) =>
  (f: { data: Buffer; binary: boolean }, needle?: string) => {
    try {
      const m = decode(f.data);
      return m.type === 'error' && (needle === undefined || (m.message ?? '').includes(needle));
    } catch {
      return false;
    }
  };

function randomWeights(seed: number, n: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => 0.05 * rng.normal());
}

function randomBatch(seed: number, samples: number): { images: Uint8Array; labels: Uint8Array } {
  const rng = createRng(seed);
  return {
    images: Uint8Array.from({ length: samples * PIXELS_PER_IMAGE }, () => rng.int(256)),
    labels: Uint8Array.from({ length: samples }, () => rng.int(10)),
  };
}

describe('fuzzing a live LearnerHub', () => {
  it('survives ≥ 9 000 hostile frames on an authenticated connection and ≥ 1 000 on unauthenticated ones', async () => {
    const P = 1000;
    const { hub, url } = await startHub({ token: TOKEN, K: 3, settings: hubSettings(P) });
    const maxBytes = maxFrameToOrchestrator(P);
    const isError = isErrorTo((d) => decodeToLearner(d, hubSettings(P)));
    try {
      // ---- authenticated ----
      const join = async (): Promise<RawClient> => {
        for (let attempt = 0; ; attempt++) {
          const c = await RawClient.connect(url);
          c.send(helloFrame(TOKEN, 0));
          try {
            await c.next((f) => decodeToLearner(f.data, null).type === 'welcome', 5000);
            return c;
          } catch (e) {
            if (attempt > 20) throw e; // 4003 until the hub has seen our previous socket close
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      };
      let client = await join();
      let refusedOnThisConnection = 0; // the hub cuts a connection past CONNECTION_LIMITS.rejected_frames refusals
      let taskNo = 0;
      let current: Task | null = null;
      const outcomes: TaskOutcome[] = [];
      const ensureTask = () => {
        if (current) return;
        taskNo++;
        const t: Task = {
          type: 'task',
          task_id: `fuzz-${taskNo}`,
          cycle: taskNo,
          scheme: 'optimal',
          tau: 1,
          samples: 4,
          seed: taskNo,
          f_hz: 1e9,
          rate_bps: 1e8,
          source: 'batch',
          weights: randomWeights(taskNo, P),
          ...randomBatch(taskNo, 4),
        };
        current = t;
        void hub.runTask(0, t, 600_000).then((o) => {
          outcomes.push(o);
          if (current === t) current = null;
        });
      };
      const sources: FuzzSources = {
        valid: [],
        foreignTypes: ['welcome', 'task', 'shard', 'bye'],
        maxBytes,
        oversizeWeight: 0.3,
      };
      const fuzzer = createFuzzer(deriveSeed(SEED, 'hub-authenticated'), sources);
      let sent = 0;
      for (let batch = 0; sent < 9000; batch++) {
        ensureTask();
        const t = current!;
        const result = (over: Record<string, unknown> = {}): SourceMessage => ({
          header: {
            type: 'result',
            task_id: t.task_id,
            cycle: t.cycle,
            samples: t.samples,
            steps: 1,
            loss: 0.5,
            train_wall_s: 0.01,
            compute_wall_s: 0.01,
            overrun_s: 0,
            engine: 'tfjs-wasm',
            max_rss_kb: 0,
            ...over,
          },
          payloads: { weights: randomWeights(deriveSeed(SEED, 'result', batch), P) },
        });
        sources.valid = [
          result(),
          result({ task_id: 'other-task' }),
          result({ samples: 5 }),
          {
            header: {
              type: 'compute_done',
              task_id: t.task_id,
              train_wall_s: 0.01,
              compute_wall_s: 0.01,
              overrun_s: 0,
            },
          },
          { header: { type: 'error', code: 'oops', message: 'learner trouble', task_id: 'not-running' } },
          {
            header: {
              type: 'hello',
              protocol: PROTOCOL_VERSION,
              token: TOKEN,
              learner_id: 0,
              profile: { f_hz: 1e9, rate_bps: 1e8 },
            },
          },
        ];
        const from = client.received.length;
        let invalid = 0;
        let delivered = 0;
        for (let i = 0; i < BATCH; i++) {
          const f = fuzzer.next();
          if (!client.open) break; // an oversize frame ended this connection: the rest of the batch is not sent
          if (f.kind === 'oversize') count('hub.auth.oversize');
          try {
            if (!f.binary) throw new Error('text');
            decodeToOrchestrator(f.data as Uint8Array, P);
          } catch {
            invalid++;
          }
          client.send(f.data, f.binary);
          delivered++;
          sent++;
        }
        const sentinel = `sentinel-${batch}-end`;
        client.send(
          encodeMessage({ type: 'compute_done', task_id: sentinel, train_wall_s: 0, compute_wall_s: 0, overrun_s: 0 }),
        );
        try {
          const reply = await client.next((f) => isError(f, sentinel), 20_000, from);
          const errors = client.received.slice(from, reply.index).filter((f) => isError(f)).length;
          expect(errors).toBeGreaterThanOrEqual(invalid);
          expect(errors).toBeLessThanOrEqual(BATCH);
          count('hub.auth.frames', delivered);
          count('hub.auth.errorReplies', errors);
          refusedOnThisConnection += errors;
        } catch (e) {
          // Only an oversize frame (1009) or a flood of refused frames (cut: 1006) may end the connection.
          const closed = await client.closed;
          const flooded = refusedOnThisConnection + invalid > CONNECTION_LIMITS.rejected_frames;
          expect(closed.code, String(e)).toBe(flooded && closed.code === 1006 ? 1006 : 1009);
          count('hub.auth.frames', delivered);
          count(closed.code === 1009 ? 'hub.auth.closes' : 'hub.auth.floodCuts');
          client = await join();
          refusedOnThisConnection = 0;
        }
      }

      // ---- unauthenticated: each connection sends a few frames and must be refused cleanly ----
      const strangerSources: FuzzSources = {
        valid: [
          {
            header: {
              type: 'hello',
              protocol: PROTOCOL_VERSION,
              token: 'guess',
              learner_id: 0,
              profile: { f_hz: 1e9, rate_bps: 1e8 },
            },
            weight: 4,
          },
          { header: { type: 'hello', protocol: PROTOCOL_VERSION, learner_id: 1, profile: { f_hz: 1e9 } }, weight: 2 },
          {
            header: {
              type: 'result',
              task_id: 'fuzz-1',
              cycle: 1,
              samples: 4,
              steps: 1,
              loss: 0,
              train_wall_s: 0,
              compute_wall_s: 0,
              overrun_s: 0,
              engine: 'x',
              max_rss_kb: 0,
            },
            payloads: { weights: new Float32Array(P) },
          },
          { header: { type: 'compute_done', task_id: 'fuzz-1', train_wall_s: 0, compute_wall_s: 0, overrun_s: 0 } },
        ],
        foreignTypes: ['welcome', 'task', 'shard', 'bye'],
        maxBytes,
        oversizeWeight: 0.3,
      };
      const stranger = createFuzzer(deriveSeed(SEED, 'hub-unauthenticated'), strangerSources);
      const before = hub.stats.authFailures + hub.stats.handshakeFailures;
      const CONNECTIONS = 400;
      const codes: Record<number, number> = {};
      let strangerFrames = 0;
      let oversizeFirst = 0;
      const frames: FuzzFrame[][] = Array.from({ length: CONNECTIONS }, () => [
        stranger.next(),
        stranger.next(),
        stranger.next(),
      ]);
      for (let i = 0; i < CONNECTIONS; i += 16) {
        await Promise.all(
          frames.slice(i, i + 16).map(async (fs) => {
            const c = await RawClient.connect(url);
            for (const f of fs) c.send(f.data, f.binary);
            strangerFrames += fs.length;
            if (fs[0].kind === 'oversize') oversizeFirst++;
            const { code } = await c.closed;
            codes[code] = (codes[code] ?? 0) + 1;
          }),
        );
      }
      for (const code of Object.keys(codes).map(Number)) expect([4001, 4004, 1009]).toContain(code);
      expect(codes[1009] ?? 0).toBeGreaterThanOrEqual(oversizeFirst);
      // Every connection that got a frame through was refused and counted exactly once.
      expect(hub.stats.authFailures + hub.stats.handshakeFailures - before).toBe(CONNECTIONS - (codes[1009] ?? 0));
      expect(hub.connectedIds()).toEqual(client.open ? [0] : []);
      count('hub.unauth.connections', CONNECTIONS);
      count('hub.unauth.frames', strangerFrames);
      for (const [code, n] of Object.entries(codes)) count(`hub.unauth.close${code}`, n);

      // ---- still serving, and poison never got through ----
      for (const o of outcomes)
        if (o.status === 'ok') for (const w of o.result.weights) expect(Number.isFinite(w)).toBe(true);
      count('hub.auth.tasksResolvedByFuzz', outcomes.length);
      await new Promise((r) => setTimeout(r, 20));
      if (current) {
        // Let the fuzz task end as a real learner would end it: with an error for its id.
        client.send(
          encodeMessage({ type: 'error', code: 'gave_up', message: 'fuzz over', task_id: (current as Task).task_id }),
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(current).toBeNull();
      const good = randomWeights(99, P);
      const t: Task = {
        type: 'task',
        task_id: 'final',
        cycle: 1,
        scheme: 'eta',
        tau: 1,
        samples: 4,
        seed: 1,
        f_hz: 1e9,
        rate_bps: 1e8,
        source: 'batch',
        weights: good,
        ...randomBatch(1, 4),
      };
      const outcome = hub.runTask(0, t, 10_000);
      client.send(
        encodeMessage({ type: 'compute_done', task_id: 'final', train_wall_s: 0.1, compute_wall_s: 0.1, overrun_s: 0 }),
      );
      client.send(
        encodeMessage({
          type: 'result',
          task_id: 'final',
          cycle: 1,
          samples: 4,
          steps: 1,
          loss: 0.3,
          train_wall_s: 0.1,
          compute_wall_s: 0.1,
          overrun_s: 0,
          engine: 'tfjs-wasm',
          max_rss_kb: 0,
          weights: good,
        }),
      );
      const ok = await outcome;
      expect(ok.status).toBe('ok');
      expect(ok.status === 'ok' && Buffer.from(ok.result.weights.buffer).equals(Buffer.from(good.buffer))).toBe(true);
      // A poisoned result after compute_done fails its task instead of being averaged.
      const poisoned = good.slice();
      poisoned[7] = NaN;
      const t2 = { ...t, task_id: 'poisoned' };
      const outcome2 = hub.runTask(0, t2, 10_000);
      client.send(
        encodeMessage({
          type: 'compute_done',
          task_id: 'poisoned',
          train_wall_s: 0.1,
          compute_wall_s: 0.1,
          overrun_s: 0,
        }),
      );
      client.send(
        encodeMessage({
          type: 'result',
          task_id: 'poisoned',
          cycle: 1,
          samples: 4,
          steps: 1,
          loss: 0.3,
          train_wall_s: 0.1,
          compute_wall_s: 0.1,
          overrun_s: 0,
          engine: 'tfjs-wasm',
          max_rss_kb: 0,
          weights: poisoned,
        }),
      );
      const missing = await outcome2;
      expect(missing).toMatchObject({
        status: 'missing',
        reason: expect.stringMatching(/result rejected: .*non-finite/),
      });
      count('hub.crashes', 0);
      console.log(
        `FUZZ hub: authenticated frames ${tally['hub.auth.frames']}, error replies ${tally['hub.auth.errorReplies']}, closes ${tally['hub.auth.closes'] ?? 0}; unauthenticated frames ${strangerFrames} on ${CONNECTIONS} connections, closes ${JSON.stringify(codes)}; hub stats ${JSON.stringify(hub.stats)}`,
      );
    } finally {
      await hub.close();
    }
  });
});

describe('fuzzing a live learner process', () => {
  it('answers ≥ 10 000 hostile frames with error replies, never crashes, then trains a real task and exits 0', async () => {
    const settings: LearnerSettings = { ...hubSettings(PARAM_COUNT, 16), backend: 'wasm' };
    const isError = isErrorTo((d) => decodeToOrchestrator(d, PARAM_COUNT));
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      maxPayload: 64 * 1024 * 1024,
      perMessageDeflate: false,
    });
    await new Promise((r) => wss.once('listening', r));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const sockets: { ws: ServerSocket; received: Buffer[]; waiters: (() => void)[]; closed: Promise<number> }[] = [];
    let connected: (() => void) | null = null;
    wss.on('connection', (ws) => {
      const s = {
        ws,
        received: [] as Buffer[],
        waiters: [] as (() => void)[],
        closed: new Promise<number>((r) => ws.on('close', (code) => r(code))),
      };
      sockets.push(s);
      ws.on('message', (data: Buffer) => {
        s.received.push(data);
        for (const w of s.waiters.splice(0)) w();
      });
      ws.once('message', (data: Buffer) => {
        const hello = decodeToOrchestrator(data, PARAM_COUNT);
        expect(hello).toMatchObject({ type: 'hello', token: TOKEN, learner_id: 0 });
        ws.send(encodeMessage({ type: 'welcome', protocol: PROTOCOL_VERSION, learner_id: 0, settings }));
        connected?.();
      });
    });
    const nextFrom = async (
      s: (typeof sockets)[number],
      from: number,
      match: (d: Buffer) => boolean,
      timeoutMs: number,
    ) => {
      const end = Date.now() + timeoutMs;
      for (let i = from; ; ) {
        for (; i < s.received.length; i++) if (match(s.received[i])) return i;
        if (Date.now() > end || s.ws.readyState !== s.ws.OPEN) throw new Error('no reply');
        await new Promise<void>((r) => {
          const timer = setTimeout(r, 200);
          s.waiters.push(() => (clearTimeout(timer), r()));
        });
      }
    };
    const welcomed = () => new Promise<void>((r) => (connected = r));
    const firstJoin = welcomed();
    const learner = startLearnerCli(
      ['--connect', url, '--learner-id', '0', '--f-hz', '1e9', '--rate-bps', '1e8', '--quiet', '--retry-s', '20'],
      TOKEN,
    );
    try {
      await firstJoin;
      const weights = randomWeights(5, PARAM_COUNT);
      const task = (samples: number, over: Partial<Task> = {}): SourceMessage => {
        const {
          weights: w,
          images,
          labels,
          ...header
        } = {
          type: 'task',
          task_id: 'fz',
          cycle: 1,
          scheme: 'optimal',
          tau: 1 + (samples % 2),
          samples,
          seed: samples,
          f_hz: 1e9,
          rate_bps: 1e8,
          source: 'batch',
          weights,
          ...randomBatch(samples, samples),
          ...over,
        } as Task;
        return {
          header,
          payloads: over.source === 'shard' ? { weights: w } : { weights: w, images: images!, labels: labels! },
          weight: 0.25,
        };
      };
      const sources: FuzzSources = {
        valid: [
          task(4),
          task(16),
          task(8, { source: 'shard', images: undefined, labels: undefined }),
          { header: { type: 'shard', samples: 8 }, payloads: randomBatch(3, 8), weight: 2 },
          { header: { type: 'welcome', protocol: PROTOCOL_VERSION, learner_id: 0, settings } as any, weight: 2 },
          { header: { type: 'error', code: 'bad_frame', message: 'your frame was bad' }, weight: 2 },
        ],
        foreignTypes: ['hello', 'result', 'compute_done'],
        maxBytes: 64 * 1024 * 1024,
      };
      const fuzzer = createFuzzer(deriveSeed(SEED, 'learner'), sources);
      let sent = 0;
      for (let batch = 0; sent < 10_000; batch++) {
        const s = sockets[sockets.length - 1];
        const from = s.received.length;
        let invalid = 0;
        for (let i = 0; i < BATCH; i++) {
          const f = fuzzer.next();
          try {
            if (!f.binary) throw new Error('text');
            decodeToLearner(f.data as Uint8Array, settings);
          } catch {
            invalid++;
          }
          s.ws.send(f.data, { binary: f.binary });
          sent++;
        }
        const sentinel = `sentinel-${batch}-end`;
        s.ws.send(encodeFrame({ type: sentinel }));
        try {
          const at = await nextFrom(s, from, (d) => isError({ data: d, binary: true }, sentinel), 60_000);
          const replies = s.received.slice(from, at);
          const errors = replies.filter((d) => isError({ data: d, binary: true })).length;
          expect(errors).toBeGreaterThanOrEqual(invalid);
          count('learner.frames', BATCH);
          count('learner.errorReplies', errors);
          count(
            'learner.resultsFromFuzzedTasks',
            replies.filter((d) => decodeToOrchestrator(d, PARAM_COUNT).type === 'result').length,
          );
        } catch {
          // A session may end only cleanly (the learner closed it) and the learner must come back.
          const code = await s.closed;
          count('learner.frames', BATCH);
          count('learner.closes');
          count(`learner.close${code}`);
          const rejoin = welcomed();
          await rejoin;
        }
        expect(isAlive(learner.pid)).toBe(true);
      }

      // A real task after all that: trains and returns finite weights of the right size.
      const s = sockets[sockets.length - 1];
      const from = s.received.length;
      const real: Task = {
        type: 'task',
        task_id: 'real',
        cycle: 3,
        scheme: 'optimal',
        tau: 2,
        samples: 16,
        seed: 3,
        f_hz: 1e9,
        rate_bps: 1e8,
        source: 'batch',
        weights,
        ...randomBatch(77, 16),
      };
      s.ws.send(encodeMessage(real));
      // A fuzzed task still training when the real one was sent may answer first, under load: wait for ours.
      const isReal = (d: Buffer) => {
        const m = decodeToOrchestrator(d, PARAM_COUNT);
        return m.type === 'result' && m.task_id === 'real';
      };
      const at = await nextFrom(s, from, isReal, 60_000);
      const result = decodeToOrchestrator(s.received[at], PARAM_COUNT);
      expect(result).toMatchObject({ type: 'result', task_id: 'real', cycle: 3, samples: 16, steps: 4 });
      const w = (result as { weights: Float32Array }).weights;
      expect(w.length).toBe(PARAM_COUNT);
      expect(w.every(Number.isFinite)).toBe(true);
      expect(Buffer.from(w.buffer).equals(Buffer.from(weights.buffer))).toBe(false);

      s.ws.send(encodeMessage({ type: 'bye', reason: 'fuzz done' }));
      const exit = await learner.exited;
      expect(exit.code, exit.stderr).toBe(0);
      count('learner.crashes', 0);
      console.log(
        `FUZZ learner: frames ${tally['learner.frames']}, error replies ${tally['learner.errorReplies']}, results from fuzzed tasks ${tally['learner.resultsFromFuzzedTasks'] ?? 0}, closes ${tally['learner.closes'] ?? 0}, exit code ${exit.code}`,
      );
    } finally {
      learner.kill();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});

describe('fuzzing the hub of a run in progress', () => {
  it('the run completes with exactly the cycles of an unfuzzed run, and leaves no learner behind', async () => {
    const config = fastConfig();
    const baselineLog = collectLog();
    const baseline = await runExperiment(config, { out: tmpDir('fuzz-base'), ...baselineLog.sinks });

    const log = collectLog();
    let stop = false;
    let frames = 0;
    let connections = 0;
    const codes: Record<number, number> = {};
    let fuzzing: Promise<void> = Promise.resolve();
    const fuzzed = runExperiment(config, {
      out: tmpDir('fuzz-run'),
      log: log.log,
      onEvent: (e) => {
        log.onEvent(e);
        if (e.type !== 'listening') return;
        const { url, token } = e;
        const P = PARAM_COUNT;
        const fuzzer = createFuzzer(deriveSeed(SEED, 'in-run'), {
          valid: [
            {
              header: {
                type: 'hello',
                protocol: PROTOCOL_VERSION,
                token: 'guess',
                learner_id: 0,
                profile: { f_hz: 1e9, rate_bps: 1e8 },
              },
            },
            {
              header: {
                type: 'compute_done',
                task_id: 'optimal-1-0',
                train_wall_s: 0,
                compute_wall_s: 0,
                overrun_s: 0,
              },
            },
            {
              header: {
                type: 'result',
                task_id: 'optimal-1-0',
                cycle: 1,
                samples: 4,
                steps: 1,
                loss: 0,
                train_wall_s: 0,
                compute_wall_s: 0,
                overrun_s: 0,
                engine: 'x',
                max_rss_kb: 0,
              },
              payloads: { weights: new Float32Array(P) },
              weight: 0.2,
            },
          ],
          foreignTypes: ['welcome', 'task', 'bye'],
          maxBytes: maxFrameToOrchestrator(P),
        });
        // Only once every learner is in may a token holder ask for a taken id (else it would take it).
        const everyoneJoined = () => joinedPids(log.lines).size === config.K;
        fuzzing = (async () => {
          while (!stop) {
            // Alternate strangers (garbage, guessed tokens) with holders of the token who ask for
            // an id that is out of range or, once every learner is in, already taken.
            const c = await RawClient.connect(url).catch(() => null);
            if (!c) break; // the run has ended
            connections++;
            const n = connections % 3;
            const batch: FuzzFrame[] =
              n === 0 && everyoneJoined()
                ? [{ kind: 'field', data: helloFrame(token, connections % config.K), binary: true }]
                : n === 1
                  ? [{ kind: 'field', data: helloFrame(token, config.K + (connections % 5)), binary: true }]
                  : [fuzzer.next(), fuzzer.next(), fuzzer.next()];
            for (const f of batch) c.send(f.data, f.binary);
            frames += batch.length;
            const { code } = await c.closed;
            codes[code] = (codes[code] ?? 0) + 1;
          }
        })();
      },
    });
    const result = await fuzzed;
    stop = true;
    await fuzzing;

    expect(result.interrupted).toBe(false);
    for (const code of Object.keys(codes).map(Number)) expect([4001, 4003, 4004, 4005, 4007, 1006]).toContain(code);
    expect(codes[4003] ?? 0).toBeGreaterThan(0);
    expect(connections).toBeGreaterThan(20);
    expect(withoutWall(readCycles(result.out))).toEqual(withoutWall(readCycles(baseline.out)));
    expect(readFileSync(join(result.out, 'learners.csv'), 'utf8')).toBe(
      readFileSync(join(baseline.out, 'learners.csv'), 'utf8'),
    );
    expect(result.summary.schemes.optimal.final_accuracy).toBe(baseline.summary.schemes.optimal.final_accuracy);
    expect(result.summary.hub.auth_failures + result.summary.hub.handshake_failures).toBeGreaterThan(0);
    expect(result.summary.hub.connections).toBe(config.K); // nobody but the real learners joined
    expect(log.lines.filter((l) => /^learner \d+ joined/.test(l))).toHaveLength(config.K);

    // No learner process outlives its run (normal end).
    for (const lines of [baselineLog.lines, log.lines]) {
      const pids = [...joinedPids(lines).values()].flat();
      expect(pids).toHaveLength(config.K);
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
    }
    count('run.fuzzFrames', frames);
    count('run.fuzzConnections', connections);
    count('run.completed', 2);
    console.log(
      `FUZZ in-run: ${frames} frames on ${connections} connections, closes ${JSON.stringify(codes)}, hub stats ${JSON.stringify(result.summary.hub)}; accuracy ${result.summary.schemes.optimal.final_accuracy} (unfuzzed ${baseline.summary.schemes.optimal.final_accuracy})`,
    );
  });
});
