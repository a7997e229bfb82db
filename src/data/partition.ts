/**
 * Seeded ways to split sample indices among learners. Each shard is a sorted Uint32Array of
 * row indices (sorted so copying rows walks memory forward; training shuffles anyway).
 */
import { createRng, deriveSeed } from '../util/rng.ts';

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
}

function sorted(a: Uint32Array): Uint32Array {
  return a.sort();
}

/** Random permutation of 0..n-1 from the seed. */
export function permutation(n: number, seed: number): Uint32Array {
  checkCount(n, 'n');
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  return createRng(deriveSeed(seed, 'permutation')).shuffle(perm);
}

/**
 * Disjoint random subsets of 0..n-1 with the given sizes (task-parallel: the orchestrator
 * hands learner k exactly sizes[k] samples). Σ sizes may be below n; above n throws.
 */
export function randomPartition(n: number, sizes: number[], seed: number): Uint32Array[] {
  checkCount(n, 'n');
  let total = 0;
  sizes.forEach((s, k) => {
    checkCount(s, `sizes[${k}]`);
    total += s;
  });
  if (total > n) throw new RangeError(`randomPartition: sizes sum to ${total}, more than the ${n} samples available`);
  const perm = permutation(n, deriveSeed(seed, 'randomPartition'));
  const out: Uint32Array[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(sorted(perm.slice(start, start + s)));
    start += s;
  }
  return out;
}

/** K IID shards covering all n samples; sizes differ by at most one (remainder to the first shards). */
export function iidShards(n: number, K: number, seed: number): Uint32Array[] {
  checkCount(n, 'n');
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`K must be a positive integer, got ${K}`);
  const base = Math.floor(n / K);
  const sizes = Array.from({ length: K }, (_, k) => base + (k < n % K ? 1 : 0));
  return randomPartition(n, sizes, deriveSeed(seed, 'iidShards'));
}

/**
 * Non-IID shards: for each class c, shard proportions p ~ Dirichlet(α·1_K) split that class's
 * samples (small α → each shard dominated by few classes; large α → close to IID). Every
 * sample lands in exactly one shard; shards may be empty for small α.
 */
export function dirichletShards(labels: Uint8Array, K: number, alpha: number, seed: number): Uint32Array[] {
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`K must be a positive integer, got ${K}`);
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new RangeError(`alpha must be a positive number, got ${alpha}`);
  const rng = createRng(deriveSeed(seed, 'dirichletShards'));
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]);
    if (list) list.push(i);
    else byClass.set(labels[i], [i]);
  }
  const shards: number[][] = Array.from({ length: K }, () => []);
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle(byClass.get(cls)!);
    const g = Array.from({ length: K }, () => rng.gamma(alpha));
    let sum = g.reduce((a, b) => a + b, 0);
    if (!(sum > 0 && Number.isFinite(sum))) {
      // Tiny α can underflow every draw to 0: the limit of Dirichlet(α→0) is one random winner.
      g.fill(0);
      g[rng.int(K)] = 1;
      sum = 1;
    }
    // Cut points from cumulative proportions; the last cut is exactly members.length.
    let acc = 0;
    let start = 0;
    for (let k = 0; k < K; k++) {
      acc += g[k];
      const end = k === K - 1 ? members.length : Math.round((acc / sum) * members.length);
      for (let j = start; j < end; j++) shards[k].push(members[j]);
      start = end;
    }
  }
  return shards.map((s) => sorted(Uint32Array.from(s)));
}
