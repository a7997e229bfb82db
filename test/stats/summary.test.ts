import { describe, it, expect } from 'vitest';
import { ci, describe as describeValues } from '../../src/stats/index.ts';

describe('describe()', () => {
  it('known data: [2, 4, 4, 4, 5, 5, 7, 9]', () => {
    // mean 40/8 = 5; Σ(x − 5)² = 9+1+1+1+0+0+4+16 = 32; sd = √(32/7); se = √(32/7/8) = √(4/7);
    // t_{0.975,7} = 2.364624251592784 → CI 5 ∓ 2.3646…·0.7559… = [3.212512081763790, 6.787487918236210]
    const s = describeValues([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.n).toBe(8);
    expect(s.mean).toBe(5);
    expect(s.sd).toBeCloseTo(Math.sqrt(32 / 7), 14);
    expect(s.se).toBeCloseTo(Math.sqrt(4 / 7), 14);
    expect(s.ci95_low).toBeCloseTo(3.21251208176379, 12);
    expect(s.ci95_high).toBeCloseTo(6.78748791823621, 12);
  });

  it('n = 2 uses t_{0.975,1} = 12.706', () => {
    const s = describeValues([4, 6]); // mean 5, sd √2, se 1
    expect(s.se).toBeCloseTo(1, 14);
    expect(s.ci95_high! - 5).toBeCloseTo(12.7062047, 6);
  });

  it('n = 1: mean only, no spread (null, not NaN)', () => {
    expect(describeValues([7.5])).toEqual({ n: 1, mean: 7.5, sd: null, se: null, ci95_low: null, ci95_high: null });
  });

  it('n = 0: everything null', () => {
    expect(describeValues([])).toEqual({ n: 0, mean: null, sd: null, se: null, ci95_low: null, ci95_high: null });
  });

  it('identical values: exact mean, sd 0, zero-width CI', () => {
    expect(describeValues([0.1, 0.1, 0.1])).toEqual({ n: 3, mean: 0.1, sd: 0, se: 0, ci95_low: 0.1, ci95_high: 0.1 });
  });

  it('two-pass variance survives a large common offset', () => {
    const s = describeValues([1e9 + 1, 1e9 + 2, 1e9 + 3]);
    expect(s.sd).toBeCloseTo(1, 9);
  });

  it('is JSON-safe (no NaN or Infinity turning into null silently)', () => {
    for (const v of [[], [1], [1, 2], [3, 3, 3]]) {
      const s = describeValues(v);
      expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    }
  });

  it('rejects non-finite values', () => {
    expect(() => describeValues([1, NaN])).toThrow(RangeError);
    expect(() => describeValues([1, Infinity])).toThrow(RangeError);
  });
});

describe('ci()', () => {
  const data = [12, 15, 11, 14, 13, 17, 10];

  it('defaults to 95 % and agrees with describe()', () => {
    const s = describeValues(data);
    const c = ci(data);
    expect(c.level).toBe(0.95);
    expect(c.low).toBeCloseTo(s.ci95_low!, 14);
    expect(c.high).toBeCloseTo(s.ci95_high!, 14);
  });

  it('is symmetric about the mean and widens with the level', () => {
    const mean = describeValues(data).mean!;
    let width = 0;
    for (const level of [0.5, 0.8, 0.9, 0.95, 0.99, 0.999]) {
      const c = ci(data, level);
      expect(c.low! + c.high!).toBeCloseTo(2 * mean, 12);
      expect(c.high! - c.low!).toBeGreaterThan(width);
      width = c.high! - c.low!;
    }
  });

  it('known 99 % interval: [4, 6] has mean 5, se 1, df 1 → 5 ∓ t_{0.995,1} = 5 ∓ 63.656741', () => {
    const c = ci([4, 6], 0.99);
    expect(c.high! - 5).toBeCloseTo(63.6567411629, 8);
  });

  it('fewer than two values: nulls; bad level throws', () => {
    expect(ci([3], 0.9)).toEqual({ level: 0.9, low: null, high: null });
    expect(ci([], 0.9)).toEqual({ level: 0.9, low: null, high: null });
    expect(() => ci(data, 1)).toThrow(RangeError);
    expect(() => ci(data, 0)).toThrow(RangeError);
    expect(() => ci(data, 95)).toThrow(RangeError);
  });
});
