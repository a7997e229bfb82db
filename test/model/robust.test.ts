import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { InputError } from '../../src/errors.ts';
import { channelGain, shannonRateBps } from '../../src/model/channel.ts';
import type { LearnerProfile } from '../../src/model/devices.ts';
import { createDynamics, gainForRate, STATIC_WORLD, type DynamicsSpec } from '../../src/model/dynamics.ts';
import { PAPER_PRESET, type SystemParams } from '../../src/model/params.ts';
import {
  historyQuantile,
  independentEpsilon,
  normalCdf,
  normalQuantile,
  rateCdf,
  rateQuantileBps,
  speedQuantileHz,
} from '../../src/model/robust.ts';

const spec = (over: Partial<DynamicsSpec>): DynamicsSpec => ({ ...STATIC_WORLD, ...over });
// High SNR (Table I: ~40 bit/s/Hz, the rate barely feels the fading) and low SNR (P = −60 dBm:
// a few bit/s/Hz, the communication-heavy regime where it does).
const HIGH = PAPER_PRESET;
const LOW: SystemParams = { ...PAPER_PRESET, tx_power_dbm: -60 };
const rateAt = (d_m: number, p: SystemParams) => shannonRateBps(channelGain(d_m, p), p);

/** Marsaglia's (2004) Taylor series for Φ: slow but exact to rounding near the centre; the reference. */
function phiSeries(x: number): number {
  let s = x;
  let t = 0;
  let b = x;
  const q = x * x;
  for (let i = 1; s !== t; ) (t = s), (i += 2), (b *= q / i), (s = t + b);
  return 0.5 + s * Math.exp(-0.5 * q - 0.91893853320467274178);
}

describe('normal distribution helpers', () => {
  it('match known values and the series reference', () => {
    expect(normalQuantile(0.05)).toBeCloseTo(-1.6448536269514722, 13);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 15);
    expect(normalCdf(-8) / 6.220960574271784e-16).toBeCloseTo(1, 7);
    for (let x = -5; x <= 5; x += 0.25) expect(Math.abs(normalCdf(x) - phiSeries(x))).toBeLessThan(1e-14);
  });

  it('invert each other', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-12, max: 1 - 1e-12, noNaN: true }), (p) => {
        expect(Math.abs(normalCdf(normalQuantile(p)) - p)).toBeLessThanOrEqual(1e-13 + 1e-9 * p);
      }),
    );
    expect(() => normalQuantile(0)).toThrow(RangeError);
  });
});

describe('speedQuantileHz', () => {
  it('is f·exp(σ·z_ε) in closed form, f itself without jitter', () => {
    expect(speedQuantileHz(2.4e9, { speed_jitter: 0.2 }, 0.05)).toBeCloseTo(
      2.4e9 * Math.exp(0.2 * -1.6448536269514722),
      -1,
    );
    expect(speedQuantileHz(7e8, { speed_jitter: 0 }, 0.05)).toBe(7e8);
    expect(() => speedQuantileHz(7e8, { speed_jitter: 0.1 }, 1)).toThrow(InputError);
  });
});

