import { describe, it, expect } from 'vitest';
import { coefficients, learnerTime, phaseTimes } from '../../src/model/coefficients.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';
import type { LearnerProfile } from '../../src/model/devices.ts';

// One learner with round numbers: f = 2.4 GHz, r = 1e8 bit/s, Table I / MNIST constants.
const learner: LearnerProfile = { id: 0, f_hz: 2.4e9, rate_bps: 1e8 };
const rel = (x: number, want: number) => expect(Math.abs(x - want) / Math.abs(want)).toBeLessThan(1e-14);

describe('coefficients (paper eqs. 9–11)', () => {
  it('task-parallel: hand-computed values', () => {
    const c = coefficients(learner, PAPER_PRESET, 'parallel');
    // C2 = C_m/f = 1 123 736 / 2.4e9 = 4.6822333…e-4 s per sample per iteration
    rel(c.c2_s_per_sample_iter, 1123736 / 2.4e9);
    rel(c.c2_s_per_sample_iter, 0.00046822333333333335);
    // C1 = (F·P_d + 2·P_m·S_d)/r = (784·8 + 0)/1e8 = 6272/1e8 = 6.272e-5 s per sample
    rel(c.c1_s_per_sample, 6.272e-5);
    // C0 = 2·P_m·S_m/r = 2·32·280 934/1e8 = 17 979 776/1e8 = 0.17979776 s
    rel(c.c0_s, 0.17979776);
  });

  it('federated: the data term drops out of C1, C0 and C2 unchanged', () => {
    const c = coefficients(learner, PAPER_PRESET, 'federated');
    expect(c.c1_s_per_sample).toBe(0);
    rel(c.c0_s, 0.17979776);
    rel(c.c2_s_per_sample_iter, 1123736 / 2.4e9);
  });

  it('S_d > 0 adds 2·P_m·S_d bits per sample to C1 in both scenarios', () => {
    const p = { ...PAPER_PRESET, model_coeffs_per_sample: 2 };
    // parallel: (6272 + 2·32·2)/1e8 = 6400/1e8; federated: 128/1e8
    rel(coefficients(learner, p, 'parallel').c1_s_per_sample, 6.4e-5);
    rel(coefficients(learner, p, 'federated').c1_s_per_sample, 1.28e-6);
  });

  it('phase times add up to the coefficient form (τ = 3, d_k = 100)', () => {
    const ph = phaseTimes(learner, PAPER_PRESET, 'parallel', 3, 100);
    // t_S = (100·784·8 + 32·280 934)/1e8 = (627 200 + 8 989 888)/1e8 = 0.09617088 s
    rel(ph.t_send_s, 0.09617088);
    // τ·t_C = 3·100·1 123 736/2.4e9 = 0.140467 s
    rel(ph.t_compute_s, 0.140467);
    // t_R = 32·280 934/1e8 = 0.08989888 s
    rel(ph.t_return_s, 0.08989888);
    // total = 0.32653676 s = C2·3·100 + C1·100 + C0
    rel(ph.t_total_s, 0.32653676);
    rel(learnerTime(coefficients(learner, PAPER_PRESET, 'parallel'), 3, 100), 0.32653676);
  });

  it('a learner given nothing sits out: zero time, no exchange', () => {
    const c = coefficients(learner, PAPER_PRESET, 'parallel');
    expect(learnerTime(c, 5, 0)).toBe(0);
    expect(phaseTimes(learner, PAPER_PRESET, 'parallel', 5, 0)).toEqual({
      t_send_s: 0,
      t_compute_s: 0,
      t_return_s: 0,
      t_total_s: 0,
    });
  });

  it('federated phase times ship no data', () => {
    const ph = phaseTimes(learner, PAPER_PRESET, 'federated', 1, 100);
    rel(ph.t_send_s, 0.08989888);
    rel(ph.t_total_s, learnerTime(coefficients(learner, PAPER_PRESET, 'federated'), 1, 100));
  });
});
