/**
 * Test helpers for the per-learner schemes (async, energy), written independently of the solvers:
 * a validity check, and brute force over every composition of d into K parts with every learner
 * filling its cycle by linear scan.
 */
import { expect } from 'vitest';
import type { PerLearnerResult } from '../../src/allocation/per-learner.ts';
import type { AllocationProblem } from '../../src/allocation/types.ts';
import { learnerTime, type Coefficients } from '../../src/model/coefficients.ts';

/** On time, by the project's definition, written out independently of the solvers' helpers. */
export function onTime(c: Coefficients, tau: number, d_k: number, T_s: number): boolean {
  if (d_k === 0) return true;
  if (c.c0_s >= T_s) return false;
  return c.c2_s_per_sample_iter * tau * d_k + c.c1_s_per_sample * d_k + c.c0_s <= T_s * (1 + 1e-9);
}

/** Learner k may run τ iterations on n ≥ 1 samples (time and, for the energy scheme, budget). */
export type Allowed = (k: number, tau: number, n: number) => boolean;

export interface BruteBest {
  minTau: number;
  work: number;
  spread: number;
}

/**
 * Lexicographic best over all compositions of d into K parts, written independently of the solver:
 * 1. max min τ_k with τ_k = fill_k(d_k) (the largest τ ≤ tauLimit with allowed(k, τ, d_k));
 * 2. with that minimum m and top = m + s, τ'_k = min(τ_k, top); max work Σ τ'_k·d_k;
 * 3. then the least spread max τ'_k − m.
 * Participation: a learner able to take one sample at m takes ≥ 1 when d is at least their number;
 * a learner not able takes none. null: not even τ = 1 places d.
 */
export function bruteForce(
  K: number,
  d: number,
  allowed: Allowed,
  tauLimit: number,
  maxStaleness = Infinity,
): BruteBest | null {
  const fillTab = Array.from({ length: K }, (_, k) =>
    Array.from({ length: d + 1 }, (_, n) => {
      if (n === 0) return 0;
      let tau = 0;
      while (tau < tauLimit && allowed(k, tau + 1, n)) tau++;
      return tau;
    }),
  );
  const parts = new Array<number>(K).fill(0);
  const all: number[][] = [];
  const walk = (k: number, left: number): void => {
    if (k === K - 1) {
      parts[k] = left;
      all.push([...parts]);
      return;
    }
    for (let n = 0; n <= left; n++) {
      parts[k] = n;
      walk(k + 1, left - n);
    }
  };
  walk(0, d);
  const minFill = (c: number[]) => Math.min(...c.map((n, k) => (n > 0 ? fillTab[k][n] : Infinity)));
  let m = 0;
  for (const c of all) m = Math.max(m, minFill(c));
  if (m < 1) return null;
  const able = Array.from({ length: K }, (_, k) => allowed(k, m, 1));
  const ableCount = able.filter(Boolean).length;
  const top = m + maxStaleness;
  let best: BruteBest | null = null;
  for (const c of all) {
    if (minFill(c) < m) continue;
    if (c.some((n, k) => (n > 0 && !able[k]) || (n === 0 && able[k] && d >= ableCount))) continue;
    let work = 0;
    let max = m;
    c.forEach((n, k) => {
      if (n === 0) return;
      const t = Math.min(fillTab[k][n], top);
      work += t * n;
      max = Math.max(max, t);
    });
    const spread = max - m;
    if (best === null || work > best.work || (work === best.work && spread < best.spread))
      best = { minTau: m, work, spread };
  }
  return best;
}

/** The filled τ for n samples by linear scan (0 if not even τ = 1). */
export function fillByScan(allowed: (tau: number) => boolean, tauLimit: number): number {
  let tau = 0;
  while (tau < tauLimit && allowed(tau + 1)) tau++;
  return tau;
}

const TOL = 1 + 1e-9;

/**
 * Every returned allocation must be a valid answer: integers, Σ = d, on time, τ = min τ_k, staleness =
 * max − min. Each τ_k must be the time-filled value when τ_k < tauLimit (pass 0 to skip: the energy
 * scheme's fill is also bounded by the budget).
 */
export function checkPerLearner(
  p: AllocationProblem,
  a: PerLearnerResult,
  tauLimit = Infinity,
  maxStaleness = Infinity,
): void {
  const K = p.coeffs.length;
  if (!a.feasible) {
    expect(a.reason.length).toBeGreaterThan(10);
    expect(a.binding.length).toBeGreaterThan(0);
    for (const k of a.binding) expect(Number.isInteger(k) && k >= 0 && k < K).toBe(true);
    expect(new Set(a.binding).size).toBe(a.binding.length);
    return;
  }
  expect(a.batch).toHaveLength(K);
  expect(a.tau_per_learner).toHaveLength(K);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < K; k++) {
    const n = a.batch[k];
    const tau = a.tau_per_learner[k];
    const c = p.coeffs[k];
    expect(Number.isInteger(n) && n >= 0).toBe(true);
    sum += n;
    expect(a.time_s[k]).toBe(learnerTime(c, tau, n));
    if (n === 0) {
      expect(tau).toBe(0);
      continue;
    }
    expect(Number.isInteger(tau) && tau >= 1).toBe(true);
    expect(a.time_s[k]).toBeLessThanOrEqual(p.T_s * TOL);
    expect(onTime(c, tau, n, p.T_s)).toBe(true);
    // Fills its cycle: one more iteration would be late.
    if (tau < tauLimit && tau < a.tau + maxStaleness) expect(onTime(c, tau + 1, n, p.T_s)).toBe(false);
    min = Math.min(min, tau);
    max = Math.max(max, tau);
  }
  expect(sum).toBe(p.d);
  expect(a.tau).toBe(min);
  expect(a.staleness).toBe(max - min);
  expect(a.staleness).toBeLessThanOrEqual(maxStaleness);
  expect(a.work).toBe(a.batch.reduce((w, n, k) => w + n * a.tau_per_learner[k], 0));
}
