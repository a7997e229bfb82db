/**
 * Integer apportionment helpers (largest-remainder method). Deterministic: ties go to the lower
 * learner index. Expected O(K) (quickselect instead of a sort), so K = 100 000 stays cheap.
 */

/**
 * Add 1 to x[k] for the `count` indices with the largest key (ties: lower index first).
 * Keys of −Infinity mark ineligible entries. Returns how many were given (< count only if too few
 * entries are eligible).
 */
export function addOneToLargest(keys: Float64Array, x: number[], count: number): number {
  if (count <= 0) return 0;
  let eligible = 0;
  for (let k = 0; k < keys.length; k++) if (keys[k] !== -Infinity) eligible++;
  const n = Math.min(count, eligible);
  if (n === 0) return 0;
  const threshold = kthSmallest(Float64Array.from(keys), keys.length - n); // the n-th largest key
  let given = 0;
  for (let k = 0; k < keys.length; k++) if (keys[k] > threshold) x[k]++, given++;
  for (let k = 0; k < keys.length && given < n; k++) if (keys[k] === threshold) x[k]++, given++;
  return given;
}

/**
 * The k-th smallest value (0-based) of `a`, which is reordered. Quickselect with a median-of-three
 * pivot; falls back to a full sort if the partitions stop shrinking (adversarial input).
 */
export function kthSmallest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  for (let round = 0; lo < hi; round++) {
    if (round > 64) return a.subarray(lo, hi + 1).sort()[k - lo];
    const mid = (lo + hi) >>> 1;
    const x = a[lo],
      y = a[mid],
      z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    // Hoare-style partition into [lo, j] ≤ pivot ≤ [i, hi].
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Split `total` into integers x_k ≤ limit_k proportionally to limit_k (equal fraction of every
 * learner's room, i.e. balanced relative slack). Requires Σ limit_k ≥ total and integer inputs.
 * Limits are clipped to `total` first so that limit·total stays exact in a double.
 */
export function distributeProportional(limits: ArrayLike<number>, total: number): number[] {
  const K = limits.length;
  const w = new Array<number>(K);
  let W = 0;
  for (let k = 0; k < K; k++) {
    w[k] = Math.min(limits[k], total);
    W += w[k];
  }
  if (W < total) throw new RangeError(`cannot place ${total} samples in total room ${W}`);
  const x = new Array<number>(K);
  if (total === 0) return x.fill(0);
  const remainders = new Float64Array(K);
  let assigned = 0;
  for (let k = 0; k < K; k++) {
    const num = w[k] * total; // exact: both ≤ total ≤ 2^26
    let q = Math.floor(num / W);
    let rem = num - q * W;
    if (rem < 0) q--, (rem += W);
    else if (rem >= W) q++, (rem -= W);
    x[k] = q;
    assigned += q;
    // rem > 0 implies q < w_k, so only learners with room can receive a remainder sample.
    remainders[k] = rem > 0 ? rem : -Infinity;
  }
  const left = total - assigned;
  if (addOneToLargest(remainders, x, left) !== left) throw new Error('apportionment lost samples (bug)');
  return x;
}
