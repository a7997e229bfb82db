import { describe, it, expect } from 'vitest';
import { solveAsync } from '../../src/allocation/async.ts';
import { capacity } from '../../src/allocation/feasibility.ts';
import { solveOptimal } from '../../src/allocation/optimal.ts';
import type { PerLearnerResult } from '../../src/allocation/per-learner.ts';
import type { AllocationProblem } from '../../src/allocation/types.ts';
import { createRng } from '../../src/util/rng.ts';
import { randomCoefficients, randomPaperProblem, uniform } from './helpers.ts';
import { bruteForce, checkPerLearner, fillByScan, onTime } from './per-learner-helpers.ts';

const tauOf = (a: { feasible: boolean; tau?: number }) => (a.feasible ? a.tau! : 0);

/** Small random instance for the brute force (C2 ≥ 0.01 s and T ≤ 10 s keep every τ ≤ 1000). */
function smallProblem(rng: ReturnType<typeof createRng>, dMax = 20): AllocationProblem {
  const T_s = uniform(rng, 0.5, 10);
  return { coeffs: randomCoefficients(rng, 1 + rng.int(4), T_s), T_s, d: 1 + rng.int(dMax) };
}

describe('async equals brute force on small instances (K ≤ 4, d ≤ 20)', () => {
  it('max-min τ and then the least spread, over 400 random instances', () => {
    const rng = createRng(4242);
    let feasible = 0;
    let spread = 0;
    let infeasible = 0;
    for (let i = 0; i < 400; i++) {
      const p = smallProblem(rng);
      const want = bruteForce(p.coeffs.length, p.d, (k, tau, n) => onTime(p.coeffs[k], tau, n, p.T_s), 1000, true);
      const a = solveAsync(p);
      checkPerLearner(p, a, 1000);
      if (want === null) {
        expect(a.feasible).toBe(false);
        infeasible++;
        continue;
      }
      expect(a.feasible).toBe(true);
      if (!a.feasible) continue;
      expect(a.tau).toBe(want.minTau);
      expect(a.staleness).toBe(want.spread);
      feasible++;
      if (want.spread > 0) spread++;
    }
    expect(feasible).toBeGreaterThan(150);
    expect(infeasible).toBeGreaterThan(20);
    expect(spread).toBeGreaterThan(50); // the spread step is really exercised
  });

  it('with maxStaleness s ∈ {0, 1, 2, 5}: the largest minimum that allows spread ≤ s, then the least spread', () => {
    const rng = createRng(777);
    let lowered = 0;
    let blocked = 0;
    for (let i = 0; i < 300; i++) {
      const p = smallProblem(rng);
      for (const s of [0, 1, 2, 5]) {
        const want = bruteForce(p.coeffs.length, p.d, (k, tau, n) => onTime(p.coeffs[k], tau, n, p.T_s), 1000, true, s);
        const a = solveAsync(p, { maxStaleness: s });
        checkPerLearner(p, a, 1000);
        expect(a.feasible).toBe(want !== null);
        if (!a.feasible || want === null) {
          if (solveOptimal(p).feasible) blocked++;
          continue;
        }
        expect(a.tau).toBe(want.minTau);
        expect(a.staleness).toBe(want.spread);
        expect(a.staleness).toBeLessThanOrEqual(s);
        if (a.tau < tauOf(solveOptimal(p))) lowered++;
      }
    }
    expect(lowered).toBeGreaterThan(5); // the bound really costs minimum τ sometimes
    expect(blocked).toBeGreaterThan(20); // and sometimes cannot be met at all
  });

  it('the participation rule matters: without it, sending learners home can lower the spread', () => {
    // Same max-min τ either way; the rule can only cost spread, and it does on some instances.
    const rng = createRng(99);
    let costs = 0;
    for (let i = 0; i < 300; i++) {
      const p = smallProblem(rng);
      const allowed = (k: number, tau: number, n: number) => onTime(p.coeffs[k], tau, n, p.T_s);
      const ruled = bruteForce(p.coeffs.length, p.d, allowed, 1000, true);
      const free = bruteForce(p.coeffs.length, p.d, allowed, 1000, false);
      expect(ruled === null).toBe(free === null);
      if (ruled === null || free === null) continue;
      expect(ruled.minTau).toBe(free.minTau);
      expect(ruled.spread).toBeGreaterThanOrEqual(free.spread);
      if (ruled.spread > free.spread) costs++;
    }
    expect(costs).toBeGreaterThan(0);
  });
});

