import { describe, it, expect } from 'vitest';
import { solveAsync } from '../../src/allocation/async.ts';
import {
  energyCapacity,
  energyMaxTau,
  solveEnergy,
  withinBudget,
  type EnergyAllocationProblem,
} from '../../src/allocation/energy.ts';
import { solveOptimal } from '../../src/allocation/optimal.ts';
import type { PerLearnerResult } from '../../src/allocation/per-learner.ts';
import { coefficients, type Scenario } from '../../src/model/coefficients.ts';
import { generateFleet } from '../../src/model/devices.ts';
import {
  energyCoefficients,
  energyParamsFor,
  learnerEnergy,
  learnerEnergyJ,
  type EnergyCoefficients,
} from '../../src/model/energy.ts';
import { PAPER_PRESET, type SystemParams } from '../../src/model/params.ts';
import { createRng, type Rng } from '../../src/util/rng.ts';
import { logUniform, randomCoefficients, randomPaperParams, uniform } from './helpers.ts';
import { bruteForce, checkPerLearner, fillByScan, onTime } from './per-learner-helpers.ts';

const TOL = 1 + 1e-9;

/** Independent budget test (the project's tolerance, written out). */
function onBudget(e: EnergyCoefficients, tau: number, n: number, B: number): boolean {
  if (n === 0) return true;
  if (e.e0_j >= B) return false;
  return e.e2_j_per_sample_iter * tau * n + e.e1_j_per_sample * n + e.e0_j <= B * (1 + 1e-9);
}

/** checkPerLearner's time checks plus: every E_k ≤ B_k, energy_j right, each τ_k filled under both limits. */
function checkEnergy(
  p: EnergyAllocationProblem,
  a: PerLearnerResult,
  tauLimit = Infinity,
  maxStaleness = Infinity,
): void {
  checkPerLearner(p, a, 0, maxStaleness); // times, sums, integers (the fill is checked below against both limits)
  if (!a.feasible) return;
  expect(a.scheme).toBe('energy');
  a.batch.forEach((n, k) => {
    const tau = a.tau_per_learner[k];
    expect(a.energy_j![k]).toBe(learnerEnergyJ(p.energy[k], tau, n));
    if (n === 0) return;
    expect(a.energy_j![k]).toBeLessThanOrEqual(p.budget_j[k] * TOL);
    expect(onBudget(p.energy[k], tau, n, p.budget_j[k])).toBe(true);
    if (tau < tauLimit && tau < a.tau + maxStaleness)
      expect(onTime(p.coeffs[k], tau + 1, n, p.T_s) && onBudget(p.energy[k], tau + 1, n, p.budget_j[k])).toBe(false);
  });
}

/** A paper-like fleet with energy coefficients and budgets around what filling the cycle would cost. */
function randomEnergyProblem(rng: Rng): EnergyAllocationProblem & { params: SystemParams } {
  const params = randomPaperParams(rng);
  const scenario: Scenario = rng.next() < 0.5 ? 'parallel' : 'federated';
  const fleet = generateFleet(1 + rng.int(40), rng.int(1_000_000), params);
  const e = energyParamsFor(params, { rx_power_w: rng.next() < 0.5 ? 0 : uniform(rng, 0, 0.2) });
  const T_s = logUniform(rng, 0.05, 200);
  const energy = fleet.map((l) => energyCoefficients(l, params, scenario, e));
  // A core busy for the whole cycle spends κ·f³·T; budgets from 2 % to 2× that, some unlimited or zero.
  const budget_j = fleet.map((l, k) => {
    const u = rng.next();
    if (u < 0.1) return Infinity;
    if (u < 0.13) return 0;
    return energy[k].e0_j + e.kappa_j_per_cycle_hz2 * l.f_hz ** 3 * T_s * logUniform(rng, 0.02, 2);
  });
  return {
    coeffs: fleet.map((l) => coefficients(l, params, scenario)),
    T_s,
    d: 1 + rng.int(rng.next() < 0.5 ? 1000 : 60000),
    energy,
    budget_j,
    params,
  };
}

/** Arbitrary energy coefficients and budgets next to arbitrary time coefficients. */
function randomSmallEnergyProblem(rng: Rng, Kmax: number, dMax: number): EnergyAllocationProblem {
  const T_s = uniform(rng, 0.5, 10);
  const K = 1 + rng.int(Kmax);
  const energy = Array.from({ length: K }, () => ({
    e0_j: rng.next() < 0.3 ? 0 : uniform(rng, 0, 1),
    e1_j_per_sample: rng.next() < 0.5 ? 0 : logUniform(rng, 1e-3, 0.5),
    e2_j_per_sample_iter: logUniform(rng, 1e-3, 0.5),
  }));
  const budget_j = energy.map((e) =>
    rng.next() < 0.15 ? Infinity : e.e0_j * uniform(rng, 0.8, 1.2) + logUniform(rng, 0.01, 30),
  );
  return { coeffs: randomCoefficients(rng, K, T_s), T_s, d: 1 + rng.int(dMax), energy, budget_j };
}

