/**
 * A learner that sends half a message and then nothing — while still answering every ping, so the
 * heartbeat sees a live peer — is given up after the task timeout derived from T, not after the
 * old fixed 600 s. A raw WebSocket client plays the learner: it follows the command the run
 * prints, takes its task, and sends the first fragment of its result (control frames such as pongs
 * may legally interleave with a fragmented message, so the connection stays healthy).
 */
import { describe, expect, it } from 'vitest';
import { PARAM_COUNT } from '../../../src/nn/mlp.ts';
import { defaultTaskTimeoutS, TASK_TIMEOUT } from '../../../src/orchestrator/config.ts';
import { eventsOf } from '../../../src/orchestrator/events.ts';
import { runExperiment } from '../../../src/orchestrator/experiment.ts';
import { decodeToLearner, encodeMessage, type LearnerSettings } from '../../../src/protocol/messages.ts';
import { readLearners } from '../../helpers/run-files.ts';
import { collectLog, fastConfig, helloFrame, RawClient, tmpDir } from '../../reliability/helpers.ts';

describe('task timeout', () => {
  it('is derived from T (and the time scale and jitter on the real clock)', () => {
    expect(defaultTaskTimeoutS({ T: 12, clock: 'virtual', time_scale: 1, speed_jitter: 0 })).toBe(120);
    expect(defaultTaskTimeoutS({ T: 12, clock: 'real', time_scale: 0.5, speed_jitter: 0 })).toBe(60);
    expect(defaultTaskTimeoutS({ T: 12, clock: 'real', time_scale: 2, speed_jitter: 0.2 })).toBe(
      Math.ceil(10 * 2 * 12 * Math.exp(0.6)),
    );
    expect(defaultTaskTimeoutS({ T: 0.1, clock: 'virtual', time_scale: 1, speed_jitter: 0 })).toBe(TASK_TIMEOUT.min_s);
  });

  it('a learner that sends half a result but answers pings costs one derived timeout, not 600 s', async () => {
    const T = 1;
    const timeout_s = defaultTaskTimeoutS({ T, clock: 'virtual', time_scale: 1, speed_jitter: 0 });
    expect(timeout_s).toBe(10);
    const config = fastConfig({
      K: 1,
      T,
      cycles: 1,
      external: true,
      train_samples: 200,
      heartbeat_s: 0.5,
      task_timeout_s: timeout_s,
    });
    const log = collectLog();
    let client: RawClient | null = null;
    let settings: LearnerSettings | null = null;
    const stalled = (async () => {
      const listening = await log.whenEvent('listening');
      const profile = listening.expected_fleet![0]; // what the printed command announces
      client = await RawClient.connect(listening.url);
      client.send(helloFrame(listening.token, 0, { profile: { f_hz: profile.f_hz, distance_m: profile.distance_m } }));
      const welcome = decodeToLearner((await client.next(() => true)).data, null);
      if (welcome.type !== 'welcome') throw new Error(`expected a welcome, got ${welcome.type}`);
      settings = welcome.settings;
      const isType = (type: string) => (f: { data: Buffer }) => decodeToLearner(f.data, settings).type === type;
      const task = decodeToLearner((await client.next(isType('task'), 30_000)).data, settings);
      await client.next(isType('start'), 30_000); // a compute slot is ours: the timeout runs from here
      if (task.type !== 'task') throw new Error('no task');
      const result = encodeMessage({
        type: 'result',
        task_id: task.task_id,
        cycle: task.cycle,
        samples: task.samples,
        steps: 1,
        loss: 0.1,
        train_wall_s: 0,
        compute_wall_s: 0,
        overrun_s: 0,
        engine: 'raw',
        max_rss_kb: 0,
        weights: new Float32Array(PARAM_COUNT),
      });
      // The first half as a non-final fragment; the rest never comes.
      client.ws.send(result.subarray(0, result.length >> 1), { binary: true, fin: false });
    })();

    const run = await runExperiment(config, { out: tmpDir('half-frame'), ...log.sinks });
    await stalled;
    expect(run.interrupted).toBe(false);
    const [start] = eventsOf(log.events, 'cycle-start');
    const [done] = eventsOf(log.events, 'cycle-done');
    expect(start).toBeDefined();
    expect(done.missing).toEqual([{ learner: 0, reason: `no result within ${timeout_s} s` }]);
    expect(done.wall_s).toBeGreaterThan(timeout_s - 0.5);
    expect(done.wall_s).toBeLessThan(timeout_s + 8);
    // It answered every ping meanwhile: the heartbeat never dropped it.
    expect(log.lines.some((l) => /missed its heartbeat/.test(l))).toBe(false);
    expect(run.summary.hub.heartbeat_timeouts).toBe(0);
    expect(readLearners(run.out).map((r) => r.reason)).toEqual([`no result within ${timeout_s} s`]);
    expect(run.summary.faults.lost_learner_cycles).toBe(1);
    const closed = await client!.closed; // the run ended and said goodbye
    expect(closed.code).toBeGreaterThanOrEqual(4000);
  });
});
