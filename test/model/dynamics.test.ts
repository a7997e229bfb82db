import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { InputError } from '../../src/errors.ts';
import { channelGain, shannonRateBps } from '../../src/model/channel.ts';
import { generateFleet, type LearnerProfile } from '../../src/model/devices.ts';
import {
  createDynamics,
  gainForRate,
  meanOffCycles,
  STATIC_WORLD,
  validateDynamicsSpec,
  type DynamicsSpec,
} from '../../src/model/dynamics.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';
import { createRng, deriveSeed } from '../../src/util/rng.ts';

/*
 * Tolerances: every statistical check allows 4 standard errors of the estimate (SE from the known
 * distribution). Draws are seeded, so each check either always passes or always fails; 4 SE keeps a
 * correct implementation passing for essentially any seed (two-sided miss probability 6e-5) while a
 * wrong distribution (e.g. Exp(2), σ in nepers instead of dB) is off by tens of SE.
 */
const P = PAPER_PRESET;
const spec = (over: Partial<DynamicsSpec>): DynamicsSpec => ({ ...STATIC_WORLD, ...over });
const within = (value: number, expected: number, tol: number) =>
  expect(Math.abs(value - expected)).toBeLessThanOrEqual(tol);

/** Copy of today's actualProfile (src/orchestrator/cycle.ts), frozen here as the reference. */
function todaysActualProfile(profile: LearnerProfile, sigma: number, seed: number, cycle: number): LearnerProfile {
  if (sigma === 0) return profile;
  const rng = createRng(deriveSeed(seed, 'speed-jitter', cycle, profile.id));
  return {
    ...profile,
    f_hz: profile.f_hz * Math.exp(sigma * rng.normal()),
    rate_bps: profile.rate_bps * Math.exp(sigma * rng.normal()),
  };
}

/** gain / static gain for every (learner, cycle): the fading × shadowing factor alone. */
function channelFactors(s: DynamicsSpec, K: number, cycles: number, seed: number): number[] {
  const fleet = generateFleet(K, seed, P);
  const dyn = createDynamics(fleet, s, P, seed);
  const base = createDynamics(fleet, STATIC_WORLD, P, seed);
  const out: number[] = [];
  for (let k = 0; k < K; k++) for (let c = 1; c <= cycles; c++) out.push(dyn.state(k, c).gain / base.state(k, c).gain);
  return out;
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const sd = (a: number[]) => {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1));
};
const median = (a: number[]) => {
  const b = [...a].sort((x, y) => x - y);
  return (b[(b.length - 1) >> 1] + b[b.length >> 1]) / 2;
};

describe('static world', () => {
  it('returns the profile unchanged, always available', () => {
    const fleet = generateFleet(6, 3, P);
    const dyn = createDynamics(fleet, STATIC_WORLD, P, 3);
    for (let c = 1; c <= 4; c++)
      fleet.forEach((l, k) => {
        const s = dyn.state(k, c);
        expect(s).toMatchObject({ available: true, f_hz: l.f_hz, rate_bps: l.rate_bps, distance_m: l.distance_m });
        expect(s.gain / channelGain(l.distance_m!, P)).toBeCloseTo(1, 12);
      });
  });

  it('inverts the Shannon rate', () => {
    for (const d of [0, 1, 10, 50, 1000]) {
      const h = channelGain(d, P);
      expect(gainForRate(shannonRateBps(h, P), P) / h).toBeCloseTo(1, 11);
    }
  });

  it('keeps a learner without a distance at its explicit rate', () => {
    const fleet: LearnerProfile[] = [{ id: 0, f_hz: 1e9, rate_bps: 3e7 }];
    const s = createDynamics(fleet, spec({ speed_jitter: 0 }), P, 1).state(0, 2);
    expect(s.rate_bps).toBe(3e7);
    expect(s.distance_m).toBeUndefined();
    expect(() => createDynamics(fleet, spec({ speed_mps: 1, cycle_s: 12 }), P, 1)).toThrow(
      /learner 0 has no distance_m/,
    );
  });
});

