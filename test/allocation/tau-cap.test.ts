/**
 * The τ cap (--tau-max): every solver gives τ = min(τ without the cap, cap) with every learner
 * still within T and d_k ≤ cap_k(τ), and without a cap nothing changes.
 */
import { describe, expect, it } from 'vitest';
import { capacity, solve, SYNC_SCHEMES, type Allocation, type AllocationProblem } from '../../src/allocation/index.ts';
import { learnerTime } from '../../src/model/coefficients.ts';
import { createRng } from '../../src/util/rng.ts';
import { randomPaperProblem } from './helpers.ts';

function checkCapped(p: AllocationProblem, uncapped: Allocation, capped: Allocation, cap: number): void {
  expect(capped.feasible).toBe(uncapped.feasible); // a cap never makes a problem infeasible (or feasible)
  if (!uncapped.feasible || !capped.feasible) return;
  expect(capped.tau).toBe(Math.min(uncapped.tau, cap));
  expect(capped.batch.reduce((s, b) => s + b, 0)).toBe(p.d);
  capped.batch.forEach((d_k, k) => {
    expect(d_k).toBeLessThanOrEqual(capacity(p.coeffs[k], capped.tau, p.T_s));
    expect(learnerTime(p.coeffs[k], capped.tau, d_k)).toBeLessThanOrEqual(p.T_s * (1 + 1e-9));
  });
}

describe('tau_max', () => {
  it('caps τ in every scheme, keeps every learner within T, and changes nothing when absent or not binding', () => {
    const rng = createRng(1105);
    let binding = 0;
    for (let i = 0; i < 300; i++) {
      const p = randomPaperProblem(rng);
      for (const scheme of SYNC_SCHEMES) {
        const uncapped = solve(scheme, p);
        expect(solve(scheme, { ...p, tau_max: undefined })).toEqual(uncapped);
        if (!uncapped.feasible) continue;
        const cap = 1 + rng.int(Math.max(1, uncapped.tau + 2));
        const capped = solve(scheme, { ...p, tau_max: cap });
        checkCapped(p, uncapped, capped, cap);
        if (cap >= uncapped.tau)
          expect(capped).toEqual(uncapped); // not binding: the same answer
        else binding++;
      }
    }
    expect(binding).toBeGreaterThan(100);
  });

  it('bounds the τ explosion of a tiny d (the case --tau-max is for)', () => {
    const { coeffs, T_s } = randomPaperProblem(createRng(3));
    const p = { coeffs, T_s: Math.max(T_s, 30), d: 200 };
    for (const scheme of SYNC_SCHEMES) {
      const free = solve(scheme, p);
      expect(free.feasible && free.tau).toBeGreaterThan(20);
      checkCapped(p, free, solve(scheme, { ...p, tau_max: 20 }), 20);
    }
  });

  it('rejects a cap that is not an integer ≥ 1', () => {
    const p = randomPaperProblem(createRng(4));
    for (const bad of [0, 2.5, -1, NaN])
      expect(() => solve('optimal', { ...p, tau_max: bad })).toThrow(/tau_max must be an integer >= 1/);
  });
});
