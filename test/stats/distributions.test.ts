import { describe, it, expect } from 'vitest';
import {
  binomialCdf,
  binomialPmf,
  logBeta,
  logChoose,
  logGamma,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTCritical,
  studentTPdf,
  studentTQuantile,
  studentTTwoSidedP,
} from '../../src/stats/index.ts';

/** |actual − expected| ≤ rel·|expected| (plus a tiny absolute floor for values near 0). */
function expectRel(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-300);
}

describe('logGamma / logBeta', () => {
  it('matches factorials and Γ(½) = √π', () => {
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(2)).toBeCloseTo(0, 14);
    expectRel(logGamma(5), Math.log(24), 1e-14);
    expectRel(logGamma(11), Math.log(3628800), 1e-14);
    expectRel(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
    expectRel(logGamma(1e-8), -Math.log(1e-8) - 0.5772156649015329e-8, 1e-14); // Γ(x) ≈ 1/x − γ near 0
    expectRel(logGamma(1e6), 12815504.569147611, 1e-15); // scipy.special.gammaln(1e6)
  });

  it('recurrence Γ(x+1) = x·Γ(x) across the shift at x = 10', () => {
    for (const x of [0.1, 3.7, 9.5, 9.999, 10, 10.5, 123.4])
      expect(logGamma(x + 1) - logGamma(x)).toBeCloseTo(Math.log(x), 12);
  });

  it('logBeta agrees with lnΓ sums, is symmetric, and B(a, 1) = 1/a', () => {
    for (const [a, b] of [
      [0.5, 0.5],
      [2, 3],
      [0.5, 15],
      [12, 40],
      [5e5, 0.5],
      [3e5, 7e5],
    ]) {
      expectRel(logBeta(a, b), logBeta(b, a), 1e-15);
    }
    expectRel(logBeta(0.5, 0.5), Math.log(Math.PI), 1e-14);
    for (const a of [0.3, 4, 25, 1e4]) expectRel(logBeta(a, 1), -Math.log(a), 1e-13);
    expectRel(logBeta(12, 40), logGamma(12) + logGamma(40) - logGamma(52), 1e-13);
    expectRel(logBeta(5e5, 0.5), -5.988816495777464, 1e-14); // mpmath, 40 digits
  });

  it('rejects arguments outside the domain', () => {
    expect(() => logGamma(0)).toThrow(RangeError);
    expect(() => logGamma(-1)).toThrow(RangeError);
    expect(() => logGamma(NaN)).toThrow(RangeError);
    expect(() => logBeta(1, 0)).toThrow(RangeError);
    expect(() => logChoose(3, 4)).toThrow(RangeError);
  });
});

describe('regularizedIncompleteBeta', () => {
  it('special cases with closed forms', () => {
    for (const x of [0, 1e-12, 0.01, 0.3, 0.5, 0.77, 0.999, 1]) {
      expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 14); // uniform CDF
      for (const a of [0.5, 2, 7.5]) expect(regularizedIncompleteBeta(x, a, 1)).toBeCloseTo(x ** a, 13);
      for (const b of [0.5, 3, 20]) expect(regularizedIncompleteBeta(x, 1, b)).toBeCloseTo(1 - (1 - x) ** b, 13);
      expect(regularizedIncompleteBeta(x, 2, 2)).toBeCloseTo(3 * x * x - 2 * x ** 3, 13);
      expect(regularizedIncompleteBeta(x, 0.5, 0.5)).toBeCloseTo((2 / Math.PI) * Math.asin(Math.sqrt(x)), 13); // arcsine law
    }
  });

  it('I_½(a, a) = ½ and I_x(a, b) = 1 − I_{1−x}(b, a)', () => {
    for (const a of [0.5, 1, 3, 40, 1e4]) expect(regularizedIncompleteBeta(0.5, a, a)).toBeCloseTo(0.5, 12);
    for (const [x, a, b] of [
      [0.2, 2, 5],
      [0.9, 0.5, 3],
      [0.5, 10, 12],
      [0.01, 50, 0.5],
      [0.999, 3, 300],
    ])
      expect(regularizedIncompleteBeta(x, a, b)).toBeCloseTo(1 - regularizedIncompleteBeta(1 - x, b, a), 13);
  });

  it('is 0 at x = 0, 1 at x = 1, and rejects x outside [0, 1]', () => {
    expect(regularizedIncompleteBeta(0, 3, 4)).toBe(0);
    expect(regularizedIncompleteBeta(1, 3, 4)).toBe(1);
    expect(() => regularizedIncompleteBeta(-0.1, 1, 1)).toThrow(RangeError);
    expect(() => regularizedIncompleteBeta(1.1, 1, 1)).toThrow(RangeError);
    expect(() => regularizedIncompleteBeta(0.5, 0, 1)).toThrow(RangeError);
  });
});

