/** Fault injection as a wrapper: kills after the task left, drops paired across schemes, and nothing when there is no plan. */
import { describe, expect, it } from 'vitest';
import {
  DROPPED_REASON,
  hostKilledReason,
  isInjectedFault,
  withFaults,
  type FaultActions,
  type TaskSender,
} from '../../src/orchestrator/transport/faults.ts';
import type { TaskHandle, TaskOutcome } from '../../src/orchestrator/transport/hub.ts';
import type { Task } from '../../src/protocol/messages.ts';

const task = (cycle: number, scheme = 'optimal'): Task => ({
  type: 'task',
  task_id: `${scheme}-${cycle}-0`,
  cycle,
  scheme,
  tau: 1,
  samples: 1,
  seed: 1,
  f_hz: 1e9,
  rate_bps: 1e8,
  source: 'batch',
  weights: new Float32Array(1),
});

function okHub(events: string[]): TaskSender {
  return {
    sendTask: (id, t): TaskHandle => {
      let markSent: () => void = () => {};
      const sent = new Promise<void>((r) => (markSent = r));
      setImmediate(() => (events.push(`sent ${id}@${t.cycle}`), markSent()));
      const outcome: Promise<TaskOutcome> = sent.then(() => ({
        status: 'ok',
        result: {
          type: 'result',
          task_id: t.task_id,
          cycle: t.cycle,
          samples: 1,
          steps: 1,
          loss: 0,
          train_wall_s: 0,
          compute_wall_s: 0,
          overrun_s: 0,
          engine: 'x',
          max_rss_kb: 0,
          weights: new Float32Array(1),
        },
        computeDone: { type: 'compute_done', task_id: t.task_id, train_wall_s: 0, compute_wall_s: 0, overrun_s: 0 },
        bytesSent: 10,
        bytesReturned: 10,
        wall: { send_s: 0, compute_s: 0, return_s: 0 },
      }));
      return { sent, computed: outcome.then(() => {}), start: () => {}, outcome };
    },
  };
}

const noActions: FaultActions = { kill: () => {}, killHost: () => {}, hostOf: (id) => id };

describe('withFaults', () => {
  it('without faults it is the hub itself', () => {
    const hub = okHub([]);
    expect(withFaults(hub, { kill: [], drop_prob: 0, kill_host: [] }, 1, noActions)).toBe(hub);
  });

  it('--fail L@C kills learner L once its cycle-C task has left, in every scheme, and no other', async () => {
    const events: string[] = [];
    const faulty = withFaults(okHub(events), { kill: [{ learner: 2, cycle: 3 }], drop_prob: 0, kill_host: [] }, 1, {
      ...noActions,
      kill: (id, cycle) => events.push(`kill ${id}@${cycle}`),
    });
    for (const scheme of ['optimal', 'eta'])
      for (const [id, cycle] of [
        [2, 3],
        [2, 2],
        [1, 3],
      ])
        await faulty.sendTask(id, task(cycle, scheme), 1000, { hold: true }).outcome;
    expect(events.filter((e) => e.startsWith('kill'))).toEqual(['kill 2@3', 'kill 2@3']);
    expect(events.indexOf('kill 2@3')).toBe(events.indexOf('sent 2@3') + 1);
  });

  it("--fail-host H@C kills host H once, after its first cycle-C task left, per scheme; its learners' missing tasks say why", async () => {
    const events: string[] = [];
    const base = okHub(events);
    // Learners 2 and 3 live in host 1; in cycle 2 their connections are gone once it dies.
    const hub: TaskSender = {
      sendTask: (id, t, timeoutMs, opts) => {
        const h = base.sendTask(id, t, timeoutMs, opts);
        if (t.cycle !== 2 || id < 2) return h;
        return {
          ...h,
          outcome: h.sent.then(() => ({ status: 'missing' as const, reason: 'disconnected (1006)', bytesSent: 10 })),
        };
      },
    };
    const actions: FaultActions = {
      kill: () => {},
      killHost: (h, cycle) => events.push(`kill host ${h}@${cycle}`),
      hostOf: (id) => Math.floor(id / 2),
    };
    const faulty = withFaults(hub, { kill: [], drop_prob: 0, kill_host: [{ host: 1, cycle: 2 }] }, 1, actions);
    for (const scheme of ['optimal', 'eta']) {
      const outcomes = await Promise.all(
        [0, 1, 2, 3].map((id) => faulty.sendTask(id, task(2, scheme), 1000, { hold: true }).outcome),
      );
      expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'missing', 'missing']);
      for (const o of outcomes.slice(2)) {
        expect(o.status === 'missing' && o.reason).toBe(hostKilledReason(1, 2));
        expect(isInjectedFault(o.status === 'missing' ? o.reason : undefined)).toBe(true);
      }
      expect((await faulty.sendTask(2, task(1, scheme), 1000, { hold: true }).outcome).status).toBe('ok');
    }
    expect(events.filter((e) => e.startsWith('kill'))).toEqual(['kill host 1@2', 'kill host 1@2']);
    expect(isInjectedFault('host killed (--fail-host 0@3)')).toBe(true);
    expect(isInjectedFault('host killed')).toBe(false);
  });

  it('--drop-prob loses results as `lost` (timeline kept), the same (cycle, learner) pairs in every scheme, at about the rate asked', async () => {
    const faulty = withFaults(okHub([]), { kill: [], drop_prob: 0.3, kill_host: [] }, 7, noActions);
    const lost = async (scheme: string) => {
      const out: string[] = [];
      for (let cycle = 1; cycle <= 50; cycle++)
        for (let id = 0; id < 20; id++) {
          const o = await faulty.sendTask(id, task(cycle, scheme), 1000, { hold: true }).outcome;
          if (o.status === 'lost') {
            expect(o.reason).toBe(DROPPED_REASON);
            expect(o.bytesReturned).toBe(10);
            out.push(`${cycle}:${id}`);
          } else expect(o.status).toBe('ok');
        }
      return out;
    };
    const a = await lost('optimal');
    expect(await lost('eta')).toEqual(a);
    // 1000 draws at p = 0.3: sd ≈ 14.5, so 4 sd either side.
    expect(a.length).toBeGreaterThan(300 - 58);
    expect(a.length).toBeLessThan(300 + 58);
  });
});