const tauOf = (a: { feasible: boolean; tau?: number }) => (a.feasible ? a.tau! : 0);
const unlimited = (p: EnergyAllocationProblem) => ({ ...p, budget_j: p.budget_j.map(() => Infinity) });

describe('energy scheme equals brute force on small instances (K ≤ 4, d ≤ 20)', () => {
  it('max-min τ, then the most work, then the least spread under deadline and budgets, with and without maxStaleness', () => {
    const rng = createRng(2012);
    let feasible = 0;
    let budgetBinds = 0;
    let spread = 0;
    for (let i = 0; i < 300; i++) {
      const p = randomSmallEnergyProblem(rng, 4, 14);
      const allowed = (k: number, tau: number, n: number) =>
        onTime(p.coeffs[k], tau, n, p.T_s) && onBudget(p.energy[k], tau, n, p.budget_j[k]);
      for (const s of [Infinity, 0, 2]) {
        const want = bruteForce(p.coeffs.length, p.d, allowed, 1000, s);
        const a = solveEnergy(p, s === Infinity ? {} : { maxStaleness: s });
        checkEnergy(p, a, 1000, s);
        expect(a.feasible).toBe(want !== null);
        if (!a.feasible || want === null) continue;
        expect([a.tau, a.work, a.staleness]).toEqual([want.minTau, want.work, want.spread]);
        if (s !== Infinity) continue;
        feasible++;
        if (want.spread > 0) spread++;
        if (a.tau < tauOf(solveOptimal(p))) budgetBinds++;
      }
    }
    expect(feasible).toBeGreaterThan(100);
    expect(budgetBinds).toBeGreaterThan(30); // the budgets really cut τ
    expect(spread).toBeGreaterThan(30);
  });
});

