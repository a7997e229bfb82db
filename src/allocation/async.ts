/**
 * Scheme `async`: asynchronous MEL with one τ_k per learner (our formulation of the idea of
 * Mohammad & Sorour, arXiv 1905.01656, which publishes no code). Integer d_k ≥ 0 with Σ d_k = d,
 * t_k = C2_k·τ_k·d_k + C1_k·d_k + C0_k ≤ T. Lexicographic objective:
 *  1. maximise min τ_k. A minimum τ is reachable iff every participant can take its d_k at τ,
 *     i.e. iff Σ cap_k(τ) ≥ d — the synchronous problem — so the answer is optimal.ts's τ*, found
 *     the same way (exact, O(K log τ));
 *  2. with that minimum, every learner fills its cycle (τ_k = the most its d_k allows, at most
 *     τ* + s with --max-staleness s) and the batches maximise the work Σ τ_k·d_k: exact
 *     (per-learner.ts; brute-force tests enumerate every composition for K ≤ 4).
 */
import { capacity, maxTau, pack, totalCapacity, validateProblem } from './feasibility.ts';
import { noTauFeasible } from './infeasible.ts';
import {
  fillCycles,
  validateOptions,
  type LearnerLimits,
  type PerLearnerOptions,
  type PerLearnerResult,
} from './per-learner.ts';
import { largestFeasibleTau } from './search.ts';
import type { AllocationProblem } from './types.ts';
import { learnerTime } from '../model/coefficients.ts';

export function solveAsync(problem: AllocationProblem, options: PerLearnerOptions = {}): PerLearnerResult {
  validateProblem(problem);
  const opts = {
    maxStaleness: options.maxStaleness ?? problem.max_staleness,
    tauMax: options.tauMax ?? problem.tau_max,
  };
  validateOptions(opts);
  const { coeffs, T_s, d } = problem;
  const pk = pack(coeffs);
  const S = (tau: number, enough?: number) => totalCapacity(pk, tau, T_s, enough);
  if (S(1, d) < d) return { ...noTauFeasible(problem, 'optimal'), scheme: 'async' };
  const cap = opts.tauMax ?? Infinity;
  const tauStar = cap < Infinity && S(cap, d) >= d ? cap : largestFeasibleTau(S, d, 1, cap);
  const limits: LearnerLimits = {
    K: coeffs.length,
    cap: (k, tau) => capacity(coeffs[k], tau, T_s),
    fill: (k, n) => maxTau(coeffs[k], n, T_s),
  };
  const out = fillCycles(limits, d, tauStar, opts);
  const time_s = out.batch.map((n, k) => learnerTime(coeffs[k], out.tau_per_learner[k], n));
  return {
    feasible: true,
    scheme: 'async',
    tau: out.tau,
    batch: out.batch,
    tau_per_learner: out.tau_per_learner,
    staleness: out.staleness,
    time_s,
    work: out.work,
    exact: out.exact,
  };
}