describe('speed jitter', () => {
  it("equals today's actualProfile formula exactly, also with availability on", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        fc.boolean(),
        (seed, sigma, cycle, withAvailability) => {
          const fleet = generateFleet(5, seed, P);
          const dyn = createDynamics(
            fleet,
            spec({ speed_jitter: sigma, ...(withAvailability ? { availability: 0.5, mean_on_cycles: 3 } : {}) }),
            P,
            seed,
          );
          fleet.forEach((l, k) => {
            const today = todaysActualProfile(l, sigma, seed, cycle);
            const s = dyn.state(k, cycle);
            expect(s.f_hz).toBe(today.f_hz);
            expect(s.rate_bps).toBe(today.rate_bps);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Rayleigh fading', () => {
  const g = channelFactors(spec({ fading: 'rayleigh' }), 200, 100, 11); // 20 000 draws

  it('has power gain mean 1 (Exp(1); SE = 1/√n)', () => {
    within(mean(g), 1, 4 / Math.sqrt(g.length));
  });

  it('has median ln 2 (SE of the sample median = 1/(2·pdf(ln 2)·√n) = 1/√n)', () => {
    within(median(g), Math.LN2, 4 / Math.sqrt(g.length));
    // Same point seen as a probability: P(g ≤ ln 2) = 1/2, binomial SE 0.5/√n.
    within(g.filter((v) => v <= Math.LN2).length / g.length, 0.5, (4 * 0.5) / Math.sqrt(g.length));
  });

  it('maps to the rate through Shannon and is all positive', () => {
    const fleet = generateFleet(3, 2, P);
    const dyn = createDynamics(fleet, spec({ fading: 'rayleigh' }), P, 2);
    const s = dyn.state(1, 7);
    expect(s.rate_bps).toBe(shannonRateBps(s.gain, P));
    expect(g.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
  });
});

describe('log-normal shadowing', () => {
  const sigma = 6;
  const x = channelFactors(spec({ shadowing_db: sigma }), 200, 100, 12).map((v) => 10 * Math.log10(v));

  it('has dB mean 0 (SE σ/√n) and sd σ (SE ≈ σ/√(2n))', () => {
    within(mean(x), 0, (4 * sigma) / Math.sqrt(x.length));
    within(sd(x), sigma, (4 * sigma) / Math.sqrt(2 * x.length));
  });

  it('has its 90 % quantile at σ·1.2816 (binomial SE √(0.09/n))', () => {
    within(x.filter((v) => v <= sigma * 1.2815515655).length / x.length, 0.9, 4 * Math.sqrt(0.09 / x.length));
  });

  it('combines with fading multiplicatively (independent streams)', () => {
    const fleet = generateFleet(4, 5, P);
    const both = createDynamics(fleet, spec({ fading: 'rayleigh', shadowing_db: sigma }), P, 5);
    const fad = createDynamics(fleet, spec({ fading: 'rayleigh' }), P, 5);
    const sha = createDynamics(fleet, spec({ shadowing_db: sigma }), P, 5);
    const base = createDynamics(fleet, STATIC_WORLD, P, 5);
    for (let c = 1; c <= 20; c++) {
      const h = base.state(2, c).gain;
      expect(both.state(2, c).gain / h).toBeCloseTo(((fad.state(2, c).gain / h) * sha.state(2, c).gain) / h, 10);
    }
  });
});

describe('availability', () => {
  const p = 0.7;
  const meanOn = 5;
  const K = 30;
  const cycles = 1000;
  const fleet = generateFleet(K, 9, P);
  const dyn = createDynamics(fleet, spec({ availability: p, mean_on_cycles: meanOn }), P, 9);
  const series = fleet.map((_, k) => Array.from({ length: cycles }, (_, i) => dyn.state(k, i + 1).available));

  it('is on a long-run fraction p of the time', () => {
    const on = series.flat().filter(Boolean).length / (K * cycles);
    // Lag-1 correlation λ = 1 − P(on→off) − P(off→on) = 1/3 inflates the variance by (1+λ)/(1−λ) = 2.
    const lambda = 1 - 1 / meanOn - 1 / meanOffCycles({ availability: p, mean_on_cycles: meanOn });
    within(on, p, 4 * Math.sqrt(((p * (1 - p)) / (K * cycles)) * ((1 + lambda) / (1 - lambda))));
  });

  it('has on-runs of the configured mean and off-runs of mean on·(1−p)/p', () => {
    // Runs still going at the last cycle are censored and left out (biases the mean down by ~0.04).
    const runs = (want: boolean) =>
      series.flatMap((s) => {
        const out: number[] = [];
        let len = 0;
        for (const v of s) {
          if (v === want) len++;
          else if (len > 0) out.push(len), (len = 0);
        }
        return out;
      });
    const on = runs(true);
    const off = runs(false);
    const meanOff = meanOffCycles({ availability: p, mean_on_cycles: meanOn });
    // Geometric run lengths: sd = √(1 − q)/q with q the per-cycle leaving probability.
    const geoSd = (m: number) => Math.sqrt(1 - 1 / m) * m;
    within(mean(on), meanOn, (4 * geoSd(meanOn)) / Math.sqrt(on.length));
    within(mean(off), meanOff, (4 * geoSd(meanOff)) / Math.sqrt(off.length));
    expect(on.length).toBeGreaterThan(3000);
  });

  it('never switches anyone off when p = 1', () => {
    const d = createDynamics(fleet, spec({ availability: 1, mean_on_cycles: 2 }), P, 9);
    for (let c = 1; c <= 50; c++) expect(d.state(c % K, c).available).toBe(true);
  });
});

describe('mobility (random waypoint)', () => {
  it('stays in the disc, moves at most v·cycle_s per cycle and starts at the profile distance', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.double({ min: 0.1, max: 30, noNaN: true }), (seed, v) => {
        const fleet = generateFleet(4, seed, P);
        const s = spec({ speed_mps: v, cycle_s: 12 });
        const dyn = createDynamics(fleet, s, P, seed);
        fleet.forEach((l, k) => {
          let prev = dyn.state(k, 1).distance_m!;
          expect(prev).toBeCloseTo(l.distance_m!, 9);
          for (let c = 2; c <= 60; c++) {
            const d = dyn.state(k, c).distance_m!;
            expect(d).toBeLessThanOrEqual(P.radius_m * (1 + 1e-12));
            expect(Math.abs(d - prev)).toBeLessThanOrEqual(v * 12 * (1 + 1e-9));
            prev = d;
          }
        });
      }),
      { numRuns: 40 },
    );
  });

  it('updates the path gain with the distance', () => {
    const fleet = generateFleet(3, 4, P);
    const dyn = createDynamics(fleet, spec({ speed_mps: 1.5, cycle_s: 12 }), P, 4);
    const ds = new Set<number>();
    for (let c = 1; c <= 30; c++) {
      const s = dyn.state(0, c);
      ds.add(s.distance_m!);
      expect(s.gain / channelGain(s.distance_m!, P)).toBeCloseTo(1, 9);
      expect(s.rate_bps).toBe(shannonRateBps(s.gain, P));
    }
    expect(ds.size).toBeGreaterThan(20); // it really moves
  });
});

describe('determinism', () => {
  const full = spec({
    fading: 'rayleigh',
    shadowing_db: 4,
    speed_mps: 2,
    cycle_s: 12,
    speed_jitter: 0.2,
    availability: 0.8,
    mean_on_cycles: 6,
  });

  it('gives the same world for the same seed and a different one for another seed', () => {
    const fleet = generateFleet(5, 1, P);
    const a = createDynamics(fleet, full, P, 1);
    const b = createDynamics(fleet, full, P, 1);
    const c = createDynamics(fleet, full, P, 2);
    const grid = (d: typeof a) => fleet.flatMap((_, k) => [1, 2, 3, 10].map((cy) => d.state(k, cy)));
    expect(grid(a)).toEqual(grid(b));
    expect(grid(a)).not.toEqual(grid(c));
  });

  it('does not depend on the order learners and cycles are asked in (one instance per scheme)', () => {
    const fleet = generateFleet(6, 8, P);
    const pairs = fleet.flatMap((_, k) => Array.from({ length: 25 }, (_, c) => [k, c + 1] as const));
    const reference = createDynamics(fleet, full, P, 8);
    const expected = new Map(pairs.map(([k, c]) => [`${k}:${c}`, reference.state(k, c)]));
    fc.assert(
      fc.property(fc.shuffledSubarray(pairs, { minLength: 1 }), (order) => {
        // A fresh instance as another scheme would hold it, asked in a random order (often late cycles first).
        const other = createDynamics(fleet, full, P, 8);
        for (const [k, c] of order) expect(other.state(k, c)).toEqual(expected.get(`${k}:${c}`));
      }),
      { numRuns: 50 },
    );
  });

  it('keeps each effect on its own stream: switching fading on leaves speeds, availability and positions alone', () => {
    const fleet = generateFleet(4, 6, P);
    const noFade = createDynamics(fleet, { ...full, fading: 'none', shadowing_db: 0 }, P, 6);
    const fade = createDynamics(fleet, full, P, 6);
    for (let c = 1; c <= 30; c++) {
      const a = noFade.state(3, c);
      const b = fade.state(3, c);
      expect([b.f_hz, b.available, b.distance_m]).toEqual([a.f_hz, a.available, a.distance_m]);
    }
  });

  it('rejects bad learner and cycle indices', () => {
    const dyn = createDynamics(generateFleet(2, 1, P), full, P, 1);
    expect(() => dyn.state(2, 1)).toThrow(RangeError);
    expect(() => dyn.state(0, 0)).toThrow(/cycle must be an integer >= 1/);
    expect(() => dyn.state(0, 1.5)).toThrow(RangeError);
  });
});

describe('validateDynamicsSpec', () => {
  const bad: [Partial<DynamicsSpec>, RegExp][] = [
    [{ fading: 'rician' as never }, /fading must be none\|rayleigh/],
    [{ shadowing_db: -1 }, /shadowing_db must be a finite number >= 0/],
    [{ speed_mps: NaN }, /speed_mps/],
    [{ speed_jitter: Infinity }, /speed_jitter/],
    [{ speed_mps: 1 }, /cycle_s .* when speed_mps > 0/],
    [{ availability: 0 }, /availability must be in \(0, 1\]/],
    [{ availability: 1.2 }, /availability/],
    [{ availability: 0.5, mean_on_cycles: 0.5 }, /mean_on_cycles must be a finite number >= 1/],
    [{ availability: 0.9, mean_on_cycles: 5 }, /mean_on_cycles must be >= p\/\(1-p\) = 9 /],
  ];
  it.each(bad)('rejects %o', (over, msg) => {
    expect(() => validateDynamicsSpec(spec(over))).toThrow(InputError);
    expect(() => validateDynamicsSpec(spec(over))).toThrow(msg);
  });

  it("accepts the issue's setting (p = 0.9, mean on 10 cycles) and derives the off mean", () => {
    const s = spec({ availability: 0.9, mean_on_cycles: 10, fading: 'rayleigh', speed_jitter: 0.2 });
    expect(() => validateDynamicsSpec(s)).not.toThrow();
    expect(meanOffCycles(s)).toBeCloseTo(10 / 9, 12);
  });
});
