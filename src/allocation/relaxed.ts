/**
 * The relaxed upper bound τ* of the paper's Theorem 1: the real root of
 *   g(τ) = Σ_k a_k/(τ + b_k) = d,  a_k = (T − C0_k)/C2_k > 0,  b_k = C1_k/C2_k ≥ 0.
 * g is strictly decreasing and convex for τ > −min b_k, so the root is unique. We bracket it and
 * run Newton safeguarded by bisection — never expanding the degree-K polynomial of eq. (16),
 * whose coefficients are hopelessly ill-conditioned for large K.
 */

/** Σ a_k/(τ+b_k) − d and its derivative. */
function residual(a: Float64Array, b: Float64Array, d: number, tau: number): [number, number] {
  let g = 0;
  let dg = 0;
  for (let k = 0; k < a.length; k++) {
    const inv = 1 / (tau + b[k]);
    g += a[k] * inv;
    dg -= a[k] * inv * inv;
  }
  return [g - d, dg];
}

export function relaxedTau(a: Float64Array, b: Float64Array, d: number): number {
  if (a.length === 0) throw new RangeError('relaxedTau needs at least one learner with T > C0');
  let A = 0;
  let bMin = Infinity;
  let bMax = -Infinity;
  for (let k = 0; k < a.length; k++) {
    A += a[k];
    bMin = Math.min(bMin, b[k]);
    bMax = Math.max(bMax, b[k]);
  }
  // A/(τ+b_max) ≤ g(τ) ≤ A/(τ+b_min) puts the root in [A/d − b_max, A/d − b_min].
  let lo = Math.max(A / d - bMax, -bMin);
  let hi = A / d - bMin;
  if (hi <= lo) return hi; // all b_k equal: the bound is exact
  // At lo = −b_min, g is +∞: start inside instead; Newton from the left then climbs monotonically (g convex).
  let x = lo > -bMin ? lo : (lo + hi) / 2;
  for (let iter = 0; iter < 200; iter++) {
    const [h, dh] = residual(a, b, d, x);
    if (h === 0) return x;
    if (h > 0) lo = x;
    else hi = x;
    const newton = x - h / dh;
    const next = newton > lo && newton < hi ? newton : (lo + hi) / 2;
    if (
      Math.abs(next - x) <= 4 * Number.EPSILON * Math.max(1, Math.abs(x)) ||
      hi - lo <= 4 * Number.EPSILON * Math.max(1, Math.abs(x))
    )
      return next;
    x = next;
  }
  return x;
}
