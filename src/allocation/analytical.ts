/**
 * The paper's UB-Analytical scheme: the relaxed optimum (τ*, d_k*) from Theorem 1, then integer
 * rounding plus suggest-and-improve (SAI) steps until Σ d_k = d and every t_k ≤ T:
 *  1. τ = ⌊τ*⌋ (at least 1); if even the integer capacities at τ cannot hold d, lower τ to the
 *     largest τ < ⌊τ*⌋ at which they can — never below 1, and never giving up while some τ ≥ 1
 *     is feasible. That search runs upwards from 1 (see search.ts) because a capacity sum that
 *     reaches d stops early, while one that falls short has to scan all K learners;
 *  2. suggest d_k = ⌊d_k*⌋ clipped to cap_k(τ), hand the rounding remainder to the largest
 *     fractional parts;
 *  3. improve: samples still unplaced go to the learners with room, in proportion to their room.
 * With a cap (tau_max), τ = min(that τ, tau_max): the d_k* at τ* still guide step 2, and the
 * capacities at the lower τ only have more room.
 */
import { addOneToLargest, distributeProportional } from './distribute.ts';
import { capacities, pack, REL_EPS, syncTaus, times, totalCapacity, validateProblem } from './feasibility.ts';
import { noTauFeasible } from './infeasible.ts';
import { relaxedTau } from './relaxed.ts';
import { largestFeasibleTau } from './search.ts';
import type { Allocation, AllocationProblem } from './types.ts';

export function solveAnalytical(problem: AllocationProblem): Allocation {
  validateProblem(problem);
  const { coeffs, T_s, d } = problem;
  const K = coeffs.length;
  // Learners with T ≤ C0 cannot exchange the model: d_k* = 0 and they leave the sum.
  const active: number[] = [];
  for (let k = 0; k < K; k++) if (coeffs[k].c0_s < T_s) active.push(k);
  if (active.length === 0) return noTauFeasible(problem, 'analytical');
  const a = new Float64Array(active.length);
  const b = new Float64Array(active.length);
  active.forEach((k, i) => {
    const c = coeffs[k];
    a[i] = (T_s - c.c0_s) / c.c2_s_per_sample_iter;
    b[i] = c.c1_s_per_sample / c.c2_s_per_sample_iter;
  });
  const tau_relaxed = relaxedTau(a, b, d);

  const pk = pack(coeffs);
  const S = (tau: number, enough?: number) => totalCapacity(pk, tau, T_s, enough);
  if (S(1, d) < d) return { ...noTauFeasible(problem, 'analytical'), tau_relaxed };
  // A τ* a hair below an integer (rounding) must not lose that integer; the capacity check decides.
  const tauStart = Math.max(1, Math.floor(tau_relaxed * (1 + REL_EPS)));
  const tauRepaired = tauStart === 1 || S(tauStart, d) >= d ? tauStart : largestFeasibleTau(S, d, 1, tauStart);
  const tau = Math.min(tauRepaired, problem.tau_max ?? Infinity);
  const caps = capacities(pk, tau, T_s);

  // Suggest: the relaxed d_k* (at τ* ≥ 0; a negative τ* only arises in edge cases near infeasibility).
  const tauS = Math.max(tau_relaxed, 0);
  const suggested = new Float64Array(K);
  active.forEach((k, i) => (suggested[k] = a[i] / (tauS + b[i])));
  const batch = new Array<number>(K);
  let placed = 0;
  for (let k = 0; k < K; k++) {
    batch[k] = Math.min(Math.floor(suggested[k]), caps[k]);
    placed += batch[k];
  }
  // Floating point can make Σ⌊d_k*⌋ exceed d by a sample or two: take them back from the end.
  for (let k = K - 1; k >= 0 && placed > d; k--) {
    const take = Math.min(batch[k], placed - d);
    batch[k] -= take;
    placed -= take;
  }
  // Round: remainder samples to the largest fractional parts among learners that still have room.
  const frac = new Float64Array(K);
  for (let k = 0; k < K; k++)
    frac[k] = batch[k] < caps[k] && batch[k] === Math.floor(suggested[k]) ? suggested[k] - batch[k] : -Infinity;
  placed += addOneToLargest(frac, batch, d - placed);
  // Improve: what the clipped suggestion could not hold goes where there is room.
  const samples_moved = d - placed;
  if (samples_moved > 0) {
    const room = caps.map((cap, k) => cap - batch[k]);
    const extra = distributeProportional(room, samples_moved);
    for (let k = 0; k < K; k++) batch[k] += extra[k];
  }
  return {
    feasible: true,
    scheme: 'analytical',
    tau,
    batch,
    tau_per_learner: syncTaus(tau, batch),
    staleness: 0,
    time_s: times(coeffs, tau, batch),
    tau_relaxed,
    repair: { tau_lowered_by: tauStart - tauRepaired, samples_moved },
  };
}
