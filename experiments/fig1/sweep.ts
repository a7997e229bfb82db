/**
 * The paper's Fig. 1 as data: τ of every scheme versus K (for a few T) and versus T (for a few K),
 * over many seeded fleets. Pure: no files, no printing.
 */
import { solve } from '../../src/allocation/index.ts';
import { SYNC_SCHEMES, type BuiltinSchemeName } from '../../src/allocation/types.ts';
import { coefficients, type Scenario } from '../../src/model/coefficients.ts';
import { generateFleet } from '../../src/model/devices.ts';
import { PAPER_PRESET, type SystemParams } from '../../src/model/params.ts';

export interface Row {
  scheme: BuiltinSchemeName;
  K: number;
  T: number; // s
  tau_mean: number; // an infeasible instance counts as τ = 0
  tau_min: number;
  tau_max: number;
  feasible_fraction: number;
  seeds: number;
}

export interface Fig1Options {
  seeds: number; // fleets per point
  seedBase: number; // fleet i uses seed seedBase + i
  d: number; // samples
  scenario: Scenario;
  params: SystemParams;
  ks: number[]; // x axis of τ-vs-K
  tForK: number[]; // s, one curve per value
  ts: number[]; // s, x axis of τ-vs-T
  kForT: number[]; // one curve per value
  schemes: BuiltinSchemeName[];
}

const range = (from: number, to: number, step: number) =>
  Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

export const FIG1_DEFAULTS: Fig1Options = {
  seeds: 20,
  seedBase: 1,
  d: 60000,
  scenario: 'parallel',
  params: PAPER_PRESET,
  ks: range(5, 50, 5),
  tForK: [30, 60],
  ts: range(10, 120, 10),
  kForT: [10, 20],
  schemes: SYNC_SCHEMES,
};

/** One point (K, T): one row per scheme, aggregated over the seeded fleets. */
export function sweepPoint(K: number, T_s: number, o: Fig1Options): Row[] {
  const taus = new Map<BuiltinSchemeName, number[]>(o.schemes.map((s) => [s, []]));
  for (let i = 0; i < o.seeds; i++) {
    const fleet = generateFleet(K, o.seedBase + i, o.params);
    const coeffs = fleet.map((l) => coefficients(l, o.params, o.scenario));
    for (const scheme of o.schemes) {
      const a = solve(scheme, { coeffs, T_s, d: o.d });
      taus.get(scheme)!.push(a.feasible ? a.tau : 0);
    }
  }
  return o.schemes.map((scheme) => {
    const t = taus.get(scheme)!;
    return {
      scheme,
      K,
      T: T_s,
      tau_mean: t.reduce((s, x) => s + x, 0) / t.length,
      tau_min: Math.min(...t),
      tau_max: Math.max(...t),
      feasible_fraction: t.filter((x) => x > 0).length / t.length,
      seeds: t.length,
    };
  });
}

export function runFig1(options: Partial<Fig1Options> = {}): { tauVsK: Row[]; tauVsT: Row[] } {
  const o = { ...FIG1_DEFAULTS, ...options };
  const tauVsK = o.tForK.flatMap((T) => o.ks.flatMap((K) => sweepPoint(K, T, o)));
  const tauVsT = o.kForT.flatMap((K) => o.ts.flatMap((T) => sweepPoint(K, T, o)));
  return { tauVsK, tauVsT };
}
