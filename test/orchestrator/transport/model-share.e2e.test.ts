/**
 * Learners that share a process fetch each global model once (virtual clock): the task names the
 * model, one session asks for it, its siblings wait for that fetch. The emulated bytes stay the
 * full frame's; a refused or failed fetch fails only what it must.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PIXELS_PER_IMAGE } from '../../../src/data/format.ts';
import { createClock } from '../../../src/emulation/clock.ts';
import { runLearnerSession, type SessionEnd } from '../../../src/learner/client.ts';
import { createModelCache, type ModelCache } from '../../../src/learner/model-cache.ts';
import { PARAM_COUNT } from '../../../src/nn/mlp.ts';
import type { LearnerHub } from '../../../src/orchestrator/transport/hub.ts';
import {
  decodeToLearner,
  encodeMessage,
  encodeTimedMessageParts,
  partsLength,
  type Task,
} from '../../../src/protocol/messages.ts';
import { createRng } from '../../../src/util/rng.ts';
import { helloFrame, hubSettings, RawClient, startHub, waitUntil } from '../../reliability/helpers.ts';

describe('model cache', () => {
  it('fetches a model once however many ask, forgets a failed fetch, and keeps the newest few', async () => {
    const cache = createModelCache(2);
    let fetches = 0;
    const fetchOf = (value: number) => () => (fetches++, Promise.resolve(new Float32Array([value])));
    const [a, b] = await Promise.all([cache.get('m1', fetchOf(1)), cache.get('m1', fetchOf(9))]);
    expect(a).toBe(b);
    expect(fetches).toBe(1);

    await expect(cache.get('m2', () => Promise.reject(new Error('session died')))).rejects.toThrow('session died');
    expect((await cache.get('m2', fetchOf(2)))[0]).toBe(2); // asked again, not the failure
    expect(fetches).toBe(2);

    await cache.get('m3', fetchOf(3)); // m1 is the oldest of three: dropped
    expect((await cache.get('m1', fetchOf(11)))[0]).toBe(11);
    expect(fetches).toBe(4);
  });
});

const SAMPLES = 6;
const settings = hubSettings(PARAM_COUNT, 16);

function taskFor(learner: number, weights: Float32Array): Task {
  const rng = createRng(100 + learner);
  return {
    type: 'task',
    task_id: `optimal-1-${learner}`,
    cycle: 1,
    scheme: 'optimal',
    tau: 1,
    samples: SAMPLES,
    seed: learner,
    f_hz: 1e9,
    rate_bps: 1e8,
    source: 'batch',
    weights,
    images: Uint8Array.from({ length: SAMPLES * PIXELS_PER_IMAGE }, () => rng.int(256)),
    labels: Uint8Array.from({ length: SAMPLES }, () => rng.int(10)),
  };
}

let hub: LearnerHub | null = null;
let sessions: Promise<SessionEnd>[] = [];
afterEach(async () => {
  await hub?.close();
  await Promise.all(sessions);
  hub = null;
  sessions = [];
});

/** `count` learners in this process (one pid), sharing `models`, joined to a fresh hub. */
async function learnersInOneProcess(
  count: number,
  models: (id: number) => ModelCache,
  clock: 'virtual' | 'real' = 'virtual',
) {
  const started = await startHub({ K: count, settings: { ...settings, clock }, clock: createClock(clock, 1) });
  hub = started.hub;
  sessions = Array.from({ length: count }, (_, id) =>
    runLearnerSession({
      url: started.url,
      token: 'right-token',
      learnerId: id,
      profile: { f_hz: 1e9, rate_bps: 1e8 },
      models: models(id),
    }),
  );
  await waitUntil(() => started.hub.connectedIds().length === count, 20_000, `${count} learners to join`);
  return started.hub;
}

