/**
 * Real clock: links paced by a token bucket and compute padded with sleep, so wall durations ÷ the
 * time scale reproduce the emulated timeline; a host that cannot keep up reports overruns.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventsOf, type RunEvent } from '../../src/orchestrator/events.ts';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { readLearners, readWallPhases } from '../helpers/run-files.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { tmpDir } from '../helpers/tmp.ts';

const tmp = () => tmpDir('real');

// Slow links (8 Mbit/s) so that every phase lasts long enough to time: the 1.1 MB of weights take ~1.1 s each way.
function slowLinkConfig(timeScale: number) {
  const dir = tmp();
  const learnersFile = join(dir, 'learners.json');
  writeFileSync(
    learnersFile,
    JSON.stringify([
      { f_hz: 2.4e9, rate_bps: 8e6 },
      { f_hz: 7e8, rate_bps: 8e6 },
    ]),
  );
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
  // The suite runs two test files at once on two cores: timers then fire a scheduling slice or two
  // late, so each phase gets 10 % plus a fixed slack rather than 10 % alone.
  it('wall phase durations ÷ time scale match the emulated ones within 10 % (+0.2 s of scheduling slack)', async () => {
    const { dir, config } = slowLinkConfig(0.5);
    const run = await runExperiment(config, { out: join(dir, 'run'), log: () => {} });
    const emulated = readLearners(run.out);
    const wall = readWallPhases(run.out);
    expect(wall).toHaveLength(2);
    for (const w of wall) {
      const e = emulated.find((r) => r.learner === w.learner && r.cycle === w.cycle)!;
      for (const [phase, wallS, emulatedS] of [
        ['send', w.wallSendS, e.tSendS!],
        ['compute', w.wallComputeS, e.tComputeS!],
        ['return', w.wallReturnS, e.tReturnS!],
      ] as const) {
        const expected = emulatedS * config.time_scale;
        expect(wallS, `${phase} of learner ${w.learner}: expected ${expected.toFixed(3)} s`).toBeGreaterThan(
          0.9 * expected,
        );
        expect(wallS, `${phase} of learner ${w.learner}: expected ${expected.toFixed(3)} s`).toBeLessThan(
          1.1 * expected + 0.2,
        );
      }
    }
    // Training fits its budget by far here: no compute overrun, whatever the load.
    expect(run.summary.overruns.learner_cycles).toBe(0);
  });

  it('an impossible time scale reports overruns instead of pretending', async () => {
    const { dir, config } = slowLinkConfig(1e-4);
    const events: RunEvent[] = [];
    const run = await runExperiment(config, { out: join(dir, 'run'), log: () => {}, onEvent: (e) => events.push(e) });
    expect(run.summary.overruns.faithful).toBe(false);
    expect(run.summary.overruns.learner_cycles).toBeGreaterThan(0);
    expect(eventsOf(events, 'unfaithful')).toEqual([{ type: 'unfaithful', ...run.summary.overruns }]);
    expect(readWallPhases(run.out).some((w) => (w.overrunS ?? 0) > 0)).toBe(true);
  });
});
