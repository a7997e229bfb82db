import { describe, it, expect } from 'vitest';
import { fedAvg, FedAvgAccumulator, initWeights } from '../../src/nn/mlp.ts';
import { createRng } from '../../src/util/rng.ts';

describe('fedAvg', () => {
  it('computes Σ n_k w_k / Σ n_k exactly on a known example', () => {
    const out = fedAvg([
      { weights: Float32Array.from([1, 2, 4, -8]), samples: 1 },
      { weights: Float32Array.from([3, 6, 0, 8]), samples: 3 },
    ]);
    // (1·1 + 3·3)/4 = 2.5, (2 + 18)/4 = 5, (4 + 0)/4 = 1, (−8 + 24)/4 = 4
    expect(Array.from(out)).toEqual([2.5, 5, 1, 4]);
  });

  it('accumulates in float64 (float32 accumulation would lose the small term)', () => {
    const big = 2 ** 24;
    const out = fedAvg([
      { weights: Float32Array.from([big]), samples: 1 },
      { weights: Float32Array.from([1]), samples: 1 },
      { weights: Float32Array.from([-big]), samples: 1 },
      { weights: Float32Array.from([2]), samples: 1 },
    ]);
    expect(out[0]).toBe(0.75); // (2^24 + 1 − 2^24 + 2) / 4; a float32 running sum gives 0.5
  });

  it('returns K identical copies unchanged, bit for bit, whatever the sample counts', () => {
    const w = initWeights(3);
    const counts = [1, 17, 2999, 60000, 5];
    const out = fedAvg(counts.map((samples) => ({ weights: w, samples })));
    expect(Buffer.from(out.buffer).equals(Buffer.from(w.buffer))).toBe(true);
  });

  it('ignores updates with zero samples and does not mutate inputs', () => {
    const a = Float32Array.from([1, 1]);
    const b = Float32Array.from([5, 7]);
    const out = fedAvg([
      { weights: a, samples: 2 },
      { weights: b, samples: 0 },
    ]);
    expect(Array.from(out)).toEqual([1, 1]);
    expect(Array.from(b)).toEqual([5, 7]);
    expect(out).not.toBe(a);
  });

  it('throws on empty input, zero total and length mismatch', () => {
    expect(() => fedAvg([])).toThrow(/no updates/);
    expect(() => fedAvg([{ weights: new Float32Array(2), samples: 0 }])).toThrow(/total sample count is 0/);
    expect(() =>
      fedAvg([
        { weights: new Float32Array(2), samples: 1 },
        { weights: new Float32Array(3), samples: 1 },
      ]),
    ).toThrow(/update 1 has 3 weights, update 0 has 2/);
    expect(() => fedAvg([{ weights: new Float32Array(2), samples: -1 }])).toThrow(/invalid sample count/);
  });

  it('folded one update at a time gives the bits of fedAvg over the same order (and may differ in order only in rounding)', () => {
    const rng = createRng(11);
    const updates = Array.from({ length: 9 }, (_, k) => ({
      weights: Float32Array.from({ length: 64 }, () => rng.normal() * 10 ** (k % 4)),
      samples: 1 + Math.floor(rng.next() * 500),
    }));
    const acc = new FedAvgAccumulator(64);
    for (const u of updates) acc.add(u);
    expect(acc.added).toBe(9);
    expect(Buffer.from(acc.average().buffer).equals(Buffer.from(fedAvg(updates).buffer))).toBe(true);
    const reversed = fedAvg([...updates].reverse());
    for (let i = 0; i < 64; i++) expect(reversed[i]).toBeCloseTo(acc.average()[i], 5);
    expect(() => new FedAvgAccumulator(3).average()).toThrow(/no updates/);
    expect(() => new FedAvgAccumulator(3).add({ weights: new Float32Array(2), samples: 1 })).toThrow(/has 2 weights/);
  });

  it('every length, the tail past a multiple of four included, gives the bits of the plain element-by-element sum (property, seeded)', () => {
    const rng = createRng(5);
    for (let length = 1; length <= 23; length++) {
      const updates = Array.from({ length: 4 }, () => ({
        weights: Float32Array.from({ length }, () => rng.normal() * 10 ** Math.floor(rng.next() * 6 - 3)),
        samples: 1 + rng.int(900),
      }));
      const acc = new FedAvgAccumulator(length);
      for (const u of updates) acc.add(u);
      const plain = new Float64Array(length);
      let total = 0;
      for (const u of updates) {
        total += u.samples;
        for (let i = 0; i < length; i++) plain[i] += u.samples * u.weights[i];
      }
      expect(Array.from(acc.average())).toEqual(Array.from(Float32Array.from(plain, (v) => v / total)));
    }
  });
});
