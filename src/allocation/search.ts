/**
 * Integer searches over τ for a monotone predicate (true up to some τ, false beyond), e.g.
 * "Σ_k cap_k(τ) ≥ d", in O(log τ) predicate calls.
 */

/**
 * Largest τ with pred(τ), given pred(lo) is true (and pred(limit) false, if a limit is given):
 * exponential search up, then bisection.
 */
export function gallopUp(pred: (tau: number) => boolean, lo: number, limit = Infinity): number {
  let hi = lo * 2;
  while (hi < limit && pred(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > Number.MAX_SAFE_INTEGER) throw new RangeError('τ is unbounded (no learner ever runs out of time)');
  }
  return bisect(pred, lo, Math.min(hi, limit));
}

/** pred(lo) true, pred(hi) false, lo < hi: largest true. */
function bisect(pred: (tau: number) => boolean, lo: number, hi: number): number {
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (pred(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