describe('energy scheme by hand', () => {
  // A: C2 = 0.1 s, e2 = 1 J, budget 40 J; B: C2 = 0.3 s, e2 = 0.1 J, no budget; T = 10 s, d = 10.
  // cap_A(τ) = min(⌊100/τ⌋, ⌊40/τ⌋) = ⌊40/τ⌋, cap_B(τ) = ⌊33.3/τ⌋: τ = 6 gives 6 + 5 = 11 ≥ 10,
  // τ = 7 gives 5 + 4 = 9: τ* = 6 (12 without the budget). Relaxed: (40 + 33.3)/τ = 10 → τ_rel = 7.33.
  // One spare sample: (6, 4) gives τ = (⌊40/6⌋, ⌊33.3/4⌋) = (6, 8), work 36 + 32 = 68; (5, 5) gives
  // τ = (⌊40/5⌋, ⌊33.3/5⌋) = (8, 6), work 40 + 30 = 70: the most work.
  // E_A = 1·8·5 = 40 J ≤ 40 J, E_B = 0.1·6·5 = 3 J; t_A = 0.1·8·5 = 4 s (the budget, not T, stops A).
  const coeffs = [
    { c0_s: 0, c1_s_per_sample: 0, c2_s_per_sample_iter: 0.1 },
    { c0_s: 0, c1_s_per_sample: 0, c2_s_per_sample_iter: 0.3 },
  ];
  const energy = [
    { e0_j: 0, e1_j_per_sample: 0, e2_j_per_sample_iter: 1 },
    { e0_j: 0, e1_j_per_sample: 0, e2_j_per_sample_iter: 0.1 },
  ];
  const p: EnergyAllocationProblem = { coeffs, T_s: 10, d: 10, energy, budget_j: [40, Infinity] };

  it('the budget binds learner A', () => {
    const a = solveEnergy(p);
    checkEnergy(p, a);
    expect(a.feasible && [a.tau, a.batch, a.tau_per_learner, a.staleness, a.work]).toEqual([6, [5, 5], [8, 6], 2, 70]);
    expect(a.feasible && a.energy_j![0]).toBe(40);
    expect(a.feasible && a.energy_j![1]).toBeCloseTo(3, 12);
    expect(a.feasible && a.tau_relaxed).toBeCloseTo(22 / 3, 12);
  });

  it('too small a budget: typed infeasible result naming A', () => {
    // d = 100: τ = 1 allows 40 + 33 = 73 samples, the deadline alone 100 + 33 = 133.
    const a = solveEnergy({ ...p, d: 100 });
    checkEnergy({ ...p, d: 100 }, a);
    expect(a.feasible).toBe(false);
    if (a.feasible) return;
    expect(a.scheme).toBe('energy');
    expect(a.binding).toEqual([0]);
    expect(a.reason).toMatch(
      /Σcap=73 < d=100.*deadline alone allows 133.*learner 0 \(budget 40 J: 40 of 100 samples\)/,
    );
  });

  it('a budget below the model exchange sends the learner home; the deadline alone failing says so', () => {
    const q = { ...p, energy: [{ ...energy[0], e0_j: 5 }, energy[1]], budget_j: [4, Infinity] };
    const a = solveEnergy(q);
    checkEnergy(q, a);
    expect(a.feasible && a.batch).toEqual([0, 10]); // B alone: τ = ⌊33.3/10⌋ = 3
    expect(a.feasible && a.tau).toBe(3);
    const r = solveEnergy({ ...q, d: 40 });
    expect(!r.feasible && r.binding).toEqual([0]);
    expect(!r.feasible && r.reason).toMatch(/budget 4 J < model exchange 5 J/);
    const late = solveEnergy({ ...p, T_s: 1, d: 20 }); // 10 + 3 < 20 even without budgets
    expect(!late.feasible && late.reason).toMatch(/even τ=1 allows only Σcap=13 < d=20/);
  });

  it('budget helpers agree with each other at the boundary', () => {
    const e = { e0_j: 0.1, e1_j_per_sample: 0, e2_j_per_sample_iter: 0.1 };
    // 0.1·3·3 + 0.1 is 1 on paper and 1.0000000000000002 in doubles: the tolerance keeps it.
    expect(withinBudget(e, 3, 3, 1)).toBe(true);
    expect(energyCapacity(e, 3, 1)).toBe(3);
    expect(energyMaxTau(e, 3, 1)).toBe(3);
    expect(energyCapacity(e, 3, Infinity)).toBeGreaterThan(2 ** 26);
    expect(energyMaxTau(e, 3, Infinity)).toBe(Infinity);
    expect(energyCapacity(e, 3, 0.1)).toBe(0);
    expect(energyMaxTau(e, 3, 0.1)).toBe(-Infinity);
    expect(energyMaxTau({ ...e, e2_j_per_sample_iter: 0 }, 3, 1)).toBe(Infinity);
  });

  it('rejects malformed budgets', () => {
    expect(() => solveEnergy({ ...p, budget_j: [40] })).toThrow(RangeError);
    expect(() => solveEnergy({ ...p, budget_j: [NaN, 1] })).toThrow(RangeError);
    expect(() => solveEnergy({ ...p, budget_j: [-1, 1] })).toThrow(RangeError);
    expect(() => solveEnergy({ ...p, energy: [{ ...energy[0], e2_j_per_sample_iter: -1 }, energy[1]] })).toThrow(
      RangeError,
    );
  });
});

