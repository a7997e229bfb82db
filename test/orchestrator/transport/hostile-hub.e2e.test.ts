/**
 * What a token holder (or anyone who can reach the port) must not be able to do to the hub: make it
 * buffer models without end, hold its descriptors with connections that never join, or stall a
 * cycle with a task its learner refuses.
 */
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PIXELS_PER_IMAGE } from '../../../src/data/format.ts';
import { runLearnerSession, type SessionEnd } from '../../../src/learner/client.ts';
import { PAPER_PRESET } from '../../../src/model/params.ts';
import { PARAM_COUNT } from '../../../src/nn/mlp.ts';
import { CONNECTION_SLACK } from '../../../src/orchestrator/transport/connection-guard.ts';
import { allocateAll, buildFleet } from '../../../src/orchestrator/run-plan.ts';
import { runExperiment } from '../../../src/orchestrator/experiment.ts';
import { CONNECTION_LIMITS, type LearnerHub } from '../../../src/orchestrator/transport/hub.ts';
import { CLOSE, decodeToLearner, encodeMessage, MAX_TAU, type Task } from '../../../src/protocol/messages.ts';
import { smallConfig } from '../../helpers/run-config.ts';
import { START_BATCH } from '../../../src/learner/serve.ts';
import {
  collectLog,
  fastConfig,
  helloFrame,
  hubSettings,
  RawClient,
  startHub,
  startLearnerCli,
  tmpDir,
  waitUntil,
} from '../../reliability/helpers.ts';

const settings = hubSettings(PARAM_COUNT, 16);

function task(learner: number, over: Partial<Task> = {}): Task {
  return {
    type: 'task',
    task_id: `optimal-1-${learner}`,
    cycle: 1,
    scheme: 'optimal',
    tau: 1,
    samples: 4,
    seed: learner,
    f_hz: 1e9,
    rate_bps: 1e8,
    source: 'batch',
    weights: new Float32Array(PARAM_COUNT).fill(0.01),
    images: new Uint8Array(4 * PIXELS_PER_IMAGE),
    labels: new Uint8Array(4),
    ...over,
  };
}

let hub: LearnerHub | null = null;
let sessions: Promise<SessionEnd>[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await hub?.close();
  await Promise.all(sessions);
  hub = null;
  sessions = [];
});

/** Two raw learners of one (claimed) process: tasks name their model, which the learner must request. */
async function twoRawLearners(): Promise<{ h: LearnerHub; clients: RawClient[] }> {
  const started = await startHub({ K: 2, settings });
  hub = started.hub;
  const clients = await Promise.all([0, 1].map(() => RawClient.connect(started.url)));
  clients.forEach((c, id) => c.send(helloFrame('right-token', id, { pid: 4242 })));
  await waitUntil(() => started.hub.connectedIds().length === 2, 10_000, 'two raw learners');
  return { h: started.hub, clients };
}

describe('model_request amplification', () => {
  it('a learner that stops reading and floods model requests for its task is cut after the limit; the orchestrator sends no more models', async () => {
    const { h, clients } = await twoRawLearners();
    const handle = h.sendTask(0, task(0), 60_000, { hold: true });
    const frame = await clients[0].next((f) => f.data.length > 1000);
    const named = decodeToLearner(frame.data, settings);
    const ref = named.type === 'task' ? named.model! : '';
    expect(ref).not.toBe('');
    // Stop reading, then ask 3000 times: each answer would be a fresh 1.1 MB frame.
    (clients[0].ws as unknown as { _socket: net.Socket })._socket.pause();
    const request = encodeMessage({ type: 'model_request', model: ref, task_id: 'optimal-1-0' });
    for (let i = 0; i < 3000; i++) clients[0].ws.send(request);
    const outcome = await Promise.race([handle.outcome, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(outcome, 'the flooding learner was never cut').not.toBeNull();
    expect(outcome!.status).toBe('missing');
    expect(outcome!.status === 'missing' && outcome!.reason).toMatch(
      /flooding: it asked 3 times for the model of task optimal-1-0/,
    );
    expect(h.stats.modelsSent).toBe(CONNECTION_LIMITS.model_requests_per_task);
    expect(h.isConnected(0)).toBe(false);
    expect(h.isConnected(1)).toBe(true); // its sibling is not punished
  });

  it('a learner that floods frames the hub refuses is cut after the limit', async () => {
    const { h, clients } = await twoRawLearners();
    const hello = helloFrame('right-token', 1);
    for (let i = 0; i < 3 * CONNECTION_LIMITS.rejected_frames; i++) clients[1].send(hello); // "already joined", each answered
    await waitUntil(() => !h.isConnected(1), 10_000, 'the flooding learner to be cut');
    expect(h.stats.framesRejected).toBeLessThanOrEqual(CONNECTION_LIMITS.rejected_frames + 1);
    expect(h.isConnected(0)).toBe(true);
  });
});

describe('connection exhaustion', () => {
  it('sockets that never join are capped and closed at the handshake deadline; an honest learner still gets in', async () => {
    const K = 3;
    const started = await startHub({ K, handshakeTimeoutMs: 1000 });
    hub = started.hub;
    const port = Number(new URL(started.url).port);
    const flood = 2 * (K + CONNECTION_SLACK);
    const closedAt: number[] = [];
    const t0 = Date.now();
    await Promise.all(
      Array.from(
        { length: flood },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => closedAt.push(Date.now() - t0));
            sockets.push(s);
          }),
      ),
    );
    // Half of them over the cap: closed at once. (Upgraded clients that never say hello count the same.)
    await waitUntil(
      () => closedAt.length >= flood - (K + CONNECTION_SLACK),
      5_000,
      'the sockets over the cap to be closed',
    );
    // The rest: closed at the deadline, not after the HTTP headers timeout (a minute).
    await waitUntil(() => closedAt.length === flood, 5_000, 'every raw socket to be closed');
    expect(Math.max(...closedAt)).toBeLessThan(3_000);

    const honest = await RawClient.connect(started.url);
    honest.send(helloFrame('right-token', 0));
    await waitUntil(() => started.hub.isConnected(0), 5_000, 'an honest learner to join after the flood');
    honest.close();
  });
});

