import { describe, it, expect } from 'vitest';
import { pairedComparison, pairedTTest, signTest } from '../../src/stats/index.ts';

describe('signTest', () => {
  it('5 of 5 positive → p = 2·(1/32) = 0.0625', () => {
    const s = signTest([1, 2, 3, 4, 5]);
    expect(s).toMatchObject({ n_positive: 5, n_negative: 0, n_ties: 0 });
    expect(s.p_value).toBeCloseTo(0.0625, 14);
  });

  it('8 of 10 → p = 2·(1 + 10 + 45)/1024 = 0.109375', () => {
    expect(signTest([1, 1, 1, 1, 1, 1, 1, 1, -1, -1]).p_value).toBeCloseTo(0.109375, 14);
    expect(signTest([-1, -1, -1, -1, -1, -1, -1, -1, 1, 1]).p_value).toBeCloseTo(0.109375, 14); // symmetric
  });

  it('ties are dropped: [+, +, +, 0, 0, −] → n = 4, p = 2·(1 + 4)/16 = 0.625', () => {
    const s = signTest([3, 1, 2, 0, 0, -4]);
    expect(s).toMatchObject({ n_positive: 3, n_negative: 1, n_ties: 2 });
    expect(s.p_value).toBeCloseTo(0.625, 14);
  });

  it('balanced signs cap at 1: 3 vs 3 → min(1, 2·42/64) = 1', () => {
    expect(signTest([1, 1, 1, -1, -1, -1]).p_value).toBe(1);
  });

  it('all ties or no pairs → p = 1', () => {
    expect(signTest([0, 0, 0]).p_value).toBe(1);
    expect(signTest([]).p_value).toBe(1);
  });

  it('scipy.stats.binomtest agrees: 20 of 30 → 0.09873714670538905; 7 of 9 → 0.1796875', () => {
    expect(signTest([...Array(20).fill(1), ...Array(10).fill(-1)]).p_value).toBeCloseTo(0.09873714670538905, 12);
    expect(signTest([...Array(7).fill(-2), ...Array(2).fill(5)]).p_value).toBeCloseTo(0.1796875, 14);
  });

  it('1000 pairs run in log space', () => {
    const s = signTest([...Array(400).fill(1), ...Array(600).fill(-1)]);
    expect(s.p_value).toBeGreaterThan(0);
    expect(s.p_value).toBeLessThan(1e-9);
  });
});

describe('pairedTTest', () => {
  it('worked by hand', () => {
    // d = [−3, −1, −4, −1, −2]: mean −11/5 = −2.2; deviations −0.8, 1.2, −1.8, 1.2, 0.2;
    // Σ² = 0.64 + 1.44 + 3.24 + 1.44 + 0.04 = 6.8; s² = 6.8/4 = 1.7; se = √(1.7/5) = √0.34 = 0.583095…;
    // t = −2.2/0.583095 = −3.7729688731351947, df 4;
    // p = 2·(1 − F₄(|t|)), closed form for df 4: F₄(t) = ½ + (3/8)·w·(1 − w²/12), w = t/√(1 + t²/4)
    // → w = 3.772969/2.135140 = 1.767083, p = 0.019554212720304609 (scipy.stats.ttest_rel agrees).
    const r = pairedTTest([-3, -1, -4, -1, -2]);
    expect(r.degenerate).toBeNull();
    expect(r.df).toBe(4);
    expect(r.t).toBeCloseTo(-3.7729688731351947, 13);
    expect(r.p_value).toBeCloseTo(0.019554212720304609, 12);
  });

  it('zero variance: t and p are null, flagged, whether the constant difference is 0 or not', () => {
    expect(pairedTTest([-3, -3, -3])).toEqual({ t: null, df: 2, p_value: null, degenerate: 'zero_variance' });
    expect(pairedTTest([0, 0])).toEqual({ t: null, df: 1, p_value: null, degenerate: 'zero_variance' });
  });

  it('fewer than two pairs', () => {
    expect(pairedTTest([5])).toEqual({ t: null, df: null, p_value: null, degenerate: 'too_few_pairs' });
    expect(pairedTTest([])).toEqual({ t: null, df: null, p_value: null, degenerate: 'too_few_pairs' });
  });
});

describe('pairedComparison', () => {
  // Cycles to 96.67 % for 5 seeds: adaptive vs ETA.
  const adaptive = [5, 6, 5, 7, 6];
  const eta = [8, 7, 9, 8, 8];

  it('differences are a − b and feed both tests', () => {
    const c = pairedComparison(adaptive, eta);
    expect(c.n).toBe(5);
    expect(c.mean_a).toBeCloseTo(5.8, 14);
    expect(c.mean_b).toBeCloseTo(8, 14);
    expect(c.difference.mean).toBeCloseTo(-2.2, 14);
    expect(c.difference.sd).toBeCloseTo(Math.sqrt(1.7), 14);
    expect(c.t_test.t).toBeCloseTo(-3.7729688731351947, 13);
    expect(c.t_test.p_value).toBeCloseTo(0.019554212720304609, 12);
    expect(c.sign_test).toMatchObject({ n_positive: 0, n_negative: 5, n_ties: 0 });
    expect(c.sign_test.p_value).toBeCloseTo(0.0625, 14);
    // the CI of the mean difference excludes 0 exactly when the t-test rejects at 5 %
    expect(c.difference.ci95_high!).toBeLessThan(0);
  });

  it('snake_case, JSON round-trip, including the degenerate case', () => {
    for (const [a, b] of [
      [adaptive, eta],
      [
        [5, 5, 5],
        [8, 8, 8],
      ],
      [[1], [2]],
    ]) {
      const c = pairedComparison(a, b);
      expect(JSON.parse(JSON.stringify(c))).toEqual(c);
    }
    expect(Object.keys(pairedComparison(adaptive, eta)).sort()).toEqual([
      'difference',
      'mean_a',
      'mean_b',
      'n',
      'sign_test',
      't_test',
    ]);
  });

  it('a constant difference: t-test degenerate, sign test still answers', () => {
    const c = pairedComparison([5, 5, 5, 5, 5, 5], [8, 8, 8, 8, 8, 8]);
    expect(c.t_test.degenerate).toBe('zero_variance');
    expect(c.sign_test.p_value).toBeCloseTo(2 / 64, 14);
  });

  it('rejects unequal lengths and non-finite values', () => {
    expect(() => pairedComparison([1, 2], [1])).toThrow(RangeError);
    expect(() => pairedComparison([1, NaN], [1, 2])).toThrow(RangeError);
    expect(() => pairedComparison([1, 2], [1, Infinity])).toThrow(RangeError);
  });
});
