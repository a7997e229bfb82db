/**
 * Scheme `energy`: asynchronous MEL under a deadline AND a per-learner energy budget, in the spirit
 * of Mohammad, Sorour & Hefeida (arXiv 2012.00143, no published code). For d_k > 0:
 *   t_k = C2_k·τ_k·d_k + C1_k·d_k + C0_k ≤ T   and   E_k = e2_k·τ_k·d_k + e1_k·d_k + e0_k ≤ B_k.
 * Both constraints have the same shape, so for a fixed τ learner k takes at most
 * cap_k(τ) = min(time cap, energy cap), still non-increasing in τ, and with d_k given it fills its
 * cycle with τ_k = min(time fill, energy fill). Steps, as in the paper's suggest-and-improve:
 *  1. suggest: the relaxed root τ_rel of Σ_k min(a_k/(τ + b_k), a'_k/(τ + b'_k)) = d (the relaxed
 *     synchronous solution with both caps), τ = ⌊τ_rel⌋;
 *  2. improve: move τ to the largest integer with Σ cap_k(τ) ≥ d (exact, as optimal.ts: the test is
 *     monotone, so searching from the suggestion only saves probes);
 *  3. fill every learner's cycle (τ_k = the most both limits allow, at most τ* + s) with the
 *     batches that maximise the work Σ τ_k·d_k (per-learner.ts; exact).
 * Like `async`, the result is exact for its lexicographic objective (max min τ_k, then most
 * work); with infinite budgets it is the `async` allocation. If even τ = 1 cannot place d samples,
 * a typed infeasible result names the learners whose budgets bind.
 */
import { capacity, maxTau, pack, REL_EPS, totalCapacity, validateProblem } from './feasibility.ts';
import { nameSome, noTauFeasible } from './infeasible.ts';
import {
  fillCycles,
  validateOptions,
  type LearnerLimits,
  type PerLearnerOptions,
  type PerLearnerResult,
} from './per-learner.ts';
import { relaxedTau } from './relaxed.ts';
import { largestFeasibleTau } from './search.ts';
import type { AllocationProblem, InfeasibleAllocation } from './types.ts';
import { learnerTime } from '../model/coefficients.ts';
import { learnerEnergyJ, type EnergyCoefficients } from '../model/energy.ts';

/** The energy scheme's problem: AllocationProblem with its energy fields present. */
export type EnergyAllocationProblem = AllocationProblem & Required<Pick<AllocationProblem, 'energy' | 'budget_j'>>;

/** The energy scheme's problem, or a RangeError when the energy model or the budgets are missing. */
export function energyProblem(p: AllocationProblem): EnergyAllocationProblem {
  if (!p.energy || !p.budget_j)
    throw new RangeError('the energy scheme needs energy coefficients and a budget per learner');
  return p as EnergyAllocationProblem;
}

/** Above any d (≤ 2^26): an energy cap this large means the budget never limits the batch. */
const UNLIMITED = 2 ** 40;

/**
 * The one budget test, shaped like the deadline test (same REL_EPS tolerance, same order of
 * operations as learnerEnergyJ). B ≤ e0: not even the model exchange is affordable.
 */
export function withinBudget(e: EnergyCoefficients, tau: number, d_k: number, budget_j: number): boolean {
  if (d_k === 0) return true;
  if (e.e0_j >= budget_j) return false;
  return e.e2_j_per_sample_iter * tau * d_k + e.e1_j_per_sample * d_k + e.e0_j <= budget_j * (1 + REL_EPS);
}

/** Most samples the budget allows at τ: ⌊(B − e0)/(τ·e2 + e1)⌋, nudged to agree with withinBudget. */
export function energyCapacity(e: EnergyCoefficients, tau: number, budget_j: number): number {
  if (e.e0_j >= budget_j) return 0;
  const exact = (budget_j * (1 + REL_EPS) - e.e0_j) / (tau * e.e2_j_per_sample_iter + e.e1_j_per_sample);
  if (!(exact < UNLIMITED)) return UNLIMITED; // B = ∞, free energy, or simply more than any d
  let cap = Math.max(0, Math.floor(exact));
  while (withinBudget(e, tau, cap + 1, budget_j)) cap++;
  while (cap > 0 && !withinBudget(e, tau, cap, budget_j)) cap--;
  return cap;
}

