import { describe, it, expect } from 'vitest';
import {
  solve,
  solveAnalytical,
  solveEta,
  solveOptimal,
  SYNC_SCHEMES,
  type Allocation,
  type AllocationProblem,
} from '../../src/allocation/index.ts';
import { learnerTime } from '../../src/model/coefficients.ts';
import { createRng } from '../../src/util/rng.ts';
import { randomCoefficients, randomPaperProblem, uniform } from './helpers.ts';

const TOL = 1 + 1e-9;

/** Every returned allocation must be a valid answer to the problem. */
function checkValid(p: AllocationProblem, a: Allocation): void {
  if (!a.feasible) {
    expect(a.reason.length).toBeGreaterThan(10);
    expect(a.binding.length).toBeGreaterThan(0);
    for (const k of a.binding) expect(k >= 0 && k < p.coeffs.length && Number.isInteger(k)).toBe(true);
    return;
  }
  expect(Number.isInteger(a.tau) && a.tau >= 1).toBe(true);
  expect(a.batch).toHaveLength(p.coeffs.length);
  let sum = 0;
  a.batch.forEach((d_k, k) => {
    expect(Number.isInteger(d_k) && d_k >= 0).toBe(true);
    sum += d_k;
    const t = learnerTime(p.coeffs[k], a.tau, d_k);
    expect(a.time_s[k]).toBe(t);
    expect(t).toBeLessThanOrEqual(p.T_s * TOL);
    if (p.coeffs[k].c0_s >= p.T_s) expect(d_k).toBe(0); // cannot even exchange the model
  });
  expect(sum).toBe(p.d);
}

const tauOf = (a: Allocation) => (a.feasible ? a.tau : 0);

describe('allocation properties over random fleets', () => {
  it('paper-like fleets: valid answers, optimal ≥ analytical, optimal ≥ ETA, τ* ≥ optimal', () => {
    const rng = createRng(20240601);
    let feasible = 0;
    let equal = 0;
    let lowered = 0;
    for (let i = 0; i < 400; i++) {
      const p = randomPaperProblem(rng);
      const [eta, ana, opt] = SYNC_SCHEMES.map((s) => solve(s, p));
      for (const a of [eta, ana, opt]) checkValid(p, a);
      expect(ana.feasible).toBe(opt.feasible); // analytical never gives up while some τ ≥ 1 works
      if (eta.feasible) expect(opt.feasible).toBe(true);
      expect(tauOf(opt)).toBeGreaterThanOrEqual(tauOf(ana));
      expect(tauOf(opt)).toBeGreaterThanOrEqual(tauOf(eta));
      if (opt.feasible && ana.feasible) {
        feasible++;
        expect(ana.tau_relaxed! * TOL).toBeGreaterThanOrEqual(opt.tau);
        if (ana.tau === opt.tau) equal++;
        if (ana.repair!.tau_lowered_by > 0) lowered++;
      }
    }
    // The generator must actually exercise both outcomes.
    expect(feasible).toBeGreaterThan(100);
    expect(feasible).toBeLessThan(400);
    expect(equal).toBe(feasible); // the SAI repair lands on the integer optimum's τ
    expect(lowered).toBeGreaterThan(0); // and sometimes had to lower τ below ⌊τ*⌋ to get there
  });

  it('arbitrary coefficients (incl. learners with C0 ≥ T and C1 = 0): same properties', () => {
    const rng = createRng(77);
    for (let i = 0; i < 400; i++) {
      const T_s = uniform(rng, 1, 50);
      const coeffs = randomCoefficients(rng, 1 + rng.int(30), T_s);
      const p = { coeffs, T_s, d: 1 + rng.int(3000) };
      const [eta, ana, opt] = SYNC_SCHEMES.map((s) => solve(s, p));
      for (const a of [eta, ana, opt]) checkValid(p, a);
      expect(ana.feasible).toBe(opt.feasible);
      expect(tauOf(opt)).toBeGreaterThanOrEqual(tauOf(ana));
      expect(tauOf(opt)).toBeGreaterThanOrEqual(tauOf(eta));
      if (ana.tau_relaxed !== undefined && opt.feasible) expect(ana.tau_relaxed * TOL).toBeGreaterThanOrEqual(opt.tau);
    }
  });

  it('optimal τ is non-decreasing in T', () => {
    const rng = createRng(5);
    for (let i = 0; i < 60; i++) {
      const p = randomPaperProblem(rng);
      let prev = 0;
      for (let T_s = p.T_s / 4; T_s <= p.T_s * 4; T_s *= 1.3) {
        const q = { ...p, T_s };
        const opt = tauOf(solveOptimal(q));
        expect(opt).toBeGreaterThanOrEqual(prev);
        expect(tauOf(solveAnalytical(q))).toBe(opt);
        prev = opt;
      }
    }
  });

  it('optimal τ never drops when a learner joins the same fleet', () => {
    const rng = createRng(9);
    for (let i = 0; i < 60; i++) {
      const p = randomPaperProblem(rng);
      const extra = randomCoefficients(rng, 8, p.T_s);
      let prev = tauOf(solveOptimal(p));
      for (let j = 1; j <= extra.length; j++) {
        const q = { ...p, coeffs: [...p.coeffs, ...extra.slice(0, j)] };
        const opt = tauOf(solveOptimal(q));
        expect(opt).toBeGreaterThanOrEqual(prev);
        expect(tauOf(solveAnalytical(q))).toBe(opt);
        prev = opt;
      }
    }
  });

  it('is deterministic', () => {
    const p = randomPaperProblem(createRng(1));
    for (const s of SYNC_SCHEMES) expect(solve(s, p)).toEqual(solve(s, p));
  });

  it('ETA spreads d over all K learners, remainder to the first ones', () => {
    const coeffs = Array.from({ length: 4 }, () => ({
      c0_s: 0.1,
      c1_s_per_sample: 0.001,
      c2_s_per_sample_iter: 0.001,
    }));
    const a = solveEta({ coeffs, T_s: 10, d: 10 });
    expect(a.feasible && a.batch).toEqual([3, 3, 2, 2]);
    // K > d: the idle learners constrain nothing.
    const b = solveEta({ coeffs, T_s: 10, d: 2 });
    expect(b.feasible && b.batch).toEqual([1, 1, 0, 0]);
    // t = 0.001·τ·3 + 0.003 + 0.1 ≤ 10 ⇒ τ ≤ 3299
    expect(a.feasible && a.tau).toBe(3299);
  });

  it('optimal balances relative slack: batches proportional to capacity', () => {
    // Two learners, one twice as fast: capacities 2:1, so batches 2:1.
    const coeffs = [
      { c0_s: 0, c1_s_per_sample: 0, c2_s_per_sample_iter: 0.01 },
      { c0_s: 0, c1_s_per_sample: 0, c2_s_per_sample_iter: 0.02 },
    ];
    const a = solveOptimal({ coeffs, T_s: 10, d: 300 });
    // τ: cap = ⌊10/(0.01τ)⌋ + ⌊10/(0.02τ)⌋ ≥ 300 ⇒ τ = 5 (200 + 100); τ = 6 gives 166 + 83 = 249
    expect(a.feasible && a.tau).toBe(5);
    expect(a.feasible && a.batch).toEqual([200, 100]);
  });
});
