import { describe, it, expect } from 'vitest';
import { solveAnalytical, solveEta, solveOptimal, SYNC_SCHEMES, solve } from '../../src/allocation/index.ts';
import { coefficients } from '../../src/model/coefficients.ts';
import { generateFleet } from '../../src/model/devices.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';

const fleet = generateFleet(20, 1, PAPER_PRESET);
const coeffs = fleet.map((l) => coefficients(l, PAPER_PRESET, 'parallel'));
const shortestC0 = coeffs.reduce((best, c, k) => (c.c0_s < coeffs[best].c0_s ? k : best), 0);

describe('infeasible inputs name the binding learners', () => {
  it('T shorter than every model exchange', () => {
    const p = { coeffs, T_s: 0.05, d: 60000 };
    for (const a of [solveOptimal(p), solveAnalytical(p)]) {
      expect(a.feasible).toBe(false);
      if (a.feasible) continue;
      expect(a.reason).toMatch(/T=0.05 s is shorter than the model exchange time of every learner/);
      expect(a.reason).toContain(`learner ${shortestC0})`);
      expect(a.binding[0]).toBe(shortestC0);
      expect([...a.binding].sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
    }
    const eta = solveEta(p);
    expect(!eta.feasible && eta.reason).toMatch(/model exchange alone takes C0/);
  });

  it('d larger than any τ ≥ 1 allows', () => {
    const p = { coeffs, T_s: 1, d: 60000 };
    // cap_k(1) = ⌊(1 − C0)/(C2 + C1)⌋ ≈ 1.9k (fast) / 0.56k (slow): Σ ≈ 24.6k < 60k
    const opt = solveOptimal(p);
    expect(opt.feasible).toBe(false);
    if (opt.feasible) return;
    const total = Number(/Σcap=(\d+) < d=60000/.exec(opt.reason)![1]);
    expect(total).toBeGreaterThan(20000);
    expect(total).toBeLessThan(60000);
    // Most limited first: a 700 MHz learner (indices 10..19).
    expect(opt.binding[0]).toBeGreaterThanOrEqual(10);
    expect(opt.reason).toContain(`the most limited: ${opt.binding[0]} (cap `);
    const ana = solveAnalytical(p);
    expect(!ana.feasible && ana.reason).toBe(opt.reason);
    expect(!ana.feasible && ana.tau_relaxed).toBeLessThan(1);
  });

  it('ETA fails on the slow learners while the adaptive schemes cope', () => {
    // ETA's 3000 samples take 3000·1 123 736/7e8 = 4.82 s per iteration on a 700 MHz learner,
    // ≈ 5.0 s with the exchange: at T = 4.5 s not even one fits, but the optimum moves samples
    // to the fast learners.
    const p = { coeffs, T_s: 4.5, d: 60000 };
    const eta = solveEta(p);
    expect(eta.feasible).toBe(false);
    if (eta.feasible) return;
    expect([...eta.binding].sort((x, y) => x - y)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(eta.reason).toMatch(/not even τ=1 fits T=4.5 s for learners \d+ \(needs 5(\.0\d)? s\)/);
    expect(solveOptimal(p).feasible).toBe(true);
  });

  it('learners that cannot exchange the model sit out with d_k = 0 and time 0', () => {
    const mixed = [...coeffs.slice(0, 3), { c0_s: 20, c1_s_per_sample: 0, c2_s_per_sample_iter: 1e-4 }];
    for (const s of ['analytical', 'optimal'] as const) {
      const a = solve(s, { coeffs: mixed, T_s: 12, d: 6000 });
      expect(a.feasible).toBe(true);
      if (!a.feasible) continue;
      expect(a.batch[3]).toBe(0);
      expect(a.time_s[3]).toBe(0);
    }
    const eta = solveEta({ coeffs: mixed, T_s: 12, d: 6000 });
    expect(!eta.feasible && eta.binding).toEqual([3]);
  });

  it('rejects malformed problems loudly', () => {
    const ok = { coeffs, T_s: 12, d: 60000 };
    for (const s of SYNC_SCHEMES) {
      expect(() => solve(s, { ...ok, T_s: 0 })).toThrow(/T must be/);
      expect(() => solve(s, { ...ok, d: 0 })).toThrow(/d must be an integer/);
      expect(() => solve(s, { ...ok, d: 1.5 })).toThrow(/d must be an integer/);
      expect(() => solve(s, { ...ok, coeffs: [] })).toThrow(/empty/);
      expect(() => solve(s, { ...ok, coeffs: [{ c0_s: 1, c1_s_per_sample: 0, c2_s_per_sample_iter: 0 }] })).toThrow(
        /C2 > 0/,
      );
    }
    expect(() => solve('fastest' as never, ok)).toThrow(/unknown scheme/);
  });
});
