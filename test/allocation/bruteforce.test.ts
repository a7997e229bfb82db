import { describe, it, expect } from 'vitest';
import { solveAnalytical, solveOptimal, type AllocationProblem } from '../../src/allocation/index.ts';
import type { Coefficients } from '../../src/model/coefficients.ts';
import { createRng } from '../../src/util/rng.ts';
import { randomCoefficients, uniform } from './helpers.ts';

/** On time, by the project's definition, written out independently of the solvers' helpers. */
function onTime(c: Coefficients, tau: number, d_k: number, T_s: number): boolean {
  if (d_k === 0) return true;
  if (c.c0_s >= T_s) return false;
  return c.c2_s_per_sample_iter * tau * d_k + c.c1_s_per_sample * d_k + c.c0_s <= T_s * (1 + 1e-9);
}

/** Best τ over every composition of d into K parts (0 if none allows τ ≥ 1). */
function bruteForceTau(p: AllocationProblem, tauLimit: number): number {
  const K = p.coeffs.length;
  // best[k][n]: largest τ ≤ tauLimit at which learner k can do n samples (linear scan; 0 = none).
  const best = p.coeffs.map((c) =>
    Array.from({ length: p.d + 1 }, (_, n) => {
      if (n === 0) return Infinity;
      let tau = 0;
      while (tau < tauLimit && onTime(c, tau + 1, n, p.T_s)) tau++;
      return tau;
    }),
  );
  let bestTau = 0;
  const parts = new Array<number>(K).fill(0);
  const walk = (k: number, left: number, tauSoFar: number): void => {
    if (tauSoFar <= bestTau) return; // cannot improve
    if (k === K - 1) {
      parts[k] = left;
      bestTau = Math.max(bestTau, Math.min(tauSoFar, best[k][left]));
      return;
    }
    for (let n = 0; n <= left; n++) {
      parts[k] = n;
      walk(k + 1, left - n, Math.min(tauSoFar, best[k][n]));
    }
  };
  walk(0, p.d, Infinity);
  return bestTau;
}

describe('optimal equals brute force on small instances (K ≤ 4, d ≤ 30)', () => {
  it('matches over 300 random instances, feasible and infeasible', () => {
    const rng = createRng(31337);
    let feasible = 0;
    let infeasible = 0;
    for (let i = 0; i < 300; i++) {
      const T_s = uniform(rng, 0.5, 10);
      const p = { coeffs: randomCoefficients(rng, 1 + rng.int(4), T_s), T_s, d: 1 + rng.int(30) };
      // With C2 ≥ 0.01 s and T ≤ 10 s no learner exceeds τ = 1000.
      const want = bruteForceTau(p, 1000);
      const opt = solveOptimal(p);
      const ana = solveAnalytical(p);
      expect(opt.feasible ? opt.tau : 0).toBe(want);
      expect(ana.feasible ? ana.tau : 0).toBe(want);
      if (want > 0) feasible++;
      else infeasible++;
    }
    expect(feasible).toBeGreaterThan(50);
    expect(infeasible).toBeGreaterThan(20);
  });

  it('handles the exact-boundary case: t_k equal to T counts as on time', () => {
    // C2·τ·d + C0 = 0.25·4·3 + 1 = 4 = T exactly: τ = 4 with d = 3 on one learner.
    const p = { coeffs: [{ c0_s: 1, c1_s_per_sample: 0, c2_s_per_sample_iter: 0.25 }], T_s: 4, d: 3 };
    const opt = solveOptimal(p);
    expect(opt.feasible && opt.tau).toBe(4);
    expect(opt.feasible && opt.time_s[0]).toBe(4);
    expect(bruteForceTau(p, 100)).toBe(4);
    // 0.1 is not exact in binary: 0.1·3·3 + 0.1 is exactly 1 on paper but evaluates to
    // 1.0000000000000002 > T = 1. The relative tolerance keeps τ = 3 (without it: τ = 2).
    const q = { coeffs: [{ c0_s: 0.1, c1_s_per_sample: 0, c2_s_per_sample_iter: 0.1 }], T_s: 1, d: 3 };
    expect(0.1 * 3 * 3 + 0 * 3 + 0.1).toBeGreaterThan(1);
    for (const a of [solveOptimal(q), solveAnalytical(q)]) expect(a.feasible && a.tau).toBe(3);
    expect(bruteForceTau(q, 100)).toBe(3);
  });
});