describe('rateQuantileBps', () => {
  const r0 = rateAt(30, HIGH);
  const r0low = rateAt(30, LOW);

  it('uses the closed forms with one random factor', () => {
    const h = gainForRate(r0low, LOW);
    expect(rateQuantileBps(r0low, spec({ fading: 'rayleigh' }), LOW, 0.05)).toBeCloseTo(
      shannonRateBps(h * -Math.log(0.95), LOW),
      0,
    );
    expect(
      rateQuantileBps(r0low, spec({ shadowing_db: 6 }), LOW, 0.1) /
        shannonRateBps(h * 10 ** ((6 * -1.2815515655446004) / 10), LOW),
    ).toBeCloseTo(1, 12);
    expect(
      rateQuantileBps(r0, spec({ speed_jitter: 0.3 }), HIGH, 0.05) / (r0 * Math.exp(0.3 * -1.6448536269514722)),
    ).toBeCloseTo(1, 12);
    expect(rateQuantileBps(r0, STATIC_WORLD, HIGH, 0.05)).toBe(r0);
  });

  const mixes: [string, Partial<DynamicsSpec>][] = [
    ['fading + jitter', { fading: 'rayleigh', speed_jitter: 0.2 }],
    ['fading + shadowing', { fading: 'rayleigh', shadowing_db: 8 }],
    ['fading + shadowing + jitter', { fading: 'rayleigh', shadowing_db: 4, speed_jitter: 0.2 }],
    ['fading + shadowing + small jitter', { fading: 'rayleigh', shadowing_db: 6, speed_jitter: 0.01 }],
    ['shadowing + jitter', { shadowing_db: 8, speed_jitter: 0.3 }],
  ];

  it.each(mixes)('inverts the CDF numerically (%s), at high and low SNR', (_, over) => {
    for (const [r, p] of [
      [r0, HIGH],
      [r0low, LOW],
    ] as const)
      for (const eps of [0.01, 0.05, 0.2]) {
        const q = rateQuantileBps(r, spec(over), p, eps);
        expect(Math.abs(rateCdf(q, r, spec(over), p) - eps)).toBeLessThan(1e-9);
      }
  });

  it.each(mixes)('gets the same CDF from both quadratures (%s)', (_, over) => {
    // Forcing the channel quadrature with a tiny jitter at low SNR needs a 1e-3 grid (seconds); 'auto' never does that.
    const regimes =
      over.speed_jitter === 0.01
        ? ([[r0, HIGH]] as const)
        : ([
            [r0, HIGH],
            [r0low, LOW],
          ] as const);
    for (const [r, p] of regimes)
      for (const f of [0.3, 0.6, 0.9, 1.0]) {
        const a = rateCdf(f * r, r, spec(over), p, 'condition-on-jitter');
        const b = rateCdf(f * r, r, spec(over), p, 'condition-on-channel');
        // The worse-suited method is still within 1e-6; 'auto' picks the better one (1e-9, above).
        expect(Math.abs(a - b)).toBeLessThan(1e-6);
      }
  });

  it('grows with ε', () => {
    const s = spec({ fading: 'rayleigh', shadowing_db: 4, speed_jitter: 0.2 });
    const qs = [0.01, 0.05, 0.1, 0.3, 0.5].map((e) => rateQuantileBps(r0low, s, LOW, e));
    for (let i = 1; i < qs.length; i++) expect(qs[i]).toBeGreaterThan(qs[i - 1]);
  });

  // Simulation: 200 learners at the same 30 m × 100 cycles = 20 000 draws of the true rate from
  // dynamics.ts; P[R < q_ε] must be ε within 4 binomial SE (√(ε(1−ε)/n) = 0.0015 for ε = 0.05).
  const world = (s: DynamicsSpec, p: SystemParams) => {
    const fleet: LearnerProfile[] = Array.from({ length: 200 }, (_, id) => ({
      id,
      f_hz: 1e9,
      distance_m: 30,
      rate_bps: rateAt(30, p),
    }));
    const dyn = createDynamics(fleet, s, p, 21);
    return fleet.flatMap((_, k) => Array.from({ length: 100 }, (_, c) => dyn.state(k, c + 1)));
  };
  const full = spec({ fading: 'rayleigh', shadowing_db: 4, speed_jitter: 0.2 });

  it.each([
    ['high', HIGH],
    ['low', LOW],
  ] as const)('holds P[rate < q_ε] ≈ ε by simulation (%s SNR), and P[f < q_f] ≈ ε', (_, p) => {
    const draws = world(full, p);
    const n = draws.length;
    for (const eps of [0.05, 0.2]) {
      const tol = 4 * Math.sqrt((eps * (1 - eps)) / n);
      const q = rateQuantileBps(rateAt(30, p), full, p, eps);
      expect(Math.abs(draws.filter((s) => s.rate_bps < q).length / n - eps)).toBeLessThan(tol);
      const qf = speedQuantileHz(1e9, full, eps);
      expect(Math.abs(draws.filter((s) => s.f_hz < qf).length / n - eps)).toBeLessThan(tol);
    }
  });

  it('rejects a bad ε or rate', () => {
    expect(() => rateQuantileBps(r0, STATIC_WORLD, HIGH, 0)).toThrow(/epsilon must be in \(0, 1\)/);
    expect(() => rateQuantileBps(0, STATIC_WORLD, HIGH, 0.05)).toThrow(RangeError);
  });
});

