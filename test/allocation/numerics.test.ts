import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { addOneToLargest, distributeProportional, kthSmallest } from '../../src/allocation/distribute.ts';
import { capacity, fits, maxTau } from '../../src/allocation/feasibility.ts';
import { relaxedTau } from '../../src/allocation/relaxed.ts';
import { createRng } from '../../src/util/rng.ts';
import { logUniform, randomCoefficients, uniform } from './helpers.ts';

const FC = { seed: 4242, numRuns: 300 };

describe('capacity and the deadline test agree', () => {
  it('cap_k(τ) fits and cap_k(τ)+1 does not; maxTau likewise', () => {
    const rng = createRng(3);
    for (let i = 0; i < 3000; i++) {
      const T_s = logUniform(rng, 0.01, 1000);
      const [c] = randomCoefficients(rng, 1, T_s);
      const tau = 1 + rng.int(500);
      const cap = capacity(c, tau, T_s);
      expect(fits(c, tau, cap, T_s)).toBe(true);
      expect(fits(c, tau, cap + 1, T_s)).toBe(false);
      if (c.c0_s >= T_s) expect(cap).toBe(0);
      const d_k = 1 + rng.int(50);
      const t = maxTau(c, d_k, T_s);
      if (t >= 1) expect(fits(c, t, d_k, T_s)).toBe(true);
      if (t >= 0) expect(fits(c, t + 1, d_k, T_s)).toBe(false);
    }
  });
});

describe('relaxed root τ*', () => {
  it('solves Σ a_k/(τ+b_k) = d to near machine precision, K up to 100 000', () => {
    const rng = createRng(11);
    for (const K of [1, 2, 5, 50, 1000, 100_000]) {
      for (let rep = 0; rep < (K > 1000 ? 1 : 20); rep++) {
        const a = Float64Array.from({ length: K }, () => logUniform(rng, 1, 1e5));
        const b = Float64Array.from({ length: K }, () => (rng.next() < 0.2 ? 0 : logUniform(rng, 1e-3, 10)));
        const A = a.reduce((s, x) => s + x, 0);
        const d = Math.max(1, Math.round(A / uniform(rng, 0.5, 50)));
        const tau = relaxedTau(a, b, d);
        let g = 0;
        for (let k = 0; k < K; k++) g += a[k] / (tau + b[k]);
        expect(Math.abs(g - d) / d).toBeLessThan(1e-9);
      }
    }
  });

  it('is exact when all b_k are equal (e.g. federated with S_d = 0: b_k = 0 ⇒ τ* = Σa/d)', () => {
    expect(relaxedTau(Float64Array.of(10, 20, 30), Float64Array.of(0, 0, 0), 12)).toBe(5);
    expect(relaxedTau(Float64Array.of(10, 20, 30), Float64Array.of(1, 1, 1), 12)).toBe(4);
  });

  it('finds a negative root when even τ = 0 cannot hold d', () => {
    // 10/(τ+1) = 20 ⇒ τ = −0.5
    expect(relaxedTau(Float64Array.of(10), Float64Array.of(1), 20)).toBeCloseTo(-0.5, 12);
    // Two learners: 6/(τ+1) + 6/(τ+3) = 6 ⇒ τ² + 2τ − 1 = 0 ⇒ τ = √2 − 1
    expect(relaxedTau(Float64Array.of(6, 6), Float64Array.of(1, 3), 6)).toBeCloseTo(Math.SQRT2 - 1, 12);
  });
});

describe('apportionment', () => {
  it('distributeProportional: exact sum, within limits, within one sample of proportional', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (limits, frac) => {
          const room = limits.reduce((s, x) => s + x, 0);
          const total = Math.floor(room * frac);
          const x = distributeProportional(limits, total);
          expect(x.reduce((s, v) => s + v, 0)).toBe(total);
          const W = limits.reduce((s, l) => s + Math.min(l, total), 0);
          x.forEach((v, k) => {
            expect(Number.isInteger(v) && v >= 0 && v <= limits[k]).toBe(true);
            if (W > 0) expect(Math.abs(v - (Math.min(limits[k], total) * total) / W)).toBeLessThan(1);
          });
        },
      ),
      FC,
    );
  });

  it('distributeProportional: ties go to the lower index; too little room throws', () => {
    expect(distributeProportional([5, 5, 5], 4)).toEqual([2, 1, 1]);
    expect(distributeProportional([5, 5, 5], 15)).toEqual([5, 5, 5]);
    expect(() => distributeProportional([1, 2], 4)).toThrow(/cannot place/);
  });

  it('addOneToLargest picks the largest keys, skips −Infinity, ties by index', () => {
    const x = [0, 0, 0, 0, 0];
    expect(addOneToLargest(Float64Array.of(0.5, -Infinity, 0.9, 0.5, 0.1), x, 3)).toBe(3);
    expect(x).toEqual([1, 0, 1, 1, 0]);
    const y = [0, 0, 0];
    expect(addOneToLargest(Float64Array.of(0.2, 0.2, 0.2), y, 2)).toBe(2);
    expect(y).toEqual([1, 1, 0]);
    expect(addOneToLargest(Float64Array.of(-Infinity, 3), [0, 0], 2)).toBe(1);
  });

  it('kthSmallest agrees with sorting', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 200 }),
        fc.nat(),
        (values, pick) => {
          const k = pick % values.length;
          const sorted = [...values].sort((p, q) => p - q);
          expect(kthSmallest(Float64Array.from(values), k)).toBe(sorted[k]);
        },
      ),
      FC,
    );
  });
});
