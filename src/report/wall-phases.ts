/**
 * Real-clock runs: how the measured wall time of each phase compares with its emulated time
 * (learners.csv) stretched by the time scale, and which learners overran their compute budget.
 * Pure: rows in, statistics and a vega-lite spec out.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, LINE_CHART_SIZE } from './chart-style.ts';
import type { LearnerRow, WallPhaseRow } from '../run-folder/schema.ts';
import { orderSchemes, schemeColorScale, schemeLabel } from './schemes.ts';

export const WALL_PHASES = [
  'receive (batch + model)',
  'compute (training + padding)',
  'of which real training',
  'send back (model)',
] as const;
export type WallPhase = (typeof WALL_PHASES)[number];

/** One learner-phase: its emulated duration × time scale (the wall time it should take) and what it took. */
export interface PhasePoint {
  scheme: string;
  cycle: number;
  learner: number;
  phase: WallPhase;
  expectedS: number;
  wallS: number;
}

export interface PhaseStat {
  scheme: string;
  phase: WallPhase;
  count: number;
  expectedS: number; // Σ emulated × time scale
  wallS: number; // Σ measured
  medianRatio: number; // wall ÷ expected
  maxRatio: number;
  /** the learner-phase that lagged most behind its schedule (largest wall − expected) */
  worst: { cycle: number; learner: number; lagS: number };
}

export interface Overrun {
  scheme: string;
  cycle: number;
  learner: number;
  overrunS: number;
}

export interface WallAnalysis {
  timeScale: number;
  points: PhasePoint[];
  stats: PhaseStat[];
  /** learner-cycles whose real training took longer than the scaled compute budget, worst first */
  overruns: Overrun[];
  /** wall_phases rows with no learners.csv row to compare with */
  unmatched: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function analyseWallPhases(wall: WallPhaseRow[], learners: LearnerRow[], timeScale: number): WallAnalysis {
  const emulated = new Map(learners.map((r) => [`${r.scheme}|${r.cycle}|${r.learner}`, r]));
  const points: PhasePoint[] = [];
  let unmatched = 0;
  for (const w of wall) {
    const e = emulated.get(`${w.scheme}|${w.cycle}|${w.learner}`);
    if (!e) {
      unmatched++;
      continue;
    }
    const pairs: [WallPhase, number | null, number | null][] = [
      [WALL_PHASES[0], e.tSendS, w.wallSendS],
      [WALL_PHASES[1], e.tComputeS, w.wallComputeS],
      [WALL_PHASES[2], e.tComputeS, w.trainWallS],
      [WALL_PHASES[3], e.tReturnS, w.wallReturnS],
    ];
    // A phase with no emulated length (a learner that sat out) has nothing to compare.
    for (const [phase, t, wallS] of pairs)
      if (t !== null && t > 0 && wallS !== null)
        points.push({ scheme: w.scheme, cycle: w.cycle, learner: w.learner, phase, expectedS: t * timeScale, wallS });
  }
  const stats: PhaseStat[] = [];
  for (const scheme of orderSchemes(points.map((p) => p.scheme)))
    for (const phase of WALL_PHASES) {
      const ps = points.filter((p) => p.scheme === scheme && p.phase === phase);
      if (ps.length === 0) continue;
      const ratios = ps.map((p) => p.wallS / p.expectedS);
      const worst = ps.reduce((a, b) => (b.wallS - b.expectedS > a.wallS - a.expectedS ? b : a));
      stats.push({
        scheme,
        phase,
        count: ps.length,
        expectedS: ps.reduce((s, p) => s + p.expectedS, 0),
        wallS: ps.reduce((s, p) => s + p.wallS, 0),
        medianRatio: median(ratios),
        maxRatio: Math.max(...ratios),
        worst: { cycle: worst.cycle, learner: worst.learner, lagS: worst.wallS - worst.expectedS },
      });
    }
  const overruns = wall
    .filter((w) => (w.overrunS ?? 0) > 0)
    .map((w) => ({ scheme: w.scheme, cycle: w.cycle, learner: w.learner, overrunS: w.overrunS! }))
    .sort((a, b) => b.overrunS - a.overrunS);
  return { timeScale, points, stats, overruns, unmatched };
}

/**
 * Strip plot: one dot per learner-phase at wall ÷ (emulated × time scale), log axis, a rule at
 * 1 (on schedule). Right of it = slower than emulated; "of which real training" right of 1 is
 * an overrun.
 */
export function wallPhasesSpec(a: WallAnalysis): TopLevelSpec {
  const values = a.points
    .filter((p) => p.wallS > 0)
    .map((p) => ({ scheme: schemeLabel(p.scheme), phase: p.phase, ratio: p.wallS / p.expectedS }));
  const ratios = values.map((v) => v.ratio);
  const domain = [Math.min(0.5, ...ratios) / 1.2, Math.max(2, ...ratios) * 1.2];
  const x = { field: 'ratio', type: 'quantitative' as const, scale: { type: 'log' as const, domain, nice: false } };
  const colors = schemeColorScale(orderSchemes(a.points.map((p) => p.scheme)));
  return {
    width: LINE_CHART_SIZE.width,
    height: WALL_PHASES.length * 56,
    config: CHART_CONFIG,
    title: {
      text: 'Real clock: measured wall time ÷ emulated time, per phase',
      subtitle: [
        `emulated time × time scale ${a.timeScale} = the wall time a phase should take; 1 = on schedule, > 1 = slower`,
        'one dot per learner and cycle',
      ],
    },
    layer: [
      {
        data: { values: [{ ratio: 1, label: 'on schedule' }] },
        layer: [
          { mark: { type: 'rule', color: '#555555', strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { x } },
          {
            mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, y: 2, fontSize: 12, color: '#333333' },
            encoding: { x, text: { field: 'label' } },
          },
        ],
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, opacity: 0.75, size: 70 },
        encoding: {
          x: { ...x, title: 'wall ÷ (emulated × time scale), log scale' },
          y: {
            field: 'phase',
            type: 'nominal',
            title: null,
            scale: { domain: [...WALL_PHASES] },
            axis: { labelLimit: 300 },
          },
          yOffset: { field: 'scheme', type: 'nominal', scale: { domain: colors.domain, paddingOuter: 0.6 } },
          color: {
            field: 'scheme',
            type: 'nominal',
            title: 'scheme',
            scale: colors,
            legend: { symbolType: 'circle', symbolOpacity: 1 },
          },
        },
      },
    ],
  } as TopLevelSpec;
}
