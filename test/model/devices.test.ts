import { describe, it, expect } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { assertUsableFleet, generateFleet, parseLearnersJson, profileFromSpec } from '../../src/model/devices.ts';
import { channelGain, shannonRateBps } from '../../src/model/channel.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';

describe('generateFleet', () => {
  it('is deterministic per seed and differs across seeds', () => {
    expect(generateFleet(20, 7, PAPER_PRESET)).toEqual(generateFleet(20, 7, PAPER_PRESET));
    expect(generateFleet(20, 7, PAPER_PRESET)).not.toEqual(generateFleet(20, 8, PAPER_PRESET));
  });

  it('gives the first half 2.4 GHz and the second half 700 MHz', () => {
    const fleet = generateFleet(20, 1, PAPER_PRESET);
    expect(fleet.slice(0, 10).every((l) => l.f_hz === 2.4e9)).toBe(true);
    expect(fleet.slice(10).every((l) => l.f_hz === 7e8)).toBe(true);
    expect(fleet.map((l) => l.id)).toEqual([...Array(20).keys()]);
    const odd = generateFleet(5, 1, PAPER_PRESET).map((l) => l.f_hz);
    expect(odd).toEqual([2.4e9, 2.4e9, 2.4e9, 7e8, 7e8]);
  });

  it('places learners area-uniformly in the disc and derives the rate from the distance', () => {
    const fleet = generateFleet(20000, 3, PAPER_PRESET);
    const distances = fleet.map((l) => l.distance_m!);
    expect(Math.min(...distances)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...distances)).toBeLessThanOrEqual(50);
    // Area-uniform: E[r] = 2R/3 = 33.33 m and P(r < R/2) = 1/4 (a radius-uniform draw gives 25 m and 1/2).
    const mean = fleet.reduce((s, l) => s + l.distance_m!, 0) / fleet.length;
    expect(mean).toBeGreaterThan(33.0);
    expect(mean).toBeLessThan(33.7);
    const inner = fleet.filter((l) => l.distance_m! < 25).length / fleet.length;
    expect(inner).toBeGreaterThan(0.235);
    expect(inner).toBeLessThan(0.265);
    const l = fleet[123];
    expect(l.rate_bps).toBe(shannonRateBps(channelGain(l.distance_m!, PAPER_PRESET), PAPER_PRESET));
  });

  it('keeps earlier learners in place when K grows', () => {
    const small = generateFleet(10, 5, PAPER_PRESET);
    const big = generateFleet(30, 5, PAPER_PRESET);
    expect(big.slice(0, 10).map((l) => l.distance_m)).toEqual(small.map((l) => l.distance_m));
  });
});

describe('learner specs', () => {
  it('takes a rate directly or derives it from the distance', () => {
    expect(profileFromSpec({ f_hz: 1e9, rate_bps: 5e7 }, 3, PAPER_PRESET)).toEqual({ id: 3, f_hz: 1e9, rate_bps: 5e7 });
    const p = profileFromSpec({ f_hz: 1e9, distance_m: 10 }, 0, PAPER_PRESET);
    expect(p.rate_bps).toBeCloseTo(200_827_661.19, 1);
  });

  it('parses a valid learners file', () => {
    const fleet = parseLearnersJson('[{"f_hz":2.4e9,"distance_m":10},{"f_hz":7e8,"rate_bps":1e8}]', PAPER_PRESET);
    expect(fleet).toHaveLength(2);
    expect(fleet[1]).toEqual({ id: 1, f_hz: 7e8, rate_bps: 1e8 });
  });

  const bad: [string, RegExp][] = [
    ['not json', /not valid JSON/],
    ['{}', /non-empty JSON array/],
    ['[]', /non-empty JSON array/],
    ['[{"f_hz":1e9,"distance_m":3}, 5]', /entry 1 must be an object/],
    ['[{"distance_m":3}]', /entry 0: missing f_hz/],
    ['[{"f_hz":-1,"distance_m":3}]', /entry 0: f_hz must be a finite number > 0/],
    ['[{"f_hz":"fast","distance_m":3}]', /entry 0: f_hz must be/],
    ['[{"f_hz":1e9}]', /entry 0: give distance_m .* or rate_bps/],
    ['[{"f_hz":1e9,"rate_bps":0}]', /entry 0: rate_bps must be a finite number > 0/],
    ['[{"f_hz":1e9,"distance_m":-2}]', /entry 0: distance_m must be a finite number >= 0/],
    ['[{"f_hz":1e9,"distance_m":2,"fhz":3}]', /entry 0: unknown field "fhz"/],
  ];
  it.each(bad)('rejects %s with an InputError naming the entry', (text, message) => {
    expect(() => parseLearnersJson(text, PAPER_PRESET)).toThrow(InputError);
    expect(() => parseLearnersJson(text, PAPER_PRESET)).toThrow(message);
  });
});

describe('assertUsableFleet', () => {
  it('accepts the paper fleet and rejects a zero rate or CPU speed', () => {
    expect(() => assertUsableFleet(generateFleet(10, 1, PAPER_PRESET))).not.toThrow();
    const dead = generateFleet(2, 1, { ...PAPER_PRESET, tx_power_dbm: -400 });
    expect(() => assertUsableFleet(dead)).toThrow(InputError);
    expect(() => assertUsableFleet(dead)).toThrow(/learner 0 has link rate 0 bit\/s/);
    expect(() => assertUsableFleet([{ id: 4, f_hz: 0, rate_bps: 1e6 }])).toThrow(/learner 4 has CPU speed 0 Hz/);
  });
});
