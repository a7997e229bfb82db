/**
 * End to end: real learner processes, a real WebSocket, real training on MNIST subsets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { phaseTimes } from '../../src/model/coefficients.ts';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { CYCLES_HEADER, LEARNERS_HEADER } from '../../src/run-folder/schema.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { readCycles, readLearners, withoutWall } from '../helpers/run-files.ts';
import { tmpDir } from '../helpers/tmp.ts';

const tmp = () => tmpDir('e2e');
const quiet = () => {};

describe('experiment end to end (K = 3, 2 cycles, virtual clock)', () => {
  it('trains, times every phase from the bytes sent, and is reproducible', async () => {
    const config = smallConfig();
    const a = await runExperiment(config, { out: tmp(), log: quiet });
    const b = await runExperiment(config, { out: tmp(), log: quiet });
    expect(a.interrupted).toBe(false);

    const learnersA = readFileSync(join(a.out, 'learners.csv'), 'utf8');
    expect(readFileSync(join(a.out, 'cycles.csv'), 'utf8').split('\n')[0]).toBe(CYCLES_HEADER.join(','));
    expect(learnersA.split('\n')[0]).toBe(LEARNERS_HEADER.join(','));

    // Accuracy rises from chance (10 %) and from cycle 1 to cycle 2, for both schemes.
    const cycles = readCycles(a.out);
    expect(cycles.map((r) => r.scheme + r.cycle)).toEqual(['optimal1', 'optimal2', 'eta1', 'eta2']);
    for (const scheme of ['optimal', 'eta']) {
      const [c1, c2] = cycles.filter((r) => r.scheme === scheme).map((r) => r.testAccuracy);
      expect(c1).toBeGreaterThan(0.5);
      expect(c2).toBeGreaterThan(c1);
    }

    // Every learner's emulated phases match the paper's model for its (τ, d_k) within 1 %,
    // and nobody exceeds T under optimal or ETA.
    const fleet = JSON.parse(readFileSync(join(a.out, 'config.json'), 'utf8')).fleet;
    const tauOf = new Map(cycles.map((r) => [r.scheme + r.cycle, r.tau]));
    const learners = readLearners(a.out);
    expect(learners).toHaveLength(2 * 2 * config.K);
    for (const r of learners) {
      expect(r.status).toBe('on-time');
      expect(r.reason).toBeNull();
      const model = phaseTimes(fleet[r.learner], config.params, 'parallel', tauOf.get(r.scheme + r.cycle)!, r.batch);
      expect(Math.abs(r.tSendS! / model.t_send_s - 1)).toBeLessThan(0.01);
      expect(Math.abs(r.tComputeS! / model.t_compute_s - 1)).toBeLessThan(0.01);
      expect(Math.abs(r.tReturnS! / model.t_return_s - 1)).toBeLessThan(0.01);
      expect(r.tTotalS!).toBeLessThanOrEqual(config.T);
    }

    // Same seed, virtual clock: identical cycles.csv except the wall-time column.
    expect(withoutWall(readCycles(b.out))).toEqual(withoutWall(cycles));
    expect(readFileSync(join(b.out, 'learners.csv'), 'utf8')).toBe(learnersA);

    const summary = JSON.parse(readFileSync(join(a.out, 'summary.json'), 'utf8'));
    expect(Object.keys(summary.schemes)).toEqual(['optimal', 'eta']);
    expect(summary.schemes.optimal.final_accuracy).toBe(cycles[1].testAccuracy);
  });
});

describe('federated scenario (learners keep Dirichlet non-IID shards)', () => {
  it('ships only weights each cycle and still trains', async () => {
    const config = smallConfig({ scenario: 'federated', alpha: 0.5, schemes: ['optimal'], cycles: 2 });
    const run = await runExperiment(config, { out: tmp(), log: quiet });
    const fleet = JSON.parse(readFileSync(join(run.out, 'config.json'), 'utf8')).fleet;
    const cycles = readCycles(run.out);
    expect(cycles[1].testAccuracy).toBeGreaterThan(0.3);
    for (const r of readLearners(run.out)) {
      expect(r.status).toBe('on-time');
      const model = phaseTimes(fleet[r.learner], config.params, 'federated', cycles[r.cycle - 1].tau, r.batch);
      // Only the weights travel: the task frame is the model plus a header.
      expect(Math.abs(r.tSendS! / model.t_send_s - 1)).toBeLessThan(0.01);
    }
  });
});

describe('common random numbers across schemes', () => {
  it('two schemes that give every learner the same batch train identically (the cap makes optimal = ETA)', async () => {
    // K = 4, d = 600, τ capped at 2: optimal and ETA both give 150 samples each and τ = 2.
    const config = smallConfig({ K: 4, T: 30, cycles: 1, train_samples: 600, test_samples: 500, tau_max: 2 });
    const run = await runExperiment(config, { out: tmp(), log: quiet });
    const [optimal, eta] = readCycles(run.out);
    expect([optimal.scheme, eta.scheme]).toEqual(['optimal', 'eta']);
    expect(optimal.tau).toBe(eta.tau);
    const batches = (s: string) =>
      readLearners(run.out)
        .filter((r) => r.scheme === s)
        .map((r) => r.batch);
    expect(batches('optimal')).toEqual(batches('eta'));
    expect(optimal.testAccuracy).toBe(eta.testAccuracy);
    expect(optimal.testLoss).toBe(eta.testLoss);
  });
});
