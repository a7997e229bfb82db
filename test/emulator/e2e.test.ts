/**
 * End to end: real learner processes, a real WebSocket, real training on MNIST subsets.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { phaseTimes } from '../../src/model/coefficients.ts';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { smallConfig } from '../helpers/run-config.ts';

const CYCLES_HEADER = 'scheme,cycle,tau,test_accuracy,test_loss,emulated_time_s,max_learner_time_s,late_learners,wall_time_s';
const LEARNERS_HEADER = 'scheme,cycle,learner,f_hz,rate_bps,batch,t_send_s,t_compute_s,t_return_s,t_total_s,late';

const tmp = () => mkdtempSync(join(os.tmpdir(), 'mel-e2e-'));
const rows = (text: string) => text.trim().split('\n').slice(1).map((l) => l.split(','));
const quiet = () => {};

describe('experiment end to end (K = 3, 2 cycles, virtual clock)', () => {
  it('trains, times every phase from the bytes sent, and is reproducible', async () => {
    const config = smallConfig();
    const a = await runExperiment(config, { out: tmp(), log: quiet });
    const b = await runExperiment(config, { out: tmp(), log: quiet });
    expect(a.interrupted).toBe(false);

    const cyclesA = readFileSync(join(a.out, 'cycles.csv'), 'utf8');
    const learnersA = readFileSync(join(a.out, 'learners.csv'), 'utf8');
    expect(cyclesA.split('\n')[0]).toBe(CYCLES_HEADER);
    expect(learnersA.split('\n')[0]).toBe(LEARNERS_HEADER);

    // Accuracy rises from chance (10 %) and from cycle 1 to cycle 2, for both schemes.
    const cycles = rows(cyclesA);
    expect(cycles.map((r) => r[0] + r[1])).toEqual(['optimal1', 'optimal2', 'eta1', 'eta2']);
    for (const scheme of ['optimal', 'eta']) {
      const [c1, c2] = cycles.filter((r) => r[0] === scheme).map((r) => Number(r[3]));
      expect(c1).toBeGreaterThan(0.5);
      expect(c2).toBeGreaterThan(c1);
    }

    // Every learner's emulated phases match the paper's model for its (τ, d_k) within 1 %,
    // and nobody exceeds T under optimal or ETA.
    const fleet = JSON.parse(readFileSync(join(a.out, 'config.json'), 'utf8')).fleet;
    const tauOf = new Map(cycles.map((r) => [r[0] + r[1], Number(r[2])]));
    const learners = rows(learnersA);
    expect(learners).toHaveLength(2 * 2 * config.K);
    for (const r of learners) {
      const [scheme, cycle, learner, , , batch, tS, tC, tR, tTotal, late] = r;
      expect(late).toBe('0');
      const model = phaseTimes(fleet[Number(learner)], config.params, 'parallel', tauOf.get(scheme + cycle)!, Number(batch));
      expect(Math.abs(Number(tS) / model.t_send_s - 1)).toBeLessThan(0.01);
      expect(Math.abs(Number(tC) / model.t_compute_s - 1)).toBeLessThan(0.01);
      expect(Math.abs(Number(tR) / model.t_return_s - 1)).toBeLessThan(0.01);
      expect(Number(tTotal)).toBeLessThanOrEqual(config.T);
    }

    // Same seed, virtual clock: identical cycles.csv except the wall-time column.
    const dropWall = (text: string) => rows(text).map((r) => r.slice(0, -1).join(','));
    expect(dropWall(readFileSync(join(b.out, 'cycles.csv'), 'utf8'))).toEqual(dropWall(cyclesA));
    expect(readFileSync(join(b.out, 'learners.csv'), 'utf8')).toBe(learnersA);

    const summary = JSON.parse(readFileSync(join(a.out, 'summary.json'), 'utf8'));
    expect(Object.keys(summary.schemes)).toEqual(['optimal', 'eta']);
    expect(summary.schemes.optimal.final_accuracy).toBe(Number(cycles[1][3]));
  });
});

describe('federated scenario (learners keep Dirichlet non-IID shards)', () => {
  it('ships only weights each cycle and still trains', async () => {
    const config = smallConfig({ scenario: 'federated', alpha: 0.5, schemes: ['optimal'], cycles: 2 });
    const run = await runExperiment(config, { out: tmp(), log: quiet });
    const fleet = JSON.parse(readFileSync(join(run.out, 'config.json'), 'utf8')).fleet;
    const cycles = rows(readFileSync(join(run.out, 'cycles.csv'), 'utf8'));
    expect(Number(cycles[1][3])).toBeGreaterThan(0.3);
    for (const r of rows(readFileSync(join(run.out, 'learners.csv'), 'utf8'))) {
      const [, cycle, learner, , , batch, tS, , , , late] = r;
      expect(late).toBe('0');
      const model = phaseTimes(fleet[Number(learner)], config.params, 'federated', Number(cycles[Number(cycle) - 1][2]), Number(batch));
      // Only the weights travel: the task frame is the model plus a header.
      expect(Math.abs(Number(tS) / model.t_send_s - 1)).toBeLessThan(0.01);
    }
  });
});
