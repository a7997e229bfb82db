/**
 * Integer search for the largest τ with S(τ) ≥ d, where S(τ) = Σ_k cap_k(τ) is non-increasing
 * in τ: exponential search up from a feasible τ, then bisection, O(log τ) evaluations of S.
 * Every evaluation may stop summing once it reaches d, so feasible probes are cheap; only
 * infeasible ones scan all K learners. Bisection, not interpolation: with integer per-learner
 * capacities S is a staircase, not a smooth 1/τ curve.
 */

/** S(τ), allowed to stop summing once the sum reaches `enough`. */
export type CapacitySum = (tau: number, enough?: number) => number;

/**
 * Largest τ ≥ lo with S(τ) ≥ d, given S(lo) ≥ d. If `limit` is given, S(limit) < d is known and
 * the answer is below it.
 */
export function largestFeasibleTau(S: CapacitySum, d: number, lo: number, limit = Infinity): number {
  const ok = (tau: number) => S(tau, d) >= d;
  let hi = Math.min(lo * 2, limit);
  while (hi < limit && ok(hi)) {
    lo = hi;
    hi = Math.min(hi * 2, limit);
    if (lo > Number.MAX_SAFE_INTEGER / 2) throw new RangeError('τ is unbounded (no learner ever runs out of time)');
  }
  // Bisection with ok(lo) true and ok(hi) false.
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
