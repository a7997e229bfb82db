/**
 * Real clock: links paced by a token bucket and compute padded with sleep, so wall durations ÷ the
 * time scale reproduce the emulated timeline; a host that cannot keep up reports overruns.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { readCsvObjects } from '../helpers/csv.ts';
import { smallConfig } from '../helpers/run-config.ts';

const tmp = () => mkdtempSync(join(os.tmpdir(), 'mel-real-'));
const csv = readCsvObjects;

// Slow links (8 Mbit/s) so that every phase lasts long enough to time: the 1.1 MB of weights take ~1.1 s each way.
function slowLinkConfig(timeScale: number) {
  const dir = tmp();
  const learnersFile = join(dir, 'learners.json');
  writeFileSync(learnersFile, JSON.stringify([{ f_hz: 2.4e9, rate_bps: 8e6 }, { f_hz: 7e8, rate_bps: 8e6 }]));
  return {
    dir,
    config: smallConfig({
      K: 2,
      cycles: 1,
      schemes: ['optimal'],
      train_samples: 400,
      test_samples: 500,
      clock: 'real',
      time_scale: timeScale,
      learners_file: learnersFile,
    }),
  };
}

describe('real clock', () => {
  it('wall phase durations ÷ time scale match the emulated ones within 10 %', async () => {
    const { dir, config } = slowLinkConfig(0.5);
    const run = await runExperiment(config, { out: join(dir, 'run'), log: () => {} });
    const emulated = csv(join(run.out, 'learners.csv'));
    const wall = csv(join(run.out, 'wall_phases.csv'));
    expect(wall).toHaveLength(2);
    for (const w of wall) {
      const e = emulated.find((r) => r.learner === w.learner && r.cycle === w.cycle)!;
      for (const [wallKey, emuKey] of [
        ['wall_send_s', 't_send_s'],
        ['wall_compute_s', 't_compute_s'],
        ['wall_return_s', 't_return_s'],
      ]) {
        const ratio = Number(w[wallKey]) / config.time_scale / Number(e[emuKey]);
        expect(ratio, `${wallKey} of learner ${w.learner}`).toBeGreaterThan(0.9);
        expect(ratio, `${wallKey} of learner ${w.learner}`).toBeLessThan(1.1);
      }
    }
    expect(run.summary.overruns).toMatchObject({ learner_cycles: 0, off_schedule_learner_cycles: 0, faithful: true });
  });

  it('an impossible time scale reports overruns instead of pretending', async () => {
    const { dir, config } = slowLinkConfig(1e-4);
    const logs: string[] = [];
    const run = await runExperiment(config, { out: join(dir, 'run'), log: (l) => logs.push(l) });
    expect(run.summary.overruns.faithful).toBe(false);
    expect(run.summary.overruns.learner_cycles).toBeGreaterThan(0);
    expect(logs.join('\n')).toMatch(/not a faithful real-time emulation/);
    const wall = csv(join(run.out, 'wall_phases.csv'));
    expect(wall.some((w) => Number(w.overrun_s) > 0)).toBe(true);
  });
});
