/**
 * End to end with per-learner τ_k: real learner processes train async and energy allocations, the
 * orchestrator aggregates with FedNova, and every learner's row carries its own τ_k and joules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { phaseTimes } from '../../src/model/coefficients.ts';
import { allocateAll } from '../../src/orchestrator/run-plan.ts';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { LEARNERS_HEADER } from '../../src/run-folder/schema.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { readCycles, readLearners } from '../helpers/run-files.ts';
import { tmpDir } from '../helpers/tmp.ts';

const tmp = () => tmpDir('async');
const quiet = () => {};

describe('async + energy + FedNova end to end (K = 3, 2 cycles)', () => {
  it("tasks and timelines use each learner's τ_k; budgets hold; summary has τ_k and energy", async () => {
    const budget = 5;
    const config = smallConfig({
      schemes: ['optimal', 'async', 'energy'],
      aggregate: 'fednova',
      max_staleness: 2,
      energy: { kappa_j_per_cycle_hz2: 1e-28, rx_power_w: 0.05, budget_j: budget },
    });
    const fleetless = JSON.parse(JSON.stringify(config));
    const r = await runExperiment(config, { out: tmp(), log: quiet });
    expect(r.interrupted).toBe(false);
    expect(readFileSync(join(r.out, 'learners.csv'), 'utf8').split('\n')[0]).toBe(LEARNERS_HEADER.join(','));

    const fleet = JSON.parse(readFileSync(join(r.out, 'config.json'), 'utf8')).fleet;
    const allocations = await allocateAll(fleetless, fleet);
    const cycles = readCycles(r.out);
    const learners = readLearners(r.out);
    for (const scheme of config.schemes) {
      const a = allocations.get(scheme)!;
      for (const c of cycles.filter((x) => x.scheme === scheme)) {
        expect(c.tau).toBe(a.tau); // cycles.csv: the minimum τ_k
        expect(c.testAccuracy).toBeGreaterThan(0.5);
      }
      for (const row of learners.filter((x) => x.scheme === scheme)) {
        expect(row.tau).toBe(a.tau_per_learner[row.learner]);
        expect(row.status).toBe('on-time');
        if (row.batch === 0) continue;
        // The emulated compute is the learner's own τ_k over its d_k.
        const model = phaseTimes(fleet[row.learner], config.params, 'parallel', row.tau!, row.batch);
        expect(Math.abs(row.tComputeS! / model.t_compute_s - 1)).toBeLessThan(1e-9);
        expect(row.tTotalS!).toBeLessThanOrEqual(config.T * (1 + 1e-9));
        // Energy: compute + radio, by the formulas.
        const compute = 1e-28 * fleet[row.learner].f_hz ** 2 * row.tau! * row.batch * config.params.flops_per_sample;
        expect(row.energyComputeJ!).toBeCloseTo(compute, 9);
        const radio = 10 ** ((config.params.tx_power_dbm - 30) / 10) * row.tReturnS! + 0.05 * row.tSendS!;
        expect(row.energyRadioJ!).toBeCloseTo(radio, 9);
        expect(row.energyJ!).toBeCloseTo(compute + radio, 9);
        if (scheme === 'energy') expect(row.energyJ!).toBeLessThanOrEqual(budget * (1 + 1e-9));
      }
    }
    // The budget binds: optimal spends more than it on some learner, energy never.
    expect(learners.some((x) => x.scheme === 'optimal' && x.energyJ! > budget)).toBe(true);

    const summary = JSON.parse(readFileSync(join(r.out, 'summary.json'), 'utf8'));
    const asy = summary.schemes.async;
    expect(asy.tau_per_cycle).toHaveLength(2);
    expect(asy.tau_per_cycle[0].min).toBe(allocations.get('async')!.tau);
    expect(asy.tau_per_cycle[0].staleness).toBe(allocations.get('async')!.staleness);
    expect(summary.schemes.energy.energy.over_budget_learner_cycles).toBe(0);
    expect(summary.schemes.optimal.energy.over_budget_learner_cycles).toBeGreaterThan(0);
    expect(summary.schemes.optimal.energy.compute_share).toBeGreaterThan(0.9);
  }, 240_000);
});