describe('independentEpsilon', () => {
  it('splits ε over independent factors so that all hold with probability 1 − ε', () => {
    const e = independentEpsilon(0.05, 2);
    expect((1 - e) ** 2).toBeCloseTo(0.95, 14);
    expect(e).toBeGreaterThan(0.025); // a touch less conservative than the union bound ε/2
    expect(independentEpsilon(0.05, 1)).toBeCloseTo(0.05, 15);
  });
});

describe('historyQuantile', () => {
  it('is the ⌈ε·n⌉-th smallest measurement once there are ⌈1/ε⌉ of them', () => {
    const h = [...Array(100).keys()].map((i) => ((i * 37) % 100) + 1); // 1..100 shuffled
    expect(historyQuantile(h, 0.05, { window: 100 })).toBe(5);
    expect(historyQuantile(h.slice(0, 30), 0.1, { window: 30 })).toBe([...h.slice(0, 30)].sort((a, b) => a - b)[2]); // 0.1·30 is 3.0000000000000004 in floating point
    expect(historyQuantile(h.slice(0, 20), 0.05)).toBe(Math.min(...h.slice(0, 20)));
  });

  it('looks only at the most recent `window` values', () => {
    const old = Array(50).fill(1);
    const recent = Array.from({ length: 20 }, (_, i) => 100 + i);
    expect(historyQuantile([...old, ...recent], 0.05)).toBe(100);
  });

  it('falls back to a log-normal fit, capped at the minimum, on a short history', () => {
    const h = [100, 120, 80, 110];
    const logs = h.map(Math.log);
    const m = logs.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - m) ** 2, 0) / 3);
    expect(historyQuantile(h, 0.05)).toBeCloseTo(Math.exp(m + sd * -1.6448536269514722), 10);
    expect(historyQuantile([100, 100.1], 0.4)).toBe(100); // the fit would say 100.02: capped at the minimum
    expect(historyQuantile([100], 0.05)).toBeUndefined();
    expect(historyQuantile([], 0.05)).toBeUndefined();
  });

  it('stays within the measurements, grows with ε, and returns a measurement when it has enough', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 1e9, noNaN: true }), { minLength: 2, maxLength: 60 }),
        fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        (h, eps) => {
          const recent = h.slice(-20);
          const q = historyQuantile(h, eps)!;
          expect(q).toBeLessThanOrEqual(Math.max(...recent));
          if (recent.length >= Math.ceil(1 / eps - 1e-9)) expect(recent).toContain(q);
          else expect(q).toBeLessThanOrEqual(Math.min(...recent));
          expect(historyQuantile(h, Math.min(0.99, eps * 1.5))!).toBeGreaterThanOrEqual(q);
        },
      ),
    );
  });

  it('rejects bad input', () => {
    expect(() => historyQuantile([1, 2], 1.5)).toThrow(InputError);
    expect(() => historyQuantile([1, 0], 0.1)).toThrow(/finite and > 0/);
    expect(() => historyQuantile([1, 2], 0.1, { window: 0 })).toThrow(/window/);
    expect(() => historyQuantile([1, 2], 0.1, { min_samples: 1 })).toThrow(/min_samples/);
  });
});