describe('tasks that name the model', () => {
  it('three learners of one process: one model sent, every result delivered, bytes counted as the full frame', async () => {
    const shared = createModelCache();
    const h = await learnersInOneProcess(3, () => shared);
    const global = Float32Array.from({ length: PARAM_COUNT }, (_, i) => 0.01 * Math.sin(i));
    const tasks = [0, 1, 2].map((k) => taskFor(k, global));
    const outcomes = await Promise.all(tasks.map((t, k) => h.runTask(k, t, 30_000)));
    for (const [k, o] of outcomes.entries()) {
      expect(o.status, o.status === 'missing' ? o.reason : '').toBe('ok');
      expect(o.bytesSent).toBe(partsLength(encodeTimedMessageParts(tasks[k])));
    }
    expect(h.stats.tasksNamingModel).toBe(3);
    expect(h.stats.modelsSent).toBe(1);
  });

  it('under the real clock every task carries its weights (the link paces real bytes)', async () => {
    const shared = createModelCache();
    const h = await learnersInOneProcess(2, () => shared, 'real');
    const global = new Float32Array(PARAM_COUNT).fill(0.01);
    const outcomes = await Promise.all(
      [0, 1].map((k) => h.runTask(k, { ...taskFor(k, global), rate_bps: 1e12 }, 30_000)),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
    expect(h.stats.tasksNamingModel).toBe(0);
    expect(h.stats.modelsSent).toBe(0);
  });

  it("a learner whose sibling's fetch failed asks for the model itself", async () => {
    const shared = createModelCache();
    let siblingFailed = false;
    // The first ask meets a sibling's fetch that fails (its session died): learner 1 must not fail with it.
    const flaky: ModelCache = {
      get(ref, fetch) {
        if (!siblingFailed) {
          siblingFailed = true;
          return Promise.reject(new Error('connection closed before the model arrived'));
        }
        return shared.get(ref, fetch);
      },
    };
    const h = await learnersInOneProcess(2, (id) => (id === 1 ? flaky : shared));
    const global = new Float32Array(PARAM_COUNT).fill(0.02);
    const outcome = await h.runTask(1, taskFor(1, global), 30_000);
    expect(siblingFailed).toBe(true);
    expect(outcome.status, outcome.status === 'missing' ? outcome.reason : '').toBe('ok');
    expect(h.stats.modelsSent).toBe(1);
  });

  it('a model request that no running task of that learner named is refused, naming the task', async () => {
    const started = await startHub({ K: 2, settings });
    hub = started.hub;
    // Two raw clients with one pid: the hub sees one process with two learners.
    const clients = await Promise.all([0, 1].map(() => RawClient.connect(started.url)));
    clients.forEach((c, id) => c.send(helloFrame('right-token', id, { pid: 4242 })));
    await waitUntil(() => started.hub.connectedIds().length === 2, 10_000, 'two raw learners');
    clients[0].send(encodeMessage({ type: 'model_request', model: 'made-up', task_id: 'optimal-9-0' }));
    const refusal = await clients[0].next((f) => decodeToLearner(f.data, null).type === 'error');
    expect(decodeToLearner(refusal.data, null)).toMatchObject({
      type: 'error',
      code: 'unexpected',
      task_id: 'optimal-9-0',
    });

    // A task to learner 1 names its model; learner 0 (no task) may not fetch it, learner 1 may.
    const handle = started.hub.sendTask(1, taskFor(1, new Float32Array(PARAM_COUNT)), 30_000, { hold: true });
    await handle.sent;
    const taskFrame = await clients[1].next((f) => f.data.length > 1000);
    const named = decodeToLearner(taskFrame.data, settings);
    expect(named.type === 'task' && named.model).toMatch(/.+-1$/);
    const ref = named.type === 'task' ? named.model! : '';
    clients[0].send(encodeMessage({ type: 'model_request', model: ref, task_id: 'x' }));
    await clients[0].next((f) => decodeToLearner(f.data, null).type === 'error', 10_000, refusal.index + 1);
    clients[1].send(encodeMessage({ type: 'model_request', model: ref, task_id: 'optimal-1-1' }));
    const model = await clients[1].next((f) => f.data.length > 4 * PARAM_COUNT, 10_000, taskFrame.index + 1);
    expect(decodeToLearner(model.data, settings)).toMatchObject({ type: 'model', model: ref });
    clients.forEach((c) => c.close());
  });
});