describe('Student t', () => {
  it('quantiles match published tables (t_{0.975, df})', () => {
    const table: [number, number][] = [
      [1, 12.7062047],
      [2, 4.30265273],
      [4, 2.77644511],
      [7, 2.36462425],
      [9, 2.26215716],
      [30, 2.04227246],
    ];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 7);
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959966, 6);
    expectRel(studentTQuantile(0.975, 1e6), 1.959966356814107, 1e-11); // mpmath; z = 1.959964 plus (z³+z)/(4·df)
  });

  it('more quantiles (scipy.stats.t.ppf), both tails and the far tail', () => {
    expectRel(studentTQuantile(0.9, 3), 1.637744353696209, 1e-12);
    expectRel(studentTQuantile(0.99, 3), 4.540702858568132, 1e-12);
    expectRel(studentTQuantile(0.999, 3), 10.214531852407383, 1e-12);
    expectRel(studentTQuantile(0.995, 10), 3.16927267261695, 1e-12);
    expectRel(studentTQuantile(0.95, 120), 1.6576508993552352, 1e-12);
    expectRel(studentTQuantile(1e-10, 5), -156.82559270889433, 1e-11);
    expectRel(studentTQuantile(1e-300, 1), -3.183098861837907e299, 1e-11); // Cauchy: tan(π(p − ½)) ≈ −1/(πp)
    expect(studentTQuantile(0.5, 7)).toBe(0);
    // df ≪ 1: P(T ≤ −1e220) = 0.300033088650777 (mpmath), and the 0.975 quantile exceeds the largest double
    expectRel(studentTCdf(-1e220, 0.001), 0.300033088650777, 1e-12);
    expect(studentTQuantile(0.3, 0.001)).toBeLessThan(-1e220);
    expect(studentTQuantile(0.975, 0.001)).toBe(Infinity);
    expect(studentTQuantile(0.025, 9)).toBeCloseTo(-2.26215716, 7);
  });

  it('closed forms: df = 1 (Cauchy) and df = 2', () => {
    for (const p of [1e-6, 0.01, 0.2, 0.4999, 0.5001, 0.73, 0.95, 0.999999]) {
      expectRel(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)), 1e-10);
      expectRel(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-10);
    }
    for (const t of [-30, -2, -0.5, 0, 0.1, 1, 5, 300]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 14);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 14);
    }
  });

  it('CDF values (mpmath, 30 digits)', () => {
    const table: [number, number, number][] = [
      [-1.5, 5, 0.096951840121236716],
      [2.5, 10, 0.9842765778816956],
      [0.3, 3, 0.60811835398004048],
      [-4, 30, 0.00019092281804187842],
      [3, 1000, 0.9986166454778809],
      [10, 2, 0.99507377148833715],
      [-25, 1, 0.012725611347991831],
      [1.96, 1e6, 0.9750019662073651],
    ];
    for (const [t, df, p] of table) expectRel(studentTCdf(t, df), p, 1e-11);
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 14);
    expect(studentTCdf(0, 3)).toBe(0.5);
    expect(studentTCdf(Infinity, 3)).toBe(1);
    expect(studentTCdf(-Infinity, 3)).toBe(0);
  });

  it('two-sided p-value: keeps precision in the far tail and is 1 at t = 0', () => {
    expect(studentTTwoSidedP(0, 4)).toBe(1);
    expectRel(studentTTwoSidedP(-3.7729688731351947, 4), 0.019554212720304609, 1e-12);
    expectRel(studentTTwoSidedP(-4, 30), 2 * 0.00019092281804187842, 1e-11);
    expectRel(studentTTwoSidedP(40, 10), 2 * studentTCdf(-40, 10), 1e-14);
    expect(studentTTwoSidedP(1e8, 3)).toBeGreaterThan(0); // ≈ 1e-24, not 1 − 1 = 0
    expect(studentTTwoSidedP(1e8, 3)).toBeLessThan(1e-20);
    expect(studentTTwoSidedP(Infinity, 3)).toBe(0);
  });

  it('density integrates to the CDF (trapezoid on [−3, 2], df 6)', () => {
    let area = 0;
    const h = 1e-3;
    for (let x = -3; x < 2 - h / 2; x += h) area += ((studentTPdf(x, 6) + studentTPdf(x + h, 6)) / 2) * h;
    expect(area).toBeCloseTo(studentTCdf(2, 6) - studentTCdf(-3, 6), 6);
    expect(studentTPdf(0, 1)).toBeCloseTo(1 / Math.PI, 14);
  });

  it('critical value is the (1 + level)/2 quantile, precise for level → 1', () => {
    for (const df of [1, 4, 9, 100])
      for (const level of [0.1, 0.5, 0.8, 0.95, 0.99])
        expectRel(studentTCritical(level, df), studentTQuantile((1 + level) / 2, df), 1e-12);
    expect(studentTCritical(0.95, 4)).toBeCloseTo(2.77644511, 7);
    // level = 1 − 1e-12 would round badly via (1 + level)/2; Cauchy: t* = tan(π·level/2) = cot(π·5e-13)
    expectRel(studentTCritical(1 - 1e-12, 1), 1 / Math.tan(Math.PI * 5e-13), 1e-4);
  });

  it('rejects bad df and p', () => {
    expect(() => studentTQuantile(0, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(0.5, 0)).toThrow(RangeError);
    expect(() => studentTCdf(1, -2)).toThrow(RangeError);
    expect(() => studentTCdf(1, Infinity)).toThrow(RangeError);
    expect(() => studentTCdf(NaN, 3)).toThrow(RangeError);
    expect(() => studentTCritical(1, 3)).toThrow(RangeError);
  });
});

