/**
 * Exact integer optimum of paper eq. (12). For a fixed τ learner k can take at most cap_k(τ)
 * samples, and cap_k is non-increasing in τ, so "Σ cap_k(τ) ≥ d" is monotone: the largest
 * feasible τ is found exactly by exponential search + bisection in O(K log τ). (The paper calls
 * the problem NP-hard; with this structure it is not.)
 */
import { distributeProportional } from './distribute.ts';
import { capacities, pack, syncTaus, times, totalCapacity, validateProblem } from './feasibility.ts';
import { noTauFeasible } from './infeasible.ts';
import { largestFeasibleTau } from './search.ts';
import type { Allocation, AllocationProblem } from './types.ts';

export function solveOptimal(problem: AllocationProblem): Allocation {
  validateProblem(problem);
  const { coeffs, T_s, d } = problem;
  const pk = pack(coeffs);
  const S = (tau: number, enough?: number) => totalCapacity(pk, tau, T_s, enough);
  if (S(1, d) < d) return noTauFeasible(problem, 'optimal');
  // With a cap that is itself feasible, the search stops there (and never meets an unbounded τ).
  const cap = problem.tau_max ?? Infinity;
  const tau = cap < Infinity && S(cap, d) >= d ? cap : largestFeasibleTau(S, d, 1, cap);
  // Every learner fills the same fraction d/Σcap of its capacity, so relative slack is balanced.
  const caps = capacities(pk, tau, T_s);
  const batch = distributeProportional(caps, d);
  return {
    feasible: true,
    scheme: 'optimal',
    tau,
    batch,
    tau_per_learner: syncTaus(tau, batch),
    staleness: 0,
    time_s: times(coeffs, tau, batch),
  };
}