describe('async by hand', () => {
  // A: C2 = 0.1 s, B: C2 = 0.3 s, C0 = C1 = 0, T = 10 s, d = 10.
  // cap_A(τ) = ⌊100/τ⌋, cap_B(τ) = ⌊33.3/τ⌋: τ = 12 gives 8 + 2 = 10 ≥ d, τ = 13 gives 7 + 2 = 9: τ* = 12.
  // At min τ ≥ 12 the only split is (8, 2): τ_A = ⌊100/8⌋ = 12, τ_B = ⌊33.3/2⌋ = 16, staleness 4.
  const p: AllocationProblem = {
    coeffs: [
      { c0_s: 0, c1_s_per_sample: 0, c2_s_per_sample_iter: 0.1 },
      { c0_s: 0, c1_s_per_sample: 0, c2_s_per_sample_iter: 0.3 },
    ],
    T_s: 10,
    d: 10,
  };

  it('forced spread at the synchronous optimum', () => {
    const a = solveAsync(p);
    checkPerLearner(p, a);
    expect(a.feasible && [a.tau, a.batch, a.tau_per_learner, a.staleness]).toEqual([12, [8, 2], [12, 16], 4]);
    expect(tauOf(solveOptimal(p))).toBe(12);
  });

  it('maxStaleness 3 lowers the minimum to 11 to pull B in', () => {
    // τ_lo = 11: cap_A = 9, cap_B = 3; window [11, 14]: lo_A = cap_A(15) + 1 = 7, lo_B = cap_B(15) + 1 = 3.
    // Σ lo = 10 = d: (7, 3) with τ_A = ⌊100/7⌋ = 14, τ_B = ⌊33.3/3⌋ = 11. Window [11, 13] needs lo_A = 8: 11 > d.
    const a = solveAsync(p, { maxStaleness: 3 });
    checkPerLearner(p, a);
    expect(a.feasible && [a.tau, a.batch, a.tau_per_learner, a.staleness]).toEqual([11, [7, 3], [14, 11], 3]);
  });

  it('maxStaleness 0 is impossible here, and says which learners bind', () => {
    // At τ = 12 no batch puts B at exactly 12 (2 samples: 16, 3 samples: 11); A needs ≥ 8 samples to stay at 12.
    // Lower minima only make A hungrier (at τ = 1 it would need 51 samples).
    const a = solveAsync(p, { maxStaleness: 0 });
    checkPerLearner(p, a);
    expect(a.feasible).toBe(false);
    if (a.feasible) return;
    expect(a.scheme).toBe('async');
    expect(a.binding).toEqual([1, 0]);
    expect(a.reason).toMatch(/staleness ≤ 0/);
  });

  it('equal learners: no staleness, same τ as optimal', () => {
    const c = { c0_s: 0.1, c1_s_per_sample: 0.001, c2_s_per_sample_iter: 0.01 };
    const q = { coeffs: [c, c, c, c], T_s: 10, d: 400 };
    const a = solveAsync(q);
    checkPerLearner(q, a);
    expect(a.feasible && a.staleness).toBe(0);
    expect(a.feasible && a.batch).toEqual([100, 100, 100, 100]);
    expect(tauOf(a)).toBe(tauOf(solveOptimal(q)));
  });

  it('rejects a bad maxStaleness', () => {
    expect(() => solveAsync(p, { maxStaleness: -1 })).toThrow(RangeError);
    expect(() => solveAsync(p, { maxStaleness: 1.5 })).toThrow(RangeError);
  });
});

