/**
 * Stragglers: with --speed-jitter the devices are slower or faster than the profile the allocation
 * used, so some learners miss T. `--late drop` leaves them out and keeps the cycle at T; `--late wait`
 * averages them in and the cycle lasts until the last one is back.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { readCycles, readLearners } from '../helpers/run-files.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { tmpDir } from '../helpers/tmp.ts';

describe('late learners (--speed-jitter)', () => {
  it('drop leaves late updates out at T; wait averages them in and lengthens the cycle', async () => {
    const base = smallConfig({ schemes: ['optimal'], cycles: 2, speed_jitter: 0.5 });
    const runs = {} as Record<
      'drop' | 'wait',
      { cycles: ReturnType<typeof readCycles>; learners: ReturnType<typeof readLearners> }
    >;
    for (const late of ['drop', 'wait'] as const) {
      const run = await runExperiment({ ...base, late }, { out: join(tmpDir('late'), 'run'), log: () => {} });
      runs[late] = { cycles: readCycles(run.out), learners: readLearners(run.out) };
    }
    const fleet = smallConfig().K;
    for (const late of ['drop', 'wait'] as const) {
      const { cycles, learners } = runs[late];
      expect(learners).toHaveLength(2 * fleet);
      // The same devices in both runs (seeded per cycle and learner), some of them too slow for T.
      const lateRows = learners.filter((r) => r.status === 'late');
      expect(lateRows.length).toBeGreaterThan(0);
      for (const r of lateRows) expect(r.tTotalS).toBeGreaterThan(base.T);
      for (const r of learners.filter((r) => r.status === 'on-time')) expect(r.tTotalS).toBeLessThanOrEqual(base.T);
      for (const c of cycles)
        expect(c.lateLearners).toBe(learners.filter((r) => r.cycle === c.cycle && r.status === 'late').length);
    }
    expect(runs.drop.learners.map((r) => r.status)).toEqual(runs.wait.learners.map((r) => r.status));
    // drop: every cycle lasts T. wait: a cycle with a late learner lasts as long as its slowest learner.
    expect(runs.drop.cycles.map((c) => c.emulatedTimeS)).toEqual([base.T, 2 * base.T]);
    let previous = 0;
    for (const c of runs.wait.cycles) {
      const lateHere = runs.wait.learners
        .filter((r) => r.cycle === c.cycle && r.status === 'late')
        .map((r) => r.tTotalS!);
      expect(c.emulatedTimeS - previous).toBeCloseTo(Math.max(base.T, ...lateHere), 9);
      previous = c.emulatedTimeS;
    }
    expect(previous).toBeGreaterThan(2 * base.T);
    // Different updates were averaged, so the models differ.
    expect(runs.wait.cycles.map((c) => c.testLoss)).not.toEqual(runs.drop.cycles.map((c) => c.testLoss));
  });
});
