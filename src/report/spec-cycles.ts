/**
 * Vega-lite specs for the per-cycle line charts (accuracy per cycle and per emulated second,
 * loss, τ): pure functions from the rows of cycles.csv to a spec; one line per scheme, same
 * colours as everywhere else.
 */
import { targetLabelMark } from './chart-style.ts';
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, LINE_CHART_SIZE } from './chart-style.ts';
import { ACCURACY_TARGETS, type CycleRow } from '../run-folder/schema.ts';
import { orderSchemes, schemeColorScale, schemeLabel } from './schemes.ts';

/** Accuracy targets (fractions) as percent levels for a chart's rules. */
export const targetPercents = (targets: readonly number[]) => targets.map((f) => Math.round(f * 10000) / 100);

const DASHES = [
  [1, 0],
  [8, 4],
  [2, 3],
  [12, 3, 2, 3],
  [4, 2],
];

interface Point {
  scheme: string;
  cycle: number;
  /** emulated clock at the end of the cycle (s) */
  timeS: number;
  value: number;
}

function points(rows: CycleRow[], value: (r: CycleRow) => number): Point[] {
  return rows.map((r) => ({ scheme: schemeLabel(r.scheme), cycle: r.cycle, timeS: r.emulatedTimeS, value: value(r) }));
}

type XAxis = { field: 'cycle' | 'timeS'; type: 'quantitative'; title: string; scale: object; axis: object };

function cycleAxis(rows: CycleRow[]): XAxis {
  const maxCycle = Math.max(...rows.map((r) => r.cycle));
  return {
    field: 'cycle',
    type: 'quantitative',
    title: 'global cycle',
    scale: { domain: [1, Math.max(2, maxCycle)], nice: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
}

/** Emulated seconds since the start: under --late wait a scheme's cycles last longer than T. */
function timeAxis(rows: CycleRow[]): XAxis {
  return {
    field: 'timeS',
    type: 'quantitative',
    title: 'emulated time since the start (s)',
    scale: { domain: [0, Math.max(...rows.map((r) => r.emulatedTimeS))], nice: true },
    axis: {},
  };
}

/** The paper finds optimal = analytical: draw optimal wider and with bigger points, underneath. */
const isOptimal = `datum.scheme === '${schemeLabel('optimal')}'`;

interface YAxis {
  title: string;
  scale: object;
  axis?: object;
}

/** One line per scheme with points, over global cycles (or emulated time); `value` is plotted on y. */
function schemeLines(rows: CycleRow[], values: Point[], y: YAxis, x: XAxis = cycleAxis(rows)) {
  const scale = schemeColorScale(orderSchemes(rows.map((r) => r.scheme)));
  // Outside the plot: any corner inside can be where some run's curves are.
  const legend = { orient: 'right' as const, symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolSize: 500 };
  return {
    data: { values },
    encoding: {
      x,
      y: { field: 'value', type: 'quantitative' as const, ...y },
      color: {
        field: 'scheme',
        type: 'nominal' as const,
        title: 'scheme',
        scale: { domain: scale.domain, range: scale.range },
        legend,
      },
    },
    layer: [
      {
        mark: { type: 'line' as const },
        encoding: {
          // A different dash per scheme keeps overlapping lines apart;
          // same field and title ⇒ vega-lite merges colour and dash into one legend.
          strokeDash: {
            field: 'scheme',
            type: 'nominal' as const,
            title: 'scheme',
            scale: { domain: scale.domain, range: DASHES },
            legend,
          },
          strokeWidth: { condition: { test: isOptimal, value: 5 }, value: 2.5 },
        },
      },
      {
        mark: { type: 'point' as const, filled: true, opacity: 1 },
        encoding: { size: { condition: { test: isOptimal, value: 130 }, value: 55 } },
      },
    ],
  };
}

function accuracyLayers(rows: CycleRow[], x: XAxis, targetFractions: readonly number[]) {
  const values = points(rows, (r) => r.testAccuracy * 100);
  const levels = targetPercents(targetFractions);
  // Zoom in on the interesting band but always keep the target levels in view.
  const lowest = Math.min(...values.map((p) => p.value), Math.min(...levels) - 1);
  const lower = Math.max(0, Math.floor(lowest - 0.5));
  const targets = levels.map((level, i) => ({ level, label: `${level} %`, above: i === levels.length - 1 }));
  const yScale = { domain: [lower, 100], nice: false, zero: false };
  return [
    {
      data: { values: targets },
      mark: { type: 'rule', strokeDash: [4, 4], color: '#555555', strokeWidth: 1.5 },
      encoding: { y: { field: 'level', type: 'quantitative', scale: yScale } },
    },
    // The default levels are only 0.33 % apart: label the top one above its rule, the others below.
    ...[true, false].map((above) => ({
      data: { values: targets.filter((t) => t.above === above) },
      mark: targetLabelMark(above),
      encoding: { y: { field: 'level', type: 'quantitative' }, text: { field: 'label' } },
    })),
    schemeLines(rows, values, { title: 'test accuracy (%)', scale: yScale }, x),
  ];
}

export function accuracySpec(rows: CycleRow[], targets: readonly number[] = ACCURACY_TARGETS): TopLevelSpec {
  return {
    ...LINE_CHART_SIZE,
    config: CHART_CONFIG,
    title: { text: 'Test accuracy per global cycle' },
    layer: accuracyLayers(rows, cycleAxis(rows), targets),
  } as TopLevelSpec;
}

/**
 * Accuracy against the emulated clock: the fair axis when schemes spend different time per
 * cycle (--late wait, where a cycle lasts until its slowest included learner is done).
 */
export function accuracyTimeSpec(rows: CycleRow[], targets: readonly number[] = ACCURACY_TARGETS): TopLevelSpec {
  return {
    ...LINE_CHART_SIZE,
    config: CHART_CONFIG,
    title: { text: 'Test accuracy versus emulated time', subtitle: 'each point: the end of one global cycle' },
    layer: accuracyLayers(rows, timeAxis(rows), targets),
  } as TopLevelSpec;
}

export function lossSpec(rows: CycleRow[]): TopLevelSpec {
  return {
    ...LINE_CHART_SIZE,
    config: CHART_CONFIG,
    title: { text: 'Test loss per global cycle' },
    ...schemeLines(
      rows,
      points(rows, (r) => r.testLoss),
      { title: 'test loss (cross-entropy)', scale: { zero: false } },
    ),
  } as TopLevelSpec;
}

export function tauSpec(rows: CycleRow[]): TopLevelSpec {
  const maxTau = Math.max(...rows.map((r) => r.tau));
  const y = {
    title: 'local iterations τ (per cycle)',
    scale: { domain: [0, Math.max(1, Math.ceil(maxTau * 1.15))], nice: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
  return {
    ...LINE_CHART_SIZE,
    config: CHART_CONFIG,
    title: { text: 'Local iterations τ per global cycle' },
    ...schemeLines(
      rows,
      points(rows, (r) => r.tau),
      y,
    ),
  } as TopLevelSpec;
}