describe('binomial', () => {
  it('pmf and CDF for small n match exact fractions', () => {
    expect(binomialPmf(3, 10, 0.5)).toBeCloseTo(120 / 1024, 14);
    expect(binomialCdf(2, 10, 0.5)).toBeCloseTo(56 / 1024, 14);
    expect(binomialCdf(0, 5, 0.5)).toBeCloseTo(1 / 32, 15);
    expect(binomialPmf(2, 4, 0.3)).toBeCloseTo(6 * 0.09 * 0.49, 14);
    expect(binomialCdf(10, 10, 0.5)).toBe(1);
    expect(binomialCdf(-1, 10, 0.5)).toBe(0);
    expect(binomialCdf(2.7, 10, 0.5)).toBeCloseTo(56 / 1024, 14); // P(X ≤ 2.7) = P(X ≤ 2)
    expect(binomialPmf(1.5, 10, 0.5)).toBe(0);
  });

  it('degenerate p = 0 and p = 1', () => {
    expect(binomialPmf(0, 7, 0)).toBe(1);
    expect(binomialPmf(1, 7, 0)).toBe(0);
    expect(binomialPmf(7, 7, 1)).toBe(1);
    expect(binomialCdf(6, 7, 1)).toBe(0);
    expect(binomialCdf(0, 0, 0.5)).toBe(1);
  });

  it('large n in log space (scipy.stats.binom)', () => {
    expectRel(binomialCdf(2400, 5000, 0.5), 0.002441824868758747, 1e-9);
    expectRel(binomialCdf(2450, 5000, 0.5), 0.08074261119868899, 1e-9);
    expectRel(binomialCdf(1000, 2000, 0.5), 0.5089195055729272, 1e-10);
    expectRel(binomialCdf(30, 100, 0.3), 0.5491236007687907, 1e-10);
    expectRel(binomialPmf(700, 3000, 0.25), 0.0018031321699132445, 1e-9);
    expect(binomialCdf(100, 5000, 0.5)).toBe(0); // ≈ 1e-1300: underflows to 0, not NaN
  });

  it('pmf sums to 1 and the CDF is the running sum', () => {
    const n = 40;
    let run = 0;
    for (let k = 0; k <= n; k++) {
      run += binomialPmf(k, n, 0.37);
      expect(binomialCdf(k, n, 0.37)).toBeCloseTo(run, 13);
    }
    expect(run).toBeCloseTo(1, 13);
  });

  it('I_{1−p}(n − k, k + 1) identity links the binomial CDF and the incomplete beta', () => {
    for (const [k, n, p] of [
      [3, 20, 0.4],
      [50, 120, 0.45],
      [900, 2000, 0.46],
    ])
      expectRel(binomialCdf(k, n, p), regularizedIncompleteBeta(1 - p, n - k, k + 1), 1e-9);
  });

  it('rejects bad n and p', () => {
    expect(() => binomialCdf(1, 2.5, 0.5)).toThrow(RangeError);
    expect(() => binomialCdf(1, -1, 0.5)).toThrow(RangeError);
    expect(() => binomialPmf(1, 3, 1.2)).toThrow(RangeError);
  });
});
