/**
 * End to end in a world that changes: real learner processes, fading, jitter and availability,
 * allocation every cycle from measurements (csi last), scheme robust; and a trace replayed exactly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrace, traceState } from '../../src/model/trace.ts';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { CYCLES_HEADER, UNAVAILABLE_REASON, type LearnerRow } from '../../src/run-folder/schema.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { readCycles, readLearners, withoutWall } from '../helpers/run-files.ts';
import { tmpDir } from '../helpers/tmp.ts';

const tmp = () => tmpDir('world');
const quiet = () => {};
const cell = (r: LearnerRow) => `${r.cycle}/${r.learner}`;

describe('dynamics + csi last + robust (K = 4, 3 cycles)', () => {
  const config = smallConfig({
    K: 4,
    cycles: 3,
    schemes: ['optimal', 'robust', 'eta'],
    speed_jitter: 0.2,
    fading: 'rayleigh',
    availability: 0.7,
    mean_on_cycles: 3,
    csi: 'last',
    epsilon: 0.05,
  });

  it('meets the same world in every scheme, sits offline learners out, records the new metrics, and resumes exactly', async () => {
    const run = await runExperiment(config, { out: tmp(), log: quiet });
    expect(run.interrupted).toBe(false);
    expect(readFileSync(join(run.out, 'cycles.csv'), 'utf8').split('\n')[0]).toBe(CYCLES_HEADER.join(','));
    const learners = readLearners(run.out);
    const cycles = readCycles(run.out);
    expect(cycles).toHaveLength(9);

    // The world per (cycle, learner) is the same for every scheme: speed, rate and presence.
    const worldOf = (scheme: string) =>
      new Map(
        learners
          .filter((r) => r.scheme === scheme)
          .map((r) => [cell(r), [r.fHz, r.rateBps, r.reason === UNAVAILABLE_REASON]]),
      );
    expect(worldOf('robust')).toEqual(worldOf('optimal'));
    expect(worldOf('eta')).toEqual(worldOf('optimal'));

    // Offline learners got nothing and are not failures; the counts in cycles.csv add up.
    const offline = learners.filter((r) => r.reason === UNAVAILABLE_REASON);
    expect(offline.length).toBeGreaterThan(0);
    for (const r of offline) expect([r.batch, r.status]).toEqual([0, 'on-time']);
    for (const c of cycles) {
      const rows = learners.filter((r) => r.scheme === c.scheme && r.cycle === c.cycle);
      expect(c.unavailableLearners).toBe(rows.filter((r) => r.reason === UNAVAILABLE_REASON).length);
      expect(c.taskedLearners).toBe(rows.filter((r) => r.batch > 0).length);
      expect(c.updatesAggregated).toBe(rows.filter((r) => r.status === 'on-time' && r.batch > 0).length); // --late drop
      expect(rows.reduce((s, r) => s + r.batch, 0)).toBe(c.tau > 0 ? config.train_samples : 0);
    }

    // csi last: the allocation follows the measurements, so it changes from cycle to cycle.
    const batches = (scheme: string, cycle: number) =>
      learners
        .filter((r) => r.scheme === scheme && r.cycle === cycle)
        .map((r) => r.batch)
        .join();
    expect(new Set([1, 2, 3].map((c) => batches('optimal', c))).size).toBeGreaterThan(1);

    const summary = JSON.parse(readFileSync(join(run.out, 'summary.json'), 'utf8'));
    for (const scheme of config.schemes) {
      const s = summary.schemes[scheme];
      const timed = learners.filter((r) => r.scheme === scheme && r.batch > 0 && r.status !== 'missing');
      expect(s.deadline_miss_rate).toBeCloseTo(timed.filter((r) => r.status === 'late').length / timed.length, 12);
      expect(s.unavailable_learner_cycles).toBe(
        learners.filter((r) => r.scheme === scheme && r.reason === UNAVAILABLE_REASON).length,
      );
      expect(s.mean_updates_aggregated).toBeGreaterThan(0);
    }
    const config_ = JSON.parse(readFileSync(join(run.out, 'config.json'), 'utf8'));
    expect([config_.fading, config_.availability, config_.mean_on_cycles, config_.csi, config_.epsilon]).toEqual([
      'rayleigh',
      0.7,
      3,
      'last',
      0.05,
    ]);

    // Two cycles, then --resume to three: the measurements are read back, so the run is the same.
    const part = await runExperiment({ ...config, cycles: 2 }, { out: tmp(), log: quiet });
    await runExperiment(config, { out: part.out, log: quiet, resume: true });
    const order = <T extends { scheme: string; cycle: number; learner?: number }>(rows: T[]) =>
      rows
        .slice()
        .sort((a, b) => a.scheme.localeCompare(b.scheme) || a.cycle - b.cycle || (a.learner ?? 0) - (b.learner ?? 0));
    expect(order(withoutWall(readCycles(part.out)))).toEqual(order(withoutWall(cycles)));
    expect(order(readLearners(part.out))).toEqual(order(learners));
  });
});

describe('--trace replay (data/example-trace.csv, K = 4)', () => {
  it('every learner-cycle has exactly the traced speed, rate and presence', async () => {
    const file = join(import.meta.dirname, '..', '..', 'data', 'example-trace.csv');
    const trace = parseTrace(readFileSync(file, 'utf8'), file);
    const config = smallConfig({ K: 4, cycles: 3, schemes: ['optimal', 'robust'], trace_file: file, csi: 'last' });
    const run = await runExperiment(config, { out: tmp(), log: quiet });
    const learners = readLearners(run.out);
    expect(learners).toHaveLength(2 * 3 * 4);
    for (const r of learners) {
      const s = traceState(trace, r.learner, r.cycle);
      expect([r.fHz, r.rateBps]).toEqual([s.f_hz, s.rate_bps]);
      expect(r.reason === UNAVAILABLE_REASON).toBe(!s.available);
      if (!s.available) expect(r.batch).toBe(0);
    }
  });
});

describe('a world that changes meets per-learner τ_k, energy and FedNova (K = 4, 2 cycles)', () => {
  it('allocates async and energy every cycle over who is on: each learner runs its own τ_k, offline ones spend 0 J', async () => {
    const config = smallConfig({
      K: 4,
      cycles: 2,
      schemes: ['async', 'energy'],
      speed_jitter: 0.2,
      availability: 0.7,
      mean_on_cycles: 3,
      csi: 'last',
      aggregate: 'fednova',
      energy: { kappa_j_per_cycle_hz2: 1e-28, rx_power_w: 0, budget_j: 8 },
    });
    const run = await runExperiment(config, { out: tmp(), log: quiet });
    expect(run.interrupted).toBe(false);
    const learners = readLearners(run.out);
    const cycles = readCycles(run.out);
    expect(cycles).toHaveLength(4);
    expect(learners.some((r) => r.reason === UNAVAILABLE_REASON)).toBe(true);
    for (const c of cycles) {
      const rows = learners.filter((r) => r.scheme === c.scheme && r.cycle === c.cycle);
      for (const r of rows) {
        if (r.batch === 0) expect([r.tau, r.energyJ]).toEqual([0, 0]);
        else {
          expect(r.tau! - c.tau).toBeGreaterThanOrEqual(0);
          expect(r.tau! - c.tau).toBeLessThanOrEqual(1); // --max-staleness 1
        }
      }
      if (c.tau > 0) expect(Math.min(...rows.filter((r) => r.batch > 0).map((r) => r.tau!))).toBe(c.tau);
    }
    const summary = JSON.parse(readFileSync(join(run.out, 'summary.json'), 'utf8'));
    for (const scheme of config.schemes) {
      const s = summary.schemes[scheme];
      expect(s.tau_per_cycle.length).toBeGreaterThan(0);
      expect(s.energy.mean_per_cycle_j).toBeGreaterThan(0);
      expect(s.unavailable_learner_cycles).toBeGreaterThan(0);
      expect(typeof s.deadline_miss_rate).toBe('number');
    }
  });
});
