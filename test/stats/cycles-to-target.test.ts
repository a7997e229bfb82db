import { describe, it, expect } from 'vitest';
import {
  cyclesToTarget,
  cyclesToTargetOverSeeds,
  summarizeCyclesToTarget,
  type AccuracyPoint,
} from '../../src/stats/index.ts';

const series = (accs: number[], first = 1): AccuracyPoint[] =>
  accs.map((accuracy, i) => ({ cycle: first + i, accuracy }));

describe('cyclesToTarget', () => {
  it('first cycle with accuracy ≥ target', () => {
    const s = series([0.9258, 0.95, 0.9612, 0.9667, 0.9679, 0.96, 0.9752]);
    expect(cyclesToTarget(s, 0.9667)).toBe(4); // equality counts (9667/10000 correct)
    expect(cyclesToTarget(s, 0.97)).toBe(7);
    expect(cyclesToTarget(s, 0.5)).toBe(1);
  });

  it('a later dip does not matter; never reached → null; empty → null', () => {
    expect(cyclesToTarget(series([0.96, 0.98, 0.95]), 0.97)).toBe(2);
    expect(cyclesToTarget(series([0.9, 0.95, 0.9637]), 0.9667)).toBeNull();
    expect(cyclesToTarget([], 0.9667)).toBeNull();
  });

  it('uses cycle numbers, not array order (resumed runs, shuffled rows)', () => {
    const s: AccuracyPoint[] = [
      { cycle: 9, accuracy: 0.99 },
      { cycle: 3, accuracy: 0.97 },
      { cycle: 1, accuracy: 0.9 },
      { cycle: 5, accuracy: 0.98 },
    ];
    expect(cyclesToTarget(s, 0.97)).toBe(3);
    expect(cyclesToTarget(series([0.5, 0.99], 11), 0.97)).toBe(12);
  });

  it('rejects a percentage or non-fraction target', () => {
    expect(() => cyclesToTarget(series([0.9]), 96.67)).toThrow(RangeError);
    expect(() => cyclesToTarget(series([0.9]), 0)).toThrow(RangeError);
    expect(() => cyclesToTarget(series([0.9]), NaN)).toThrow(RangeError);
  });
});

describe('summarizeCyclesToTarget', () => {
  it('never-reached seeds are counted, not imputed', () => {
    const s = summarizeCyclesToTarget([5, null, 6, 7, null]);
    expect(s).toMatchObject({ seeds: 5, reached: 3, never: 2 });
    expect(s.mean).toBe(6); // over {5, 6, 7} only
    expect(s.sd).toBeCloseTo(1, 14);
    expect(s.ci95_low).toBeCloseTo(6 - 4.30265273 / Math.sqrt(3), 7);
    expect(s.ci95_high).toBeCloseTo(6 + 4.30265273 / Math.sqrt(3), 7);
  });

  it('no seed reached: mean null, never = seeds', () => {
    expect(summarizeCyclesToTarget([null, null])).toEqual({
      seeds: 2,
      reached: 0,
      never: 2,
      mean: null,
      sd: null,
      se: null,
      ci95_low: null,
      ci95_high: null,
    });
  });

  it('one seed reached: mean, no CI', () => {
    expect(summarizeCyclesToTarget([null, 8, null])).toMatchObject({
      reached: 1,
      never: 2,
      mean: 8,
      sd: null,
      ci95_low: null,
    });
  });
});

describe('cyclesToTargetOverSeeds', () => {
  it('per-seed cycles in input order plus the summary, JSON-safe', () => {
    const r = cyclesToTargetOverSeeds(
      [series([0.95, 0.967, 0.97]), series([0.9, 0.93, 0.96]), series([0.97, 0.98, 0.99])],
      0.9667,
    );
    expect(r.target).toBe(0.9667);
    expect(r.per_seed).toEqual([2, null, 1]);
    expect(r).toMatchObject({ seeds: 3, reached: 2, never: 1, mean: 1.5 });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('no seeds at all', () => {
    expect(cyclesToTargetOverSeeds([], 0.97)).toMatchObject({
      seeds: 0,
      reached: 0,
      never: 0,
      mean: null,
      per_seed: [],
    });
  });
});
