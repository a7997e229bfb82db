import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { dirichletShards, iidShards, permutation, randomPartition } from '../../src/data/partition.ts';

function union(shards: Uint32Array[]): number[] {
  return shards.flatMap((s) => Array.from(s));
}

function expectDisjointWithin(shards: Uint32Array[], n: number) {
  const all = union(shards);
  expect(new Set(all).size).toBe(all.length);
  for (const i of all) expect(i >= 0 && i < n).toBe(true);
}

describe('randomPartition', () => {
  it('gives disjoint subsets of the requested sizes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(40), { maxLength: 8 }), fc.nat(30), fc.integer(), (sizes, spare, seed) => {
        const n = sizes.reduce((a, b) => a + b, 0) + spare;
        const parts = randomPartition(n, sizes, seed);
        expect(parts.map((p) => p.length)).toEqual(sizes);
        expectDisjointWithin(parts, n);
      }),
    );
  });
  it('is seeded: same seed same result, other seed different', () => {
    const a = randomPartition(1000, [100, 200, 300], 7);
    const b = randomPartition(1000, [100, 200, 300], 7);
    const c = randomPartition(1000, [100, 200, 300], 8);
    expect(a.map((x) => Array.from(x))).toEqual(b.map((x) => Array.from(x)));
    expect(a.map((x) => Array.from(x))).not.toEqual(c.map((x) => Array.from(x)));
  });
  it('draws randomly rather than taking a prefix', () => {
    const [part] = randomPartition(10000, [1000], 3);
    expect(part[part.length - 1]).toBeGreaterThan(5000);
  });
  it('throws when the sizes exceed n or are not counts', () => {
    expect(() => randomPartition(10, [6, 5], 1)).toThrow(/sizes sum to 11, more than the 10 samples/);
    expect(() => randomPartition(10, [1.5], 1)).toThrow(RangeError);
    expect(() => randomPartition(10, [-1], 1)).toThrow(RangeError);
  });
});

describe('permutation', () => {
  it('is a permutation of 0..n-1', () => {
    const p = permutation(500, 42);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});

describe('iidShards', () => {
  it('covers all samples once with sizes differing by at most one (property)', () => {
    fc.assert(
      fc.property(fc.nat(300), fc.integer({ min: 1, max: 20 }), fc.integer(), (n, K, seed) => {
        const shards = iidShards(n, K, seed);
        expect(shards.length).toBe(K);
        expect(union(shards).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        const sizes = shards.map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('dirichletShards', () => {
  const labels = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 10);

  it('puts every sample in exactly one shard (property, including tiny alpha)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(1e-3, 0.05, 0.5, 1, 10, 1000),
        fc.integer(),
        fc.nat(400),
        (K, alpha, seed, n) => {
          const shards = dirichletShards(labels.subarray(0, n), K, alpha, seed);
          expect(shards.length).toBe(K);
          expect(union(shards).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is seeded and small alpha is more skewed than large alpha', () => {
    const a = dirichletShards(labels, 10, 0.1, 5);
    expect(a.map((x) => Array.from(x))).toEqual(dirichletShards(labels, 10, 0.1, 5).map((x) => Array.from(x)));
    // Skew: average fraction of a shard taken by its most common class.
    const dominance = (shards: Uint32Array[]) => {
      let sum = 0;
      let used = 0;
      for (const s of shards) {
        if (s.length === 0) continue;
        const counts = new Array(10).fill(0);
        for (const i of s) counts[labels[i]]++;
        sum += Math.max(...counts) / s.length;
        used++;
      }
      return sum / used;
    };
    expect(dominance(a)).toBeGreaterThan(0.5);
    expect(dominance(dirichletShards(labels, 10, 1000, 5))).toBeLessThan(0.2);
  });

  it('rejects bad K and alpha', () => {
    expect(() => dirichletShards(labels, 0, 1, 1)).toThrow(RangeError);
    expect(() => dirichletShards(labels, 3, 0, 1)).toThrow(/alpha must be a positive number/);
  });
});
