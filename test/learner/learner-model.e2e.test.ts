/** The welcome names the model; a learner trains that network or leaves with a reason. */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket as ServerSocket } from 'ws';
import { PIXELS_PER_IMAGE } from '../../src/data/format.ts';
import { initWeights, layoutOf, PARAM_COUNT } from '../../src/nn/mlp.ts';
import {
  CLOSE,
  decodeToOrchestrator,
  encodeMessage,
  PROTOCOL_VERSION,
  type LearnerSettings,
  type Result,
} from '../../src/protocol/messages.ts';
import { createRng } from '../../src/util/rng.ts';
import { hubSettings } from '../reliability/helpers.ts';
import { closeScriptedOrchestrator, learnerSession, scriptedOrchestrator } from './scripted-orchestrator.ts';

afterEach(closeScriptedOrchestrator);

/** A one-connection orchestrator that welcomes with `settings`, then runs `script`. */
function orchestrator(
  settings: LearnerSettings,
  script: (ws: ServerSocket, frames: Buffer[]) => void = () => {},
): Promise<string> {
  return scriptedOrchestrator((ws, frames) => {
    ws.send(encodeMessage({ type: 'welcome', protocol: PROTOCOL_VERSION, learner_id: 0, settings }));
    script(ws, frames);
  });
}
const lenet = layoutOf('lenet5');

describe("learner and the run's model", () => {
  it('refuses a model it cannot build, naming it', async () => {
    const end = await learnerSession(await orchestrator({ ...hubSettings(PARAM_COUNT, 32), model: 'resnet50' }));
    expect(end).toMatchObject({ kind: 'refused', code: CLOSE.incompatible.code });
    expect(end.reason).toMatch(/cannot build the run's model: bad model "resnet50"/);
  });

  it('refuses a model whose parameter count disagrees with its own build of it', async () => {
    const end = await learnerSession(await orchestrator({ ...hubSettings(PARAM_COUNT, 32), model: 'lenet5' }));
    expect(end).toMatchObject({ kind: 'refused', code: CLOSE.incompatible.code });
    expect(end.reason).toMatch(/lenet5 has 280934 parameters, this learner builds it with 61706/);
  });

  it('trains the model the welcome names (lenet5) and returns its weights', async () => {
    const rng = createRng(3);
    let result: Result | null = null;
    const url = await orchestrator({ ...hubSettings(lenet.count, 32), model: 'lenet5' }, (ws, frames) => {
      const images = Uint8Array.from({ length: 8 * PIXELS_PER_IMAGE }, () => rng.int(256));
      const labels = Uint8Array.from({ length: 8 }, () => rng.int(10));
      const task = {
        type: 'task',
        task_id: 't-1',
        cycle: 1,
        scheme: 'optimal',
        tau: 1,
        samples: 8,
        seed: 3,
        f_hz: 1e9,
        rate_bps: 1e8,
        source: 'batch',
        weights: initWeights(1, lenet),
        images,
        labels,
      } as const;
      ws.send(encodeMessage(task));
      ws.on('message', () => {
        for (const f of frames.splice(0)) {
          try {
            const m = decodeToOrchestrator(f, lenet.count);
            if (m.type === 'result') {
              result = m;
              ws.send(encodeMessage({ type: 'bye', reason: 'done' }));
            }
          } catch {
            /* the hello */
          }
        }
      });
    });
    const end = await learnerSession(url);
    expect(end.kind).toBe('bye');
    expect(result).toMatchObject({ type: 'result', task_id: 't-1', samples: 8 });
    expect(result!.weights).toHaveLength(61_706);
  });
});
