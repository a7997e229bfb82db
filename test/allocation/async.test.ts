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
function smallProblem(rng: ReturnType<typeof createRng>, dMax = 14): AllocationProblem {
  const T_s = uniform(rng, 0.5, 10);
  return { coeffs: randomCoefficients(rng, 1 + rng.int(4), T_s), T_s, d: 1 + rng.int(dMax) };
}

describe('async equals brute force on small instances (K ≤ 4, d ≤ 14)', () => {
  it('max-min τ, then the most work Σ τ_k·d_k, then the least spread; with s ∈ {∞, 0, 1, 3}', () => {
    const rng = createRng(4242);
    let feasible = 0;
    let moreWork = 0;
    let infeasible = 0;
    for (let i = 0; i < 300; i++) {
      const p = smallProblem(rng);
      for (const s of [Infinity, 0, 1, 3]) {
        const want = bruteForce(p.coeffs.length, p.d, (k, tau, n) => onTime(p.coeffs[k], tau, n, p.T_s), 1000, s);
        const a = solveAsync(p, s === Infinity ? {} : { maxStaleness: s });
        checkPerLearner(p, a, 1000, s);
        if (want === null) {
          expect(a.feasible).toBe(false);
          if (s === Infinity) infeasible++;
          continue;
        }
        expect(a.feasible).toBe(true);
        if (!a.feasible) continue;
        expect(a.exact).toBe(true);
        expect([a.tau, a.work, a.staleness]).toEqual([want.minTau, want.work, want.spread]);
        if (s !== Infinity) continue;
        feasible++;
        if (a.work > a.tau * p.d) moreWork++;
      }
    }
    expect(feasible).toBeGreaterThan(150);
    expect(infeasible).toBeGreaterThan(20);
    expect(moreWork).toBeGreaterThan(50); // the work step is really exercised
  });
});

describe('async by hand', () => {
  // A: C2 = 0.1 s, B: C2 = 0.3 s, C0 = C1 = 0, T = 10 s, d = 10.
  // cap_A(τ) = ⌊100/τ⌋, cap_B(τ) = ⌊33.3/τ⌋: τ = 12 gives 8 + 2 = 10 ≥ d, τ = 13 gives 7 + 2 = 9: τ* = 12.
  // At min τ ≥ 12 the only split is (8, 2): τ_A = ⌊100/8⌋ = 12, τ_B = ⌊33.3/2⌋ = 16, work 8·12 + 2·16 = 128.
  const p: AllocationProblem = {
    coeffs: [
      { c0_s: 0, c1_s_per_sample: 0, c2_s_per_sample_iter: 0.1 },
      { c0_s: 0, c1_s_per_sample: 0, c2_s_per_sample_iter: 0.3 },
    ],
    T_s: 10,
    d: 10,
  };

  it('every learner fills its cycle at the synchronous optimum', () => {
    const a = solveAsync(p);
    checkPerLearner(p, a);
    expect(a.feasible && [a.tau, a.batch, a.tau_per_learner, a.staleness, a.work]).toEqual([
      12,
      [8, 2],
      [12, 16],
      4,
      128,
    ]);
    expect(tauOf(solveOptimal(p))).toBe(12);
  });

  it('maxStaleness 1 caps B at 13 iterations (it idles the rest)', () => {
    const a = solveAsync(p, { maxStaleness: 1 });
    checkPerLearner(p, a, Infinity, 1);
    expect(a.feasible && [a.tau, a.batch, a.tau_per_learner, a.staleness, a.work]).toEqual([
      12,
      [8, 2],
      [12, 13],
      1,
      122,
    ]);
  });

  it("equal learners: the slack lifts three of them to τ* + 1; s = 0 gives optimal's allocation", () => {
    // C0 = 0.1, C1 = 0.001, C2 = 0.01, T = 10, d = 400: cap(9) = ⌊9.9/0.091⌋ = 108 (Σ 432 ≥ 400),
    // cap(10) = ⌊9.9/0.101⌋ = 98 (Σ 392 < 400): τ* = 9 and 32 samples of slack. Lifting a learner to
    // τ = 10 costs 10 of them: three are lifted (98 samples each), the fourth keeps 106 at τ = 9.
    // Work 106·9 + 3·98·10 = 3894 against 9·400 = 3600; lifting two to 11 (cap 89) does 3876 at best.
    const c = { c0_s: 0.1, c1_s_per_sample: 0.001, c2_s_per_sample_iter: 0.01 };
    const q = { coeffs: [c, c, c, c], T_s: 10, d: 400 };
    const a = solveAsync(q);
    checkPerLearner(q, a);
    expect(a.feasible && [a.tau, a.batch, a.tau_per_learner, a.staleness, a.work]).toEqual([
      9,
      [106, 98, 98, 98],
      [9, 10, 10, 10],
      1,
      3894,
    ]);
    const b = solveAsync(q, { maxStaleness: 0 });
    checkPerLearner(q, b, Infinity, 0);
    expect(b.feasible && [b.batch, b.staleness, b.work]).toEqual([[100, 100, 100, 100], 0, 3600]);
    expect(tauOf(a)).toBe(tauOf(solveOptimal(q)));
  });

  it('rejects a bad maxStaleness', () => {
    expect(() => solveAsync(p, { maxStaleness: -1 })).toThrow(RangeError);
    expect(() => solveAsync(p, { maxStaleness: 1.5 })).toThrow(RangeError);
  });
});

