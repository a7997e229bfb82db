import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  binomialCdf,
  ci,
  describe as describeValues,
  pairedComparison,
  regularizedIncompleteBeta,
  signTest,
  studentTCdf,
  studentTPdf,
  studentTQuantile,
  studentTTwoSidedP,
} from '../../src/stats/index.ts';

// Modest run counts: these are cheap, but the machine is shared.
const RUNS = { numRuns: 300 };

const df = fc.oneof(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0.5, max: 1e6, noNaN: true }));
const prob = fc.double({ min: 1e-12, max: 1 - 1e-12, noNaN: true, noDefaultInfinity: true });
const sample = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 30 });

describe('distribution properties', () => {
  it('two-sided p-value in [0, 1] and equals 2·CDF(−|t|)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), df, (t, nu) => {
        const p = studentTTwoSidedP(t, nu);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expect(Math.abs(p - 2 * studentTCdf(-Math.abs(t), nu))).toBeLessThanOrEqual(1e-12 * p + 1e-300);
      }),
      RUNS,
    );
  });

  it('CDF is symmetric: F(t) + F(−t) = 1', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e3, max: 1e3, noNaN: true }), df, (t, nu) => {
        expect(studentTCdf(t, nu) + studentTCdf(-t, nu)).toBeCloseTo(1, 14);
      }),
      RUNS,
    );
  });

  it('CDF(quantile(p)) ≈ p', () => {
    fc.assert(
      fc.property(prob, df, (p, nu) => {
        const q = studentTQuantile(p, nu);
        // relative to the smaller tail, which is what the solver targets
        const tail = Math.min(p, 1 - p);
        const got = p < 0.5 ? studentTCdf(q, nu) : 1 - studentTCdf(q, nu);
        expect(Math.abs(got - tail)).toBeLessThanOrEqual(1e-9 * tail + 2e-16);
      }),
      RUNS,
    );
  });

  it('quantile(CDF(x)) ≈ x', () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), df, (x, nu) => {
        const p = studentTCdf(x, nu);
        fc.pre(p > 0 && p < 1);
        // Near p = 1 the CDF itself is only good to ~1e-16 absolute, which moves x by ~1e-16/density:
        // that conditioning, not the solver, sets the tolerance.
        const tol = 1e-10 * Math.abs(x) + (4 * Number.EPSILON) / studentTPdf(x, nu);
        expect(Math.abs(studentTQuantile(p, nu) - x)).toBeLessThanOrEqual(tol);
      }),
      RUNS,
    );
  });

  it('quantile is increasing in p and decreasing in df for p > ½', () => {
    fc.assert(
      fc.property(prob, prob, fc.integer({ min: 1, max: 1000 }), (p1, p2, nu) => {
        fc.pre(p1 < p2);
        // up to the solver's ~1e-15 relative tolerance, for p values an ulp or two apart
        const slack = (q: number) => 1e-13 * Math.abs(q);
        const q1 = studentTQuantile(p1, nu);
        expect(q1).toBeLessThanOrEqual(studentTQuantile(p2, nu) + slack(q1));
        if (p1 > 0.5) expect(studentTQuantile(p1, nu + 1)).toBeLessThanOrEqual(q1 + slack(q1));
      }),
      RUNS,
    );
  });

  it('incomplete beta in [0, 1] and I_x(a, b) = 1 − I_{1−x}(b, a)', () => {
    const shape = fc.double({ min: 0.05, max: 500, noNaN: true });
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), shape, shape, (x0, a, b) => {
        // y = 1 − x rounds; x = 1 − y is then exact, so x and y are true complements (x = 1e-220 is not 1 − (1 − x)).
        const y = 1 - x0;
        const x = 1 - y;
        const v = regularizedIncompleteBeta(x, a, b);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        expect(v).toBeCloseTo(1 - regularizedIncompleteBeta(y, b, a), 11);
      }),
      RUNS,
    );
  });

  it('binomial CDF is a non-decreasing probability', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, f, p) => {
          const k = Math.floor(f * n);
          const c = binomialCdf(k, n, p);
          expect(c).toBeGreaterThanOrEqual(0);
          expect(c).toBeLessThanOrEqual(1);
          if (k > 0) expect(binomialCdf(k - 1, n, p)).toBeLessThanOrEqual(c * (1 + 1e-12));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('summary and test properties', () => {
  it('CI contains the mean and the sample lies around it', () => {
    fc.assert(
      fc.property(sample, (xs) => {
        const s = describeValues(xs);
        expect(s.ci95_low!).toBeLessThanOrEqual(s.mean!);
        expect(s.ci95_high!).toBeGreaterThanOrEqual(s.mean!);
        expect(s.mean!).toBeGreaterThanOrEqual(Math.min(...xs) - 1e-9);
        expect(s.mean!).toBeLessThanOrEqual(Math.max(...xs) + 1e-9);
        expect(s.sd!).toBeGreaterThanOrEqual(0);
      }),
      RUNS,
    );
  });

  it('CI widens monotonically with the level', () => {
    fc.assert(
      fc.property(
        sample,
        fc.double({ min: 0.01, max: 0.98, noNaN: true }),
        fc.double({ min: 0.001, max: 0.019, noNaN: true }),
        (xs, level, dl) => {
          const a = ci(xs, level);
          const b = ci(xs, level + dl);
          expect(b.low!).toBeLessThanOrEqual(a.low!);
          expect(b.high!).toBeGreaterThanOrEqual(a.high!);
        },
      ),
      RUNS,
    );
  });

  it('shifting the data shifts the CI; scaling scales it', () => {
    fc.assert(
      fc.property(
        sample,
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        (xs, shift, scale) => {
          const s = describeValues(xs);
          const t = describeValues(xs.map((x) => x * scale + shift));
          const tol =
            1e-6 * (1 + Math.abs(s.ci95_high!) + Math.abs(s.ci95_low!)) * (scale + 1) + 1e-6 * Math.abs(shift);
          expect(Math.abs(t.ci95_low! - (s.ci95_low! * scale + shift))).toBeLessThanOrEqual(tol);
          expect(Math.abs(t.ci95_high! - (s.ci95_high! * scale + shift))).toBeLessThanOrEqual(tol);
        },
      ),
      RUNS,
    );
  });

  it('paired p-values are in [0, 1]; swapping a and b negates t and keeps both p-values', () => {
    const cycles = fc.integer({ min: 1, max: 30 });
    fc.assert(
      fc.property(fc.array(fc.tuple(cycles, cycles), { minLength: 0, maxLength: 20 }), (pairs) => {
        const a = pairs.map((p) => p[0]);
        const b = pairs.map((p) => p[1]);
        const ab = pairedComparison(a, b);
        const ba = pairedComparison(b, a);
        for (const p of [ab.t_test.p_value, ab.sign_test.p_value]) {
          if (p === null) continue;
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
        expect(ba.sign_test.p_value).toBe(ab.sign_test.p_value);
        expect(ba.t_test.p_value).toBe(ab.t_test.p_value);
        if (ab.t_test.t !== null) expect(ba.t_test.t).toBeCloseTo(-ab.t_test.t, 10);
        expect(ab.t_test.degenerate === null).toBe(ab.t_test.p_value !== null);
        expect(ab.sign_test.n_positive + ab.sign_test.n_negative + ab.sign_test.n_ties).toBe(pairs.length);
      }),
      RUNS,
    );
  });

  it('sign test p matches a direct sum of C(n, i)/2^n for small n', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 25 }), (pos, neg) => {
        const n = pos + neg;
        let c = 1;
        let sum = 0;
        for (let i = 0; i <= Math.min(pos, neg); i++) {
          sum += c;
          c = (c * (n - i)) / (i + 1);
        }
        const exact = Math.min(1, (2 * sum) / 2 ** n);
        const d = [...Array(pos).fill(1), ...Array(neg).fill(-1)];
        expect(signTest(d).p_value).toBeCloseTo(exact, 12);
      }),
      RUNS,
    );
  });
});