describe('energy scheme properties over random fleets', () => {
  it('paper-like fleets: valid, within every budget, min τ never above optimal, τ_rel above τ', () => {
    const rng = createRng(20201201);
    let feasible = 0;
    let infeasible = 0;
    let cut = 0;
    for (let i = 0; i < 250; i++) {
      const p = randomEnergyProblem(rng);
      const a = solveEnergy(p, { maxStaleness: 1 });
      checkEnergy(p, a, Infinity, 1);
      const opt = solveOptimal(p);
      expect(tauOf(a)).toBeLessThanOrEqual(tauOf(opt)); // budgets only take options away
      if (a.feasible) {
        feasible++;
        expect(a.tau_relaxed! * TOL).toBeGreaterThanOrEqual(a.tau);
        if (a.tau < tauOf(opt)) cut++;
      } else {
        infeasible++;
        if (opt.feasible) for (const k of a.binding) expect(p.budget_j[k]).toBeLessThan(Infinity);
      }
    }
    expect(feasible).toBeGreaterThan(60);
    expect(infeasible).toBeGreaterThan(20);
    expect(cut).toBeGreaterThan(20);
  });

  it('the energy numbers the scheme reports match the phase-time energy model', () => {
    const rng = createRng(7);
    for (let i = 0; i < 60; i++) {
      const params = { ...PAPER_PRESET, model_coeffs_per_sample: rng.int(3) };
      const scenario: Scenario = rng.next() < 0.5 ? 'parallel' : 'federated';
      const fleet = generateFleet(2 + rng.int(20), rng.int(1000), params);
      const e = energyParamsFor(params, { rx_power_w: 0.05 });
      const p = {
        coeffs: fleet.map((l) => coefficients(l, params, scenario)),
        T_s: logUniform(rng, 1, 100),
        d: 1 + rng.int(20000),
        energy: fleet.map((l) => energyCoefficients(l, params, scenario, e)),
        budget_j: fleet.map(() => logUniform(rng, 1, 200)),
      };
      const a = solveEnergy(p, { maxStaleness: 2 });
      if (!a.feasible) continue;
      a.batch.forEach((n, k) => {
        const want = learnerEnergy(fleet[k], params, scenario, a.tau_per_learner[k], n, e).total_j;
        if (n === 0) expect(a.energy_j![k]).toBe(0);
        else expect(Math.abs(a.energy_j![k] - want) / want).toBeLessThan(1e-12);
      });
    }
  });

  it('infinite budgets: exactly the async allocation', () => {
    const rng = createRng(11);
    for (let i = 0; i < 150; i++) {
      const p = i % 2 ? unlimited(randomEnergyProblem(rng)) : unlimited(randomSmallEnergyProblem(rng, 30, 3000));
      for (const options of [{ maxStaleness: 0 }, { maxStaleness: 2 }]) {
        const a = solveEnergy(p, options);
        const b = solveAsync(p, options);
        checkEnergy(p, a, Infinity, options.maxStaleness);
        expect(a.feasible).toBe(b.feasible);
        if (a.feasible && b.feasible) {
          expect([a.tau, a.batch, a.tau_per_learner, a.staleness, a.time_s, a.work]).toEqual([
            b.tau,
            b.batch,
            b.tau_per_learner,
            b.staleness,
            b.time_s,
            b.work,
          ]);
        } else if (!a.feasible && !b.feasible) {
          expect(a.binding).toEqual(b.binding);
          expect(a.reason).toBe(b.reason);
        }
      }
    }
  });

  it('min τ_k is non-decreasing in the energy budget and in T', () => {
    const rng = createRng(13);
    for (let i = 0; i < 50; i++) {
      const p = randomEnergyProblem(rng);
      let prev = 0;
      for (const f of [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100]) {
        const q = { ...p, budget_j: p.budget_j.map((b) => b * f) };
        const a = solveEnergy(q, { maxStaleness: 1 });
        checkEnergy(q, a, Infinity, 1);
        expect(tauOf(a)).toBeGreaterThanOrEqual(prev);
        prev = tauOf(a);
      }
      expect(prev).toBeLessThanOrEqual(tauOf(solveOptimal(p)));
      prev = 0;
      for (let T_s = p.T_s / 4; T_s <= p.T_s * 4; T_s *= 1.5) {
        const q = { ...p, T_s };
        const a = solveEnergy(q, { maxStaleness: 1 });
        checkEnergy(q, a, Infinity, 1);
        expect(tauOf(a)).toBeGreaterThanOrEqual(prev);
        prev = tauOf(a);
      }
    }
  });

  it('min τ_k is non-decreasing when a single learner’s budget grows', () => {
    const rng = createRng(17);
    for (let i = 0; i < 200; i++) {
      const p = randomSmallEnergyProblem(rng, 10, 400);
      const k = rng.int(p.coeffs.length);
      let prev = 0;
      for (const f of [0, 0.2, 0.5, 1, 2, 5, Infinity]) {
        const budget_j = [...p.budget_j];
        budget_j[k] = p.budget_j[k] * f;
        if (Number.isNaN(budget_j[k])) budget_j[k] = Infinity; // ∞ · 0
        const a = solveEnergy({ ...p, budget_j });
        expect(tauOf(a)).toBeGreaterThanOrEqual(prev);
        prev = tauOf(a);
      }
    }
  });

  it('every τ_k agrees with an independent linear scan under both limits (small fleets)', () => {
    const rng = createRng(5151);
    let checked = 0;
    for (let i = 0; i < 200; i++) {
      const p = randomSmallEnergyProblem(rng, 6, 200);
      const a = solveEnergy(p);
      if (!a.feasible) continue;
      a.batch.forEach((n, k) => {
        if (n === 0) return;
        const scan = fillByScan(
          (tau) => onTime(p.coeffs[k], tau, n, p.T_s) && onBudget(p.energy[k], tau, n, p.budget_j[k]),
          100_000,
        );
        expect(a.tau_per_learner[k]).toBe(scan);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('is deterministic', () => {
    const p = randomEnergyProblem(createRng(3));
    expect(solveEnergy(p, { maxStaleness: 1 })).toEqual(solveEnergy(p, { maxStaleness: 1 }));
  });
});