describe('a learner host told more ids than the run has', () => {
  it('--learner-ids 0-99999 against K = 3: the valid learners join, no id past the first refused batch is started, exit 2', async () => {
    const started = await startHub({ K: 3, settings });
    hub = started.hub;
    const host = startLearnerCli(
      ['--connect', started.url, '--learner-ids', '0-99999', '--f-hz', '1e9', '--rate-bps', '1e8', '--quiet'],
      'right-token',
    );
    await waitUntil(() => started.hub.connectedIds().length === 3, 30_000, 'learners 0-2 to join');
    const refusedIds = () => started.log.events.filter((e) => e.type === 'refused').length;
    await waitUntil(() => refusedIds() >= START_BATCH - 3, 20_000, 'the first batch beyond K to be refused');
    await new Promise((r) => setTimeout(r, 500));
    expect(refusedIds()).toBe(START_BATCH - 3); // 3..63 tried, refused; 64..99999 never opened
    await started.hub.close();
    hub = null;
    const end = await host.exited;
    expect(end.code, end.stderr).toBe(2);
    expect(end.stderr).toMatch(/learners 64-99999 not started: the run refused learner 3 as out of range/);
  });
});

describe('τ beyond what a learner accepts', () => {
  it('the run caps τ where the allocation is made (K = 3, T = 1200, d = 300 asked for τ ≈ 19 562)', async () => {
    const params = { ...smallConfig().params, flops_per_sample: PAPER_PRESET.flops_per_sample }; // the CLI's default
    const config = smallConfig({ K: 3, T: 1200, train_samples: 300, schemes: ['optimal', 'eta', 'async'], params });
    const allocations = await allocateAll(config, buildFleet(config));
    for (const [scheme, a] of allocations) expect(Math.max(...a.tau_per_learner), scheme).toBeLessThanOrEqual(MAX_TAU);
    expect(allocations.get('optimal')!.tau).toBe(MAX_TAU);
  });

  it('a task the learner refuses ends at once: the refusal names the task', async () => {
    const started = await startHub({ K: 1, settings });
    hub = started.hub;
    sessions = [
      runLearnerSession({
        url: started.url,
        token: 'right-token',
        learnerId: 0,
        profile: { f_hz: 1e9, rate_bps: 1e8 },
      }),
    ];
    await waitUntil(() => started.hub.isConnected(0), 20_000, 'the learner to join');
    const t0 = Date.now();
    const outcome = await started.hub.runTask(0, task(0, { tau: MAX_TAU + 1 }), 60_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(outcome.status).toBe('missing');
    expect(outcome.status === 'missing' && outcome.reason).toMatch(/implausibly large/);
  });
});

describe('an external learner whose link cannot even carry the model within T', () => {
  it('is refused at its hello (4009, naming C0 and T), not welcomed only for the run to fail at start', async () => {
    const log = collectLog();
    const abort = new AbortController();
    const run = runExperiment(fastConfig({ external: true, K: 1, join_timeout_s: 30 }), {
      out: join(tmpDir('hopeless'), 'run'),
      ...log.sinks,
      signal: abort.signal,
      token: 'right-token',
    });
    try {
      const { url } = await log.whenEvent('listening');
      const client = await RawClient.connect(url);
      client.send(helloFrame('right-token', 0, { profile: { f_hz: 1e9, rate_bps: 1e-300 } }));
      const closed = await client.closed;
      expect(closed.code).toBe(CLOSE.badProfile.code);
      const refusal = await log.whenEvent('refused');
      expect(refusal.detail).toMatch(
        /learner 0: its link of 1e-300 bit\/s needs .* s to exchange the model alone, not under T = 4 s/,
      );
    } finally {
      abort.abort();
      await run;
    }
  });
});