describe('async properties over random fleets', () => {
  /** Every learner that can take one sample at the minimum τ does (when d allows); no other does. */
  function checkParticipation(p: AllocationProblem, a: PerLearnerResult): void {
    if (!a.feasible) return;
    const able = p.coeffs.map((c) => capacity(c, a.tau, p.T_s) >= 1);
    const count = able.filter(Boolean).length;
    a.batch.forEach((n, k) => {
      if (n > 0) expect(able[k]).toBe(true);
      else if (p.d >= count) expect(able[k]).toBe(false);
    });
  }

  it('paper-like fleets (s = 1, as the CLI default): valid, min τ_k = optimal τ, at least its work', () => {
    const rng = createRng(20240602);
    let feasible = 0;
    let more = 0;
    for (let i = 0; i < 200; i++) {
      const p = randomPaperProblem(rng);
      const a = solveAsync(p, { maxStaleness: 1 });
      const opt = solveOptimal(p);
      checkPerLearner(p, a, Infinity, 1);
      checkParticipation(p, a);
      expect(a.feasible).toBe(opt.feasible);
      expect(tauOf(a)).toBeGreaterThanOrEqual(tauOf(opt)); // the acceptance criterion
      expect(tauOf(a)).toBe(tauOf(opt)); // and in fact equal: the max-min τ is the synchronous optimum
      if (a.feasible && opt.feasible) {
        feasible++;
        if (a.exact) expect(a.work).toBeGreaterThanOrEqual(opt.tau * p.d);
        if (a.work > opt.tau * p.d) more++;
      } else if (!a.feasible && !opt.feasible) expect(a.binding).toEqual(opt.binding);
    }
    expect(feasible).toBeGreaterThan(80);
    expect(more).toBeGreaterThan(40);
  });

  it('arbitrary coefficients (incl. C0 ≥ T, C1 = 0, K > d): same properties', () => {
    const rng = createRng(78);
    for (let i = 0; i < 300; i++) {
      const T_s = uniform(rng, 1, 50);
      const coeffs = randomCoefficients(rng, 1 + rng.int(30), T_s);
      const p = { coeffs, T_s, d: 1 + rng.int(rng.next() < 0.2 ? 20 : 3000) };
      const s = rng.int(4);
      const a = solveAsync(p, { maxStaleness: s });
      checkPerLearner(p, a, Infinity, s);
      checkParticipation(p, a);
      expect(tauOf(a)).toBe(tauOf(solveOptimal(p)));
      if (a.feasible) a.batch.forEach((n, k) => coeffs[k].c0_s >= T_s && expect(n).toBe(0));
    }
  });

  it('min τ_k is non-decreasing in T; the most work is non-decreasing in s', () => {
    const rng = createRng(6);
    for (let i = 0; i < 40; i++) {
      const p = randomPaperProblem(rng);
      let prev = 0;
      for (let T_s = p.T_s / 4; T_s <= p.T_s * 4; T_s *= 1.3) {
        const a = solveAsync({ ...p, T_s }, { maxStaleness: 1 });
        checkPerLearner({ ...p, T_s }, a, Infinity, 1);
        expect(tauOf(a)).toBeGreaterThanOrEqual(prev);
        prev = tauOf(a);
      }
      let work = 0;
      for (const s of [0, 1, 2, 4]) {
        const a = solveAsync(p, { maxStaleness: s });
        if (!a.feasible || !a.exact) break;
        expect(a.work).toBeGreaterThanOrEqual(work);
        work = a.work;
      }
    }
  });

  it('tau_max caps every τ_k', () => {
    const rng = createRng(21);
    for (let i = 0; i < 20; i++) {
      const p = randomPaperProblem(rng);
      const a = solveAsync({ ...p, tau_max: 3 }, { maxStaleness: 2 });
      if (a.feasible) for (const t of a.tau_per_learner) expect(t).toBeLessThanOrEqual(3);
    }
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