describe('async properties over random fleets', () => {
  /** Every learner that can take one sample at the minimum τ does (when d allows). */
  function checkParticipation(p: AllocationProblem, a: PerLearnerResult): void {
    if (!a.feasible) return;
    const able = p.coeffs.map((c) => capacity(c, a.tau, p.T_s) >= 1);
    const count = able.filter(Boolean).length;
    const active = a.batch.filter((n) => n > 0).length;
    expect(active).toBe(Math.min(count, p.d));
    a.batch.forEach((n, k) => {
      if (n > 0) expect(able[k]).toBe(true);
    });
  }

  it('paper-like fleets: valid, min τ_k = optimal τ, participation rule holds', () => {
    const rng = createRng(20240602);
    let feasible = 0;
    let stale = 0;
    for (let i = 0; i < 300; i++) {
      const p = randomPaperProblem(rng);
      const a = solveAsync(p);
      const opt = solveOptimal(p);
      checkPerLearner(p, a);
      checkParticipation(p, a);
      expect(a.feasible).toBe(opt.feasible);
      expect(tauOf(a)).toBeGreaterThanOrEqual(tauOf(opt)); // the acceptance criterion
      expect(tauOf(a)).toBe(tauOf(opt)); // and in fact equal: the max-min τ is the synchronous optimum
      if (a.feasible) {
        feasible++;
        if (a.staleness > 0) stale++;
      } else expect(a.binding).toEqual(!opt.feasible && opt.binding);
    }
    expect(feasible).toBeGreaterThan(100);
    expect(feasible).toBeLessThan(300);
    expect(stale).toBeGreaterThan(20);
  });

  it('arbitrary coefficients (incl. C0 ≥ T, C1 = 0, K > d): same properties', () => {
    const rng = createRng(78);
    for (let i = 0; i < 400; i++) {
      const T_s = uniform(rng, 1, 50);
      const coeffs = randomCoefficients(rng, 1 + rng.int(30), T_s);
      const p = { coeffs, T_s, d: 1 + rng.int(rng.next() < 0.2 ? 20 : 3000) };
      const a = solveAsync(p);
      checkPerLearner(p, a);
      checkParticipation(p, a);
      expect(tauOf(a)).toBe(tauOf(solveOptimal(p)));
      if (a.feasible) a.batch.forEach((n, k) => coeffs[k].c0_s >= T_s && expect(n).toBe(0));
    }
  });

  it('min τ_k is non-decreasing in T', () => {
    const rng = createRng(6);
    for (let i = 0; i < 60; i++) {
      const p = randomPaperProblem(rng);
      let prev = 0;
      for (let T_s = p.T_s / 4; T_s <= p.T_s * 4; T_s *= 1.3) {
        const a = solveAsync({ ...p, T_s });
        checkPerLearner({ ...p, T_s }, a);
        expect(tauOf(a)).toBeGreaterThanOrEqual(prev);
        prev = tauOf(a);
      }
    }
  });

  it('maxStaleness: spread ≤ s, minimum never above the unbounded one, loose bounds change nothing', () => {
    const rng = createRng(12);
    for (let i = 0; i < 100; i++) {
      const p = randomPaperProblem(rng);
      const free = solveAsync(p);
      if (!free.feasible) continue;
      for (const s of [0, 1, 2, 4, free.staleness, free.staleness + 1]) {
        const a = solveAsync(p, { maxStaleness: s });
        checkPerLearner(p, a);
        if (!a.feasible) continue;
        expect(a.staleness).toBeLessThanOrEqual(s);
        expect(a.tau).toBeLessThanOrEqual(free.tau);
        if (s >= free.staleness) expect(a).toEqual(free);
      }
    }
  });

  it('maxStaleness on mid-size fleets: the skipping scan finds what a plain τ-by-τ scan finds', () => {
    // Reference: try every minimum from τ* down; a window [m, m + s] fits iff every learner able to
    // take a sample at m has some batch with τ_k in it and Σ lo ≤ d ≤ Σ cap (or, with d below their
    // number, d of them stay in it on one sample).
    const rng = createRng(31);
    let checked = 0;
    for (let i = 0; i < 150; i++) {
      const T_s = uniform(rng, 1, 20);
      const p = { coeffs: randomCoefficients(rng, 1 + rng.int(25), T_s), T_s, d: 1 + rng.int(rng.next() < 0.3 ? 30 : 600) };
      const opt = solveOptimal(p);
      if (!opt.feasible) continue;
      for (const s of [0, 1, 3, 10]) {
        let want = 0;
        for (let m = opt.tau; m >= 1 && want === 0; m--) {
          const able = p.coeffs.map((_, k) => k).filter((k) => capacity(p.coeffs[k], m, T_s) >= 1);
          if (p.d < able.length) {
            const inside = able.filter((k) => fillByScan((tau) => onTime(p.coeffs[k], tau, 1, T_s), m + s + 1) <= m + s);
            if (inside.length >= p.d) want = m;
            continue;
          }
          let sumLo = 0;
          let sumCap = 0;
          let ok = true;
          for (const k of able) {
            const lo = capacity(p.coeffs[k], m + s + 1, T_s) + 1;
            const cap = capacity(p.coeffs[k], m, T_s);
            if (lo > cap) ok = false;
            sumLo += lo;
            sumCap += cap;
          }
          if (ok && sumLo <= p.d && p.d <= sumCap) want = m;
        }
        const a = solveAsync(p, { maxStaleness: s });
        checkPerLearner(p, a);
        expect(tauOf(a)).toBe(want);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('is deterministic', () => {
    const p = randomPaperProblem(createRng(3));
    expect(solveAsync(p)).toEqual(solveAsync(p));
    expect(solveAsync(p, { maxStaleness: 1 })).toEqual(solveAsync(p, { maxStaleness: 1 }));
  });

  it('every τ_k agrees with an independent linear scan (small fleets)', () => {
    const rng = createRng(5150);
    for (let i = 0; i < 200; i++) {
      const p = smallProblem(rng, 200);
      const a = solveAsync(p);
      if (!a.feasible) continue;
      a.batch.forEach((n, k) => {
        if (n > 0) expect(a.tau_per_learner[k]).toBe(fillByScan((tau) => onTime(p.coeffs[k], tau, n, p.T_s), 100_000));
      });
    }
  });
});