/** Most iterations the budget allows on d_k ≥ 1 samples (0: not one; −∞: B ≤ e0; ∞: never binds). */
export function energyMaxTau(e: EnergyCoefficients, d_k: number, budget_j: number): number {
  if (e.e0_j >= budget_j) return -Infinity;
  if (e.e2_j_per_sample_iter === 0) return withinBudget(e, 1, d_k, budget_j) ? Infinity : 0;
  const exact = (budget_j * (1 + REL_EPS) - e.e0_j - e.e1_j_per_sample * d_k) / (e.e2_j_per_sample_iter * d_k);
  if (!(exact < UNLIMITED)) return Infinity;
  let tau = Math.max(0, Math.floor(exact));
  while (withinBudget(e, tau + 1, d_k, budget_j)) tau++;
  while (tau > 0 && !withinBudget(e, tau, d_k, budget_j)) tau--;
  return tau;
}

function validateEnergy(p: EnergyAllocationProblem): void {
  const K = p.coeffs.length;
  if (p.energy.length !== K || p.budget_j.length !== K)
    throw new RangeError(
      `need one energy coefficient set and one budget per learner: K=${K}, got ${p.energy.length} and ${p.budget_j.length}`,
    );
  p.energy.forEach((e, k) => {
    const ok = [e.e0_j, e.e1_j_per_sample, e.e2_j_per_sample_iter].every((x) => Number.isFinite(x) && x >= 0);
    if (!ok)
      throw new RangeError(`learner ${k}: energy coefficients must be finite and >= 0, got ${JSON.stringify(e)}`);
  });
  p.budget_j.forEach((b, k) => {
    if (!(b >= 0)) throw new RangeError(`learner ${k}: energy budget must be >= 0 J (Infinity: none), got ${b}`);
  });
}

/**
 * Root of Σ_k min(time_k(τ), energy_k(τ)) = d over τ ≥ 1 with the continuous caps
 * time_k = (T − C0)/(τ·C2 + C1), energy_k = (B − e0)/(τ·e2 + e1). The sum is strictly decreasing,
 * and never above the deadline-only sum, whose root (relaxed.ts) brackets it from above.
 */
function relaxedTauWithBudgets(p: EnergyAllocationProblem): number {
  const { coeffs, T_s, d, energy, budget_j } = p;
  const active = coeffs.map((_, k) => k).filter((k) => coeffs[k].c0_s < T_s && energy[k].e0_j < budget_j[k]);
  if (active.length === 0) return 0;
  const g = (tau: number) => {
    let sum = 0;
    for (const k of active) {
      const c = coeffs[k];
      const e = energy[k];
      const t = (T_s - c.c0_s) / (tau * c.c2_s_per_sample_iter + c.c1_s_per_sample);
      const en = (budget_j[k] - e.e0_j) / (tau * e.e2_j_per_sample_iter + e.e1_j_per_sample); // ∞ if unbounded
      sum += Math.min(t, en);
    }
    return sum;
  };
  const a = Float64Array.from(active, (k) => (T_s - coeffs[k].c0_s) / coeffs[k].c2_s_per_sample_iter);
  const b = Float64Array.from(active, (k) => coeffs[k].c1_s_per_sample / coeffs[k].c2_s_per_sample_iter);
  let hi = relaxedTau(a, b, d);
  if (g(hi) >= d) return hi; // no budget binds at the deadline-only root
  let lo = 1;
  if (!(g(lo) >= d)) return lo; // only reachable through rounding: the integer check decides
  for (let iter = 0; iter < 200 && hi - lo > 4 * Number.EPSILON * hi; iter++) {
    const mid = (lo + hi) / 2;
    if (g(mid) >= d) lo = mid;
    else hi = mid;
  }
  return lo;
}

