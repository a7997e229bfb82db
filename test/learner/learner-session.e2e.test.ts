/**
 * The learner session against a scripted orchestrator: frame ordering right after the welcome,
 * and refusing a run it cannot serve.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PIXELS_PER_IMAGE } from '../../src/data/format.ts';
import { PARAM_COUNT } from '../../src/nn/mlp.ts';
import {
  CLOSE,
  decodeToOrchestrator,
  encodeMessage,
  PROTOCOL_VERSION,
  type LearnerSettings,
  type Result,
  type Task,
} from '../../src/protocol/messages.ts';
import { createRng } from '../../src/util/rng.ts';
import { hubSettings } from '../reliability/helpers.ts';
import { closeScriptedOrchestrator, learnerSession, scriptedOrchestrator } from './scripted-orchestrator.ts';

afterEach(closeScriptedOrchestrator);
const settings: LearnerSettings = { ...hubSettings(PARAM_COUNT, 32) };
describe('learner session', () => {
  it('a shard sent in the same tick as the welcome is kept, and a shard task trains on it', async () => {
    const rng = createRng(11);
    const images = Uint8Array.from({ length: 8 * PIXELS_PER_IMAGE }, () => rng.int(256));
    const labels = Uint8Array.from({ length: 8 }, () => rng.int(10));
    const weights = Float32Array.from({ length: PARAM_COUNT }, () => 0.05 * rng.normal());
    let result: Result | null = null;
    const errors: string[] = [];
    const url = await scriptedOrchestrator((ws, frames) => {
      // Back to back, as the hub's onJoin → sendShard does in federated runs.
      ws.send(encodeMessage({ type: 'welcome', protocol: PROTOCOL_VERSION, learner_id: 0, settings }));
      ws.send(encodeMessage({ type: 'shard', samples: 8, images, labels }));
      const task: Task = {
        type: 'task',
        task_id: 'fed-1-0',
        cycle: 1,
        scheme: 'optimal',
        tau: 1,
        samples: 6,
        seed: 3,
        f_hz: 1e9,
        rate_bps: 1e8,
        source: 'shard',
        weights,
      };
      ws.send(encodeMessage(task));
      ws.on('message', () => {
        for (const f of frames.splice(0)) {
          try {
            const m = decodeToOrchestrator(f, PARAM_COUNT);
            if (m.type === 'result') {
              result = m;
              ws.send(encodeMessage({ type: 'bye', reason: 'done' }));
            } else if (m.type === 'error') errors.push(`${m.code}: ${m.message}`);
          } catch {
            /* the hello */
          }
        }
      });
    });
    const end = await learnerSession(url);
    expect(errors).toEqual([]);
    expect(end.kind).toBe('bye');
    expect(end.tasksDone).toBe(1);
    expect(result).toMatchObject({ type: 'result', task_id: 'fed-1-0', samples: 6, steps: 1 });
  });

  it('leaves a run whose model size differs with 4008 and a reason, instead of failing every task', async () => {
    const url = await scriptedOrchestrator((ws) =>
      ws.send(
        encodeMessage({
          type: 'welcome',
          protocol: PROTOCOL_VERSION,
          learner_id: 0,
          settings: { ...settings, param_count: 1234 },
        }),
      ),
    );
    const end = await learnerSession(url);
    expect(end.kind).toBe('refused');
    expect(end.code).toBe(CLOSE.incompatible.code);
    expect(end.reason).toMatch(/1234 parameters/);
  });

  it('leaves a run that speaks another protocol version with 4008', async () => {
    const url = await scriptedOrchestrator((ws) =>
      ws.send(encodeMessage({ type: 'welcome', protocol: PROTOCOL_VERSION + 1, learner_id: 0, settings })),
    );
    const end = await learnerSession(url);
    expect(end).toMatchObject({
      kind: 'refused',
      code: CLOSE.incompatible.code,
      reason: expect.stringMatching(/protocol/),
    });
  });

  it('reports diverging weights as an error for the task instead of returning them', async () => {
    const errors: { code: string; task_id?: string }[] = [];
    let results = 0;
    const url = await scriptedOrchestrator((ws, frames) => {
      ws.send(
        encodeMessage({
          type: 'welcome',
          protocol: PROTOCOL_VERSION,
          learner_id: 0,
          settings: { ...settings, lr: 1e38 },
        }),
      );
      const weights = new Float32Array(PARAM_COUNT).fill(1e30); // finite, but training overflows
      const images = new Uint8Array(4 * PIXELS_PER_IMAGE).fill(255);
      ws.send(
        encodeMessage({
          type: 'task',
          task_id: 'boom',
          cycle: 1,
          scheme: 'eta',
          tau: 1,
          samples: 4,
          seed: 1,
          f_hz: 1e9,
          rate_bps: 1e8,
          source: 'batch',
          weights,
          images,
          labels: Uint8Array.from([1, 2, 3, 4]),
        }),
      );
      ws.on('message', () => {
        for (const f of frames.splice(0)) {
          try {
            const m = decodeToOrchestrator(f, PARAM_COUNT);
            if (m.type === 'result') results++;
            if (m.type === 'error') {
              errors.push({ code: m.code, task_id: m.task_id });
              ws.send(encodeMessage({ type: 'bye', reason: 'done' }));
            }
          } catch {
            /* the hello */
          }
        }
      });
    });
    await learnerSession(url);
    expect(results).toBe(0);
    expect(errors).toEqual([{ code: 'non_finite', task_id: 'boom' }]);
  });
});

describe('held tasks (compute slots)', () => {
  it('a held task waits for its start; a start for another task is refused', async () => {
    const rng = createRng(12);
    const weights = Float32Array.from({ length: PARAM_COUNT }, () => 0.05 * rng.normal());
    const images = Uint8Array.from({ length: 4 * PIXELS_PER_IMAGE }, () => rng.int(256));
    const labels = Uint8Array.from({ length: 4 }, () => rng.int(10));
    const seen: string[] = [];
    const url = await scriptedOrchestrator((ws, frames) => {
      ws.send(encodeMessage({ type: 'welcome', protocol: PROTOCOL_VERSION, learner_id: 0, settings }));
      const task: Task = {
        type: 'task',
        task_id: 'held-1',
        cycle: 1,
        scheme: 'optimal',
        tau: 1,
        samples: 4,
        seed: 1,
        f_hz: 1e9,
        rate_bps: 1e8,
        source: 'batch',
        hold: true,
        weights,
        images,
        labels,
      };
      ws.send(encodeMessage(task));
      ws.send(encodeMessage({ type: 'start', task_id: 'other' }));
      // Nothing may come back for the held task before its start.
      setTimeout(() => ws.send(encodeMessage({ type: 'start', task_id: 'held-1' })), 300);
      ws.on('message', () => {
        for (const f of frames.splice(0)) {
          try {
            const m = decodeToOrchestrator(f, PARAM_COUNT);
            seen.push(m.type === 'error' ? `error:${m.code}` : m.type);
            if (m.type === 'result') ws.send(encodeMessage({ type: 'bye', reason: 'done' }));
          } catch {
            /* the hello */
          }
        }
      });
    });
    const started = Date.now();
    const end = await learnerSession(url);
    expect(end.tasksDone).toBe(1);
    expect(seen).toEqual(['hello', 'error:unexpected', 'trained', 'compute_done', 'result']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
