/**
 * One global cycle against a stand-in hub (no sockets, no processes): what the cycle adopts, what it
 * refuses, and how it records each learner.
 */
import pLimit from 'p-limit';
import { beforeAll, describe, expect, it } from 'vitest';
import { solve, type FeasibleAllocation } from '../../src/allocation/index.ts';
import { firstN, loadMnist, type ImageSet } from '../../src/data/mnist.ts';
import { wireCoefficients } from '../../src/emulation/wire-coefficients.ts';
import { generateFleet } from '../../src/model/devices.ts';
import { createEngine, initWeights, type Engine } from '../../src/nn/mlp.ts';
import { runCycle, type CycleServices } from '../../src/orchestrator/cycle.ts';
import type { TaskSender } from '../../src/orchestrator/transport/faults.ts';
import { createWorld } from '../../src/orchestrator/world.ts';
import type { TaskOutcome } from '../../src/orchestrator/transport/hub.ts';
import type { Task } from '../../src/protocol/messages.ts';
import { smallConfig } from '../helpers/run-config.ts';

let engine: Engine;
let train: ImageSet;
let test: ImageSet;
beforeAll(async () => {
  engine = await createEngine({ engine: 'onnx', backend: 'auto' });
  const mnist = await loadMnist();
  train = firstN(mnist.train, 600);
  test = firstN(mnist.test, 300);
});

/** A hub whose learners answer at once: `reply` decides each learner's returned weights. */
function fakeHub(reply: (task: Task, learner: number) => Float32Array): TaskSender {
  return {
    sendTask: (learner: number, task: Task) => ({
      sent: Promise.resolve(),
      computed: Promise.resolve(),
      start: () => {},
      outcome: Promise.resolve<TaskOutcome>({
        status: 'ok',
        result: {
          type: 'result',
          task_id: task.task_id,
          cycle: task.cycle,
          samples: task.samples,
          steps: 1,
          loss: 0.5,
          train_wall_s: 0,
          compute_wall_s: 0,
          overrun_s: 0,
          engine: 'fake',
          max_rss_kb: 0,
          weights: reply(task, learner),
        },
        computeDone: { type: 'compute_done', task_id: task.task_id, train_wall_s: 0, compute_wall_s: 0, overrun_s: 0 },
        bytesSent: 1000,
        bytesReturned: 1000,
        wall: { send_s: 0, compute_s: 0, return_s: 0 },
      }),
    }),
  };
}

const config = smallConfig({ train_samples: 600, test_samples: 300 });

function services(hub: TaskSender): CycleServices {
  const fleet = generateFleet(config.K, config.seed, config.params);
  return {
    config,
    hub,
    fleet,
    world: createWorld(config, fleet, config.params),
    train,
    test,
    engine,
    limit: pLimit(2),
  };
}

function allocation(s: CycleServices): FeasibleAllocation {
  const a = solve('optimal', {
    coeffs: s.fleet.map((l) => wireCoefficients(l, config.params, config.scenario)),
    T_s: config.T,
    d: config.train_samples,
  });
  if (!a.feasible) throw new Error(a.reason);
  return a;
}

describe('runCycle', () => {
  it('averages the returned weights by d_k and adopts them', async () => {
    const s = services(fakeHub((_t, k) => new Float32Array(initWeights(1).length).fill(k + 1)));
    const a = allocation(s);
    const out = await runCycle(s, 'optimal', 1, a, initWeights(1));
    const expected = a.batch.reduce((sum, b, k) => sum + b * (k + 1), 0) / a.batch.reduce((x, y) => x + y, 0);
    expect(out.diverged).toBe(false);
    expect(out.included).toBe(config.K);
    expect(out.weights[0]).toBeCloseTo(expected, 5);
    expect(out.records.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('a hostile learner returning finite but huge weights (1e30) does not poison the model: the previous one is kept, the loss stays finite, the cycle is flagged', async () => {
    const initial = initWeights(1);
    const s = services(fakeHub((task, k) => (k === 1 ? new Float32Array(initial.length).fill(1e30) : task.weights)));
    const out = await runCycle(s, 'optimal', 1, allocation(s), initial);
    expect(out.diverged).toBe(true);
    expect(out.weights).toBe(initial);
    expect(Number.isFinite(out.loss)).toBe(true);
    expect(out.accuracy).toBe((await engine.evaluate(initial, test)).accuracy);
  });
});

describe('runCycle scheduling', () => {
  it('every task leaves at once, held; slots go largest batch first and free when training ends', async () => {
    const events: string[] = [];
    let running = 0;
    let peak = 0;
    const hub: TaskSender = {
      sendTask: (k: number, task: Task) => {
        events.push(`send ${k}`);
        let done: () => void = () => {};
        const computed = new Promise<void>((r) => (done = r));
        return {
          sent: Promise.resolve(),
          computed,
          start: () => {
            events.push(`start ${k}`);
            peak = Math.max(peak, ++running);
            setTimeout(() => (running--, done()), 5);
          },
          outcome: computed.then<TaskOutcome>(() => ({
            status: 'ok',
            result: {
              type: 'result',
              task_id: task.task_id,
              cycle: 1,
              samples: task.samples,
              steps: 1,
              loss: 0,
              train_wall_s: 0,
              compute_wall_s: 0,
              overrun_s: 0,
              engine: 'fake',
              max_rss_kb: 0,
              weights: task.weights,
            },
            computeDone: {
              type: 'compute_done',
              task_id: task.task_id,
              train_wall_s: 0,
              compute_wall_s: 0,
              overrun_s: 0,
            },
            bytesSent: 1000,
            bytesReturned: 1000,
            wall: { send_s: 0, compute_s: 0, return_s: 0 },
          })),
        };
      },
    };
    const s = { ...services(hub), limit: pLimit(1) };
    const a = allocation(s);
    await runCycle(s, 'optimal', 1, a, initWeights(1));
    const bySize = [0, 1, 2].sort((x, y) => a.batch[y] - a.batch[x] || x - y);
    expect(events.filter((e) => e.startsWith('start'))).toEqual(bySize.map((k) => `start ${k}`));
    expect(events.filter((e) => e.startsWith('send'))).toEqual(bySize.map((k) => `send ${k}`));
    expect(peak).toBe(1);
  });
});