function fmtJoules(j: number): string {
  return `${Number(j.toPrecision(3))} J`;
}

/** Σ_k cap_k(1) < d. If the deadline alone allows d, the budgets bind: name the learners they cut most. */
function budgetsInfeasible(p: EnergyAllocationProblem, total: number): InfeasibleAllocation {
  const { coeffs, T_s, d, energy, budget_j } = p;
  const timeTotal = totalCapacity(pack(coeffs), 1, T_s);
  if (timeTotal < d) return { ...noTauFeasible(p, 'optimal'), scheme: 'energy' };
  const cut: { k: number; lost: number; text: string }[] = [];
  coeffs.forEach((c, k) => {
    const timeCap = capacity(c, 1, T_s);
    const energyCap = energyCapacity(energy[k], 1, budget_j[k]);
    if (energyCap >= timeCap) return;
    const text =
      energy[k].e0_j >= budget_j[k]
        ? `${k} (budget ${fmtJoules(budget_j[k])} < model exchange ${fmtJoules(energy[k].e0_j)})`
        : `${k} (budget ${fmtJoules(budget_j[k])}: ${energyCap} of ${timeCap} samples)`;
    cut.push({ k, lost: timeCap - energyCap, text });
  });
  cut.sort((x, y) => y.lost - x.lost || x.k - y.k);
  return {
    feasible: false,
    scheme: 'energy',
    reason:
      `even τ=1 allows only Σcap=${total} < d=${d} samples within T=${T_s} s and the energy budgets ` +
      `(the deadline alone allows ${timeTotal}); the budgets bind for learner${cut.length > 1 ? 's' : ''} ${nameSome(cut.map((x) => x.text))}`,
    binding: cut.map((x) => x.k),
  };
}

export function solveEnergy(problem: EnergyAllocationProblem, options: PerLearnerOptions = {}): PerLearnerResult {
  validateProblem(problem);
  validateEnergy(problem);
  const opts = {
    maxStaleness: options.maxStaleness ?? problem.max_staleness,
    tauMax: options.tauMax ?? problem.tau_max,
  };
  validateOptions(opts);
  const { coeffs, T_s, d, energy, budget_j } = problem;
  const K = coeffs.length;
  const cap = (k: number, tau: number) =>
    Math.min(capacity(coeffs[k], tau, T_s), energyCapacity(energy[k], tau, budget_j[k]));
  const S = (tau: number, enough = Infinity) => {
    let sum = 0;
    for (let k = 0; k < K && sum < enough; k++) sum += cap(k, tau);
    return sum;
  };
  const total1 = S(1);
  if (total1 < d) return budgetsInfeasible(problem, total1);

  const tau_relaxed = relaxedTauWithBudgets(problem);
  const tauStart = Math.max(1, Math.floor(tau_relaxed * (1 + REL_EPS)));
  let tauStar: number;
  if (S(tauStart, d) < d) tauStar = largestFeasibleTau(S, d, 1, tauStart);
  else tauStar = S(tauStart + 1, d) < d ? tauStart : largestFeasibleTau(S, d, tauStart + 1);
  tauStar = Math.min(tauStar, opts.tauMax ?? Infinity); // a lower minimum only frees time and energy

  const limits: LearnerLimits = {
    K,
    cap,
    fill: (k, n) => Math.min(maxTau(coeffs[k], n, T_s), energyMaxTau(energy[k], n, budget_j[k])),
  };
  const out = fillCycles(limits, d, tauStar, opts);
  const { batch, tau_per_learner } = out;
  return {
    feasible: true,
    scheme: 'energy',
    tau: out.tau,
    batch,
    time_s: batch.map((n, k) => learnerTime(coeffs[k], tau_per_learner[k], n)),
    tau_per_learner,
    staleness: out.staleness,
    energy_j: batch.map((n, k) => learnerEnergyJ(energy[k], tau_per_learner[k], n)),
    tau_relaxed,
    work: out.work,
    exact: out.exact,
  };
}
