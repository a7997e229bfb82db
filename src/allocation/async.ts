/**
 * Scheme `async`: asynchronous MEL with one τ_k per learner (our formulation of the idea of
 * Mohammad & Sorour, arXiv 1905.01656, which publishes no code). Integer d_k ≥ 0 with Σ d_k = d;
 * each learner with d_k > 0 fills its cycle, τ_k = ⌊(T − C0_k − C1_k·d_k)/(C2_k·d_k)⌋ ≥ 1, so
 * t_k ≤ T. Lexicographic objective:
 *  1. maximise min τ_k. A minimum τ is reachable iff every participant can take its d_k at τ,
 *     i.e. iff Σ cap_k(τ) ≥ d — the synchronous problem — so the answer is optimal.ts's τ*, found
 *     the same way (exact, O(K log τ));
 *  2. with that minimum fixed and every learner that can take a sample at τ* taking at least one,
 *     minimise the spread max τ_k − min τ_k: exact by binary search on max τ_k (per-learner.ts
 *     explains why the window test is exact and monotone).
 * Both steps are exact; the brute-force tests enumerate every composition for K ≤ 4.
 * With `maxStaleness` s the minimum is lowered below τ* only as far as needed for spread ≤ s
 * (exact scan, see fillCycles); if no minimum ≥ 1 allows it, a typed infeasible result.
 */
import { capacity, maxTau, pack, totalCapacity, validateProblem } from './feasibility.ts';
import { noTauFeasible } from './infeasible.ts';
import { fillCycles, validateOptions, type LearnerLimits, type PerLearnerOptions, type PerLearnerResult } from './per-learner.ts';
import { largestFeasibleTau } from './search.ts';
import type { AllocationProblem } from './types.ts';
import { learnerTime } from '../model/coefficients.ts';

export function solveAsync(problem: AllocationProblem, options: PerLearnerOptions = {}): PerLearnerResult {
  validateProblem(problem);
  const s = validateOptions(options);
  const { coeffs, T_s, d } = problem;
  const pk = pack(coeffs);
  const S = (tau: number, enough?: number) => totalCapacity(pk, tau, T_s, enough);
  if (S(1, d) < d) return { ...noTauFeasible(problem, 'optimal'), scheme: 'async' };
  const tauStar = largestFeasibleTau(S, d, 1);
  const limits: LearnerLimits = {
    K: coeffs.length,
    cap: (k, tau) => capacity(coeffs[k], tau, T_s),
    fill: (k, n) => maxTau(coeffs[k], n, T_s),
  };
  const out = fillCycles(limits, d, tauStar, s);
  if ('blocked' in out) return { feasible: false, scheme: 'async', reason: out.reason, binding: out.binding };
  const time_s = out.batch.map((n, k) => learnerTime(coeffs[k], out.tau_per_learner[k], n));
  return { feasible: true, scheme: 'async', tau: out.tau, batch: out.batch, time_s, tau_per_learner: out.tau_per_learner, staleness: out.staleness };
}
