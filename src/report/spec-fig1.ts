/**
 * The paper's Fig. 1 as two charts: (a) τ vs K for fixed T values, (b) τ vs T for fixed K
 * values. Colour = scheme, dash = the fixed parameter; where the seeded fleets disagree, a bar
 * with caps spans min–max over them (and the subtitle mentions bars only then).
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, LINE_CHART_SIZE } from './chart-style.ts';
import type { Fig1Row } from '../run-folder/schema.ts';
import { orderSchemes, schemeColorScale, schemeLabel } from './schemes.ts';

const isOptimal = `datum.scheme === '${schemeLabel('optimal')}'`;
const DASHES = [
  [1, 0],
  [7, 4],
  [2, 3],
  [12, 3, 2, 3],
];

export function fig1Spec(rows: Fig1Row[], xAxis: 'K' | 'T'): TopLevelSpec {
  const fixed = xAxis === 'K' ? 'T' : 'K';
  const fixedLabel = (r: Fig1Row) => (fixed === 'T' ? `T = ${r.T} s` : `K = ${r.K}`);
  const fixedValues = [...new Set(rows.map((r) => r[fixed]))].sort((a, b) => a - b);
  const fixedDomain = fixedValues.map((v) => (fixed === 'T' ? `T = ${v} s` : `K = ${v}`));
  const values = rows
    .filter((r) => r.tauMean !== null)
    .map((r) => ({
      scheme: schemeLabel(r.scheme),
      x: r[xAxis],
      fixed: fixedLabel(r),
      series: `${r.scheme}|${fixedLabel(r)}`,
      tauMean: r.tauMean,
      tauMin: r.tauMin,
      tauMax: r.tauMax,
      partial: r.feasibleFraction < 1,
    }));
  const colors = schemeColorScale(orderSchemes(rows.map((r) => r.scheme)));
  const spread = values.some((v) => v.tauMin !== null && v.tauMax !== null && v.tauMin < v.tauMax);
  const subtitle = fig1Subtitle(
    Math.max(1, ...rows.map((r) => r.seeds)),
    spread,
    values.some((v) => v.partial),
  );

  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: xAxis === 'K' ? 'number of learners K' : 'cycle deadline T (s)',
    scale: { zero: false, nice: false, padding: 10 },
    axis: xAxis === 'K' ? { tickMinStep: 1, format: 'd' } : {},
  };
  const color = {
    field: 'scheme',
    type: 'nominal' as const,
    title: 'scheme',
    scale: colors,
    legend: { symbolType: 'circle', symbolOpacity: 1 },
  };
  return {
    ...LINE_CHART_SIZE,
    config: CHART_CONFIG,
    title: {
      text:
        xAxis === 'K' ? `(a) Local iterations τ vs number of learners K` : `(b) Local iterations τ vs cycle deadline T`,
      subtitle,
    },
    data: { values },
    encoding: { x, color },
    layer: [
      ...(spread ? SPREAD_BARS : []),
      ...schemeLines(fixed === 'T' ? 'deadline' : 'learners', fixedDomain),
      {
        // Hollow centre for points where some fleets were infeasible.
        transform: [{ filter: 'datum.partial' }],
        mark: { type: 'point', filled: true, opacity: 1, color: 'white', size: 20 },
        encoding: { y: { field: 'tauMean', type: 'quantitative' }, color: { value: 'white' } },
      },
    ],
  } as TopLevelSpec;
}

function fig1Subtitle(maxSeeds: number, spread: boolean, anyPartial: boolean): string[] {
  const seeds =
    maxSeeds === 1
      ? 'one seeded fleet'
      : spread
        ? `mean over ${maxSeeds} seeded fleets; bars: min–max where the fleets differ`
        : `mean over ${maxSeeds} seeded fleets (all gave the same τ at every point)`;
  return [seeds, anyPartial ? 'hollow points: some fleets infeasible (mean over feasible ones)' : ''].filter(Boolean);
}

const HAS_SPREAD = 'datum.tauMin < datum.tauMax';
/** A min–max bar with caps where the seeded fleets disagree. */
const SPREAD_BARS = [
  {
    transform: [{ filter: HAS_SPREAD }],
    mark: { type: 'rule', strokeWidth: 1.5 },
    encoding: { y: { field: 'tauMin', type: 'quantitative' }, y2: { field: 'tauMax' } },
  },
  ...['tauMin', 'tauMax'].map((field) => ({
    transform: [{ filter: HAS_SPREAD }],
    mark: { type: 'tick', orient: 'horizontal', size: 10, thickness: 1.5 },
    encoding: { y: { field, type: 'quantitative' } },
  })),
];

/** A line and points per scheme, dashed by the fixed parameter. */
function schemeLines(dashTitle: string, fixedDomain: string[]) {
  // The paper finds optimal = analytical: optimal is drawn first and wider, so both stay visible.
  return [isOptimal, `!(${isOptimal})`].flatMap((filter, i) => [
    {
      transform: [{ filter }],
      mark: { type: 'line' },
      encoding: {
        y: { field: 'tauMean', type: 'quantitative', title: 'local iterations τ (per cycle)', scale: { zero: true } },
        strokeDash: {
          field: 'fixed',
          type: 'nominal',
          title: dashTitle,
          scale: { domain: fixedDomain, range: DASHES },
          legend: { symbolType: 'stroke', symbolSize: 500, symbolStrokeWidth: 2.5 },
        },
        strokeWidth: { value: i === 0 ? 6 : 2.5 },
        detail: { field: 'series' },
      },
    },
    {
      transform: [{ filter }],
      mark: { type: 'point', filled: true, opacity: 1 },
      encoding: { y: { field: 'tauMean', type: 'quantitative' }, size: { value: i === 0 ? 150 : 60 } },
    },
  ]);
}
