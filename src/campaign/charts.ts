/**
 * Vega-lite specs of the campaign and sweep charts: accuracy per cycle with 95 % CI bands,
 * cycles-to-target per seed (dot plot), and sweep metrics against T or K. Pure: numbers in, spec
 * out; same scheme colours and look as the run charts (src/report).
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, LINE_CHART_SIZE } from '../report/chart-style.ts';
import { targetPercents } from '../report/spec-cycles.ts';
import { orderSchemes, schemeColorScale, schemeLabel } from '../report/schemes.ts';
import { targetKey, targetLabel, type AggregateRow, type CampaignSummary } from './aggregate.ts';

const pct = (f: number | null) => (f === null ? null : f * 100);

function colorEncoding(schemes: string[]) {
  const legend = { orient: 'right', title: 'scheme', symbolOpacity: 1 };
  const scale = schemeColorScale(orderSchemes(schemes));
  return {
    field: 'scheme',
    type: 'nominal' as const,
    title: 'scheme',
    scale: { domain: scale.domain, range: scale.range },
    legend,
  };
}

/** Mean test accuracy per cycle over the seeds, with its 95 % CI as a band, per scheme. */
export function accuracyBandSpec(
  rows: readonly AggregateRow[],
  seeds: number,
  targetFractions: readonly number[],
): TopLevelSpec {
  const levels = targetPercents(targetFractions);
  const schemes = orderSchemes(rows.map((r) => r.scheme));
  const values = rows.map((r) => ({
    scheme: schemeLabel(r.scheme),
    cycle: r.cycle,
    mean: pct(r.accuracy_mean)!,
    low: pct(r.accuracy_ci95_low),
    high: pct(r.accuracy_ci95_high),
  }));
  const lowest = Math.min(...values.map((v) => v.low ?? v.mean), Math.min(...levels) - 1);
  const yScale = { domain: [Math.max(0, Math.floor(lowest - 0.5)), 100], nice: false, zero: false, clamp: true };
  const maxCycle = Math.max(...rows.map((r) => r.cycle));
  const x = {
    field: 'cycle',
    type: 'quantitative' as const,
    title: 'global cycle',
    scale: { domain: [1, Math.max(2, maxCycle)], nice: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
  const targets = levels.map((level) => ({ level, label: `${level} %` }));
  return {
    ...LINE_CHART_SIZE,
    config: CHART_CONFIG,
    title: {
      text: 'Test accuracy per global cycle',
      subtitle:
        seeds > 1
          ? `mean over ${seeds} seeds; band = 95 % confidence interval of the mean (Student t)`
          : 'one seed: no interval',
    },
    layer: [
      {
        data: { values: targets },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#555555', strokeWidth: 1.2 },
        encoding: { y: { field: 'level', type: 'quantitative', scale: yScale } },
      },
      // The levels are 0.33 % apart: the top label above its rule, the others below theirs.
      ...[true, false].map((above) => ({
        data: { values: targets.filter((_, i) => (i === targets.length - 1) === above) },
        mark: {
          type: 'text',
          align: 'left',
          baseline: above ? 'bottom' : 'top',
          x: 4,
          dy: above ? -2 : 2,
          fontSize: 11,
          color: '#333333',
        },
        encoding: { y: { field: 'level', type: 'quantitative' }, text: { field: 'label' } },
      })),
      {
        data: { values: values.filter((v) => v.low !== null) },
        mark: { type: 'area', opacity: 0.2 },
        encoding: {
          x,
          y: { field: 'low', type: 'quantitative', scale: yScale, title: 'test accuracy (%)' },
          y2: { field: 'high' },
          color: colorEncoding(schemes),
        },
      },
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2.5, point: { filled: true, size: 50 } },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative', scale: yScale, title: 'test accuracy (%)' },
          color: colorEncoding(schemes),
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * Cycles to each accuracy target, one dot per seed (spread vertically within the scheme's row so
 * equal values stay visible), with the mean and its 95 % CI as a bar over the seeds that reached it.
 * Seeds that never reached the target within the run sit in a "never" column past the last cycle.
 */
export function cyclesToTargetSpec(summary: CampaignSummary): TopLevelSpec {
  const schemes = orderSchemes(summary.schemes);
  const never = Math.max(...schemes.map((s) => summary.per_scheme[s].cycles)) + 1;
  const { x, y } = cyclesToTargetAxes(schemes, never);
  const color = colorEncoding(schemes);
  return {
    config: CHART_CONFIG,
    title: {
      text: 'Cycles to reach each accuracy target, per seed',
      subtitle: 'dot = one seed; bar = mean and 95 % CI over the seeds that reached it; "never" = not within the run',
    },
    data: { values: cyclesToTargetPoints(summary, schemes, never) },
    facet: { row: { field: 'target', type: 'nominal', title: 'target', sort: summary.targets.map(targetLabel) } },
    spec: {
      width: 520,
      height: 46 * schemes.length,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'mean'" }],
          mark: { type: 'rule', strokeWidth: 7, opacity: 0.3 },
          encoding: { x: { ...x, field: 'low' }, x2: { field: 'high' }, y, color },
        },
        {
          transform: [{ filter: "datum.kind === 'mean'" }],
          mark: { type: 'tick', orient: 'vertical', thickness: 3, size: 30 },
          encoding: { x, y, color },
        },
        {
          transform: [{ filter: "datum.kind === 'seed'" }],
          mark: { type: 'point', filled: true, size: 60, opacity: 0.9 },
          encoding: {
            x,
            y,
            color,
            shape: {
              field: 'reached',
              type: 'nominal',
              title: 'seed',
              scale: { domain: ['reached', 'never within the run'], range: ['circle', 'cross'] },
            },
          },
        },
      ],
    },
  } as TopLevelSpec;
}

/**
 * The chart's points, per scheme (row `y`) and target: a 'seed' point per seed (`never` when it
 * did not reach the target), then a 'mean' point when some seed reached it.
 */
function cyclesToTargetPoints(summary: CampaignSummary, schemes: readonly string[], never: number): object[] {
  const n = summary.seeds.length;
  const spread = (i: number) => (n === 1 ? 0 : (i - (n - 1) / 2) * (0.6 / (n - 1)));
  const values: object[] = [];
  schemes.forEach((scheme, row) => {
    for (const target of summary.targets) {
      const c = summary.per_scheme[scheme].cycles_to_target[targetKey(target)];
      const common = { scheme: schemeLabel(scheme), target: targetLabel(target) };
      c.per_seed.forEach((v, i) =>
        values.push({
          ...common,
          kind: 'seed',
          y: row + spread(i),
          seed: summary.seeds[i],
          cycles: v ?? never,
          reached: v === null ? 'never within the run' : 'reached',
        }),
      );
      if (c.mean !== null)
        values.push({
          ...common,
          kind: 'mean',
          y: row,
          cycles: c.mean,
          low: c.ci95_low ?? c.mean,
          high: c.ci95_high ?? c.mean,
        });
    }
  });
  return values;
}

/** x: cycles 1…never (the last tick labelled "never"); y: one row per scheme, labelled with its name. */
function cyclesToTargetAxes(schemes: readonly string[], never: number) {
  const x = {
    field: 'cycles',
    type: 'quantitative' as const,
    title: 'global cycles to reach the target',
    scale: { domain: [0.5, never + 0.5], nice: false },
    axis: {
      values: Array.from({ length: never }, (_, i) => i + 1),
      labelExpr: `datum.value == ${never} ? 'never' : datum.label`,
    },
  };
  const y = {
    field: 'y',
    type: 'quantitative' as const,
    title: null,
    scale: { domain: [-0.5, schemes.length - 0.5], reverse: true, nice: false, zero: false },
    axis: {
      values: schemes.map((_, i) => i),
      labelExpr: `${JSON.stringify(schemes.map(schemeLabel))}[datum.value]`,
      grid: false,
      labelLimit: 240,
    },
  };
  return { x, y };
}

/** One sweep point: a scheme's metric (mean and 95 % CI) at (K, T). */
export interface SweepPoint {
  scheme: string;
  K: number;
  T: number;
  /** the facet row, e.g. an accuracy target; '' for none */
  group: string;
  mean: number | null;
  low: number | null;
  high: number | null;
}

/**
 * A sweep metric against T (one panel per K) or against K (one panel per T), a line per scheme
 * with 95 % CI error bars; `groupTitle` names the row facet when points carry groups.
 */
export function sweepSpec(
  points: readonly SweepPoint[],
  axis: 'K' | 'T',
  metric: { title: string; yTitle: string; groupTitle?: string },
): TopLevelSpec {
  const other = axis === 'K' ? 'T' : 'K';
  const schemes = orderSchemes(points.map((p) => p.scheme));
  const values = points
    .filter((p) => p.mean !== null)
    .map((p) => ({ ...p, scheme: schemeLabel(p.scheme), low: p.low ?? p.mean, high: p.high ?? p.mean }));
  const groups = [...new Set(points.map((p) => p.group))];
  // Ticks at the grid's own values, written '~g' (30, 12.5): a single value otherwise gets "30.000000" ticks.
  const ticks = [...new Set(points.map((p) => p[axis]))].sort((a, b) => a - b);
  const x = {
    field: axis,
    type: 'quantitative' as const,
    title: axis === 'K' ? 'learners K' : 'global cycle clock T (s)',
    scale: { zero: false },
    axis: { values: ticks, format: '~g' },
  };
  const y = { field: 'mean', type: 'quantitative' as const, title: metric.yTitle, scale: { zero: false } };
  const facet: Record<string, object> = {
    column: { field: other, type: 'ordinal', title: other === 'K' ? 'K' : 'T (s)' },
  };
  if (groups.length > 1 || groups[0] !== '')
    facet.row = { field: 'group', type: 'nominal', title: metric.groupTitle ?? '' };
  return {
    config: CHART_CONFIG,
    title: {
      text: metric.title,
      subtitle:
        'mean over seeds; bars = 95 % confidence interval (Student t); points without a value (no seed reached) are left out',
    },
    data: { values },
    facet,
    spec: {
      width: 260,
      height: 200,
      layer: [
        {
          mark: { type: 'rule', strokeWidth: 1.5 },
          encoding: {
            x,
            y: { field: 'low', type: 'quantitative' },
            y2: { field: 'high' },
            color: colorEncoding(schemes),
          },
        },
        {
          mark: { type: 'line', strokeWidth: 2, point: { filled: true, size: 50 } },
          encoding: { x, y, color: colorEncoding(schemes) },
        },
      ],
    },
  } as TopLevelSpec;
}
