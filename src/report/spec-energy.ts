/**
 * Energy per learner per scheme: mean joules per cycle (compute + radio, learners.csv), one group
 * of bars per learner, one bar per scheme. Pure: rows in, vega-lite spec out.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG } from './chart-style.ts';
import type { LearnerRow } from '../run-folder/schema.ts';
import { orderSchemes, schemeColorScale, schemeLabel } from './schemes.ts';

export interface EnergyBar {
  scheme: string;
  learner: number;
  /** mean over the cycles in which the learner reported its energy */
  meanJ: number;
  computeJ: number;
  radioJ: number;
}

/** Mean energy per (scheme, learner) over the rows that carry it; empty for runs without energy columns. */
export function energyBars(rows: LearnerRow[]): EnergyBar[] {
  const acc = new Map<
    string,
    { scheme: string; learner: number; n: number; total: number; compute: number; radio: number }
  >();
  for (const r of rows) {
    if (r.energyJ === null) continue;
    const key = `${r.scheme}\u0000${r.learner}`;
    const a = acc.get(key) ?? { scheme: r.scheme, learner: r.learner, n: 0, total: 0, compute: 0, radio: 0 };
    a.n++;
    a.total += r.energyJ;
    a.compute += r.energyComputeJ ?? 0;
    a.radio += r.energyRadioJ ?? 0;
    acc.set(key, a);
  }
  const order = orderSchemes([...acc.values()].map((a) => a.scheme));
  return [...acc.values()]
    .sort((x, y) => order.indexOf(x.scheme) - order.indexOf(y.scheme) || x.learner - y.learner)
    .map((a) => ({
      scheme: a.scheme,
      learner: a.learner,
      meanJ: a.total / a.n,
      computeJ: a.compute / a.n,
      radioJ: a.radio / a.n,
    }));
}

export function energySpec(bars: EnergyBar[], budgetJ: number | null): TopLevelSpec {
  const schemes = orderSchemes(bars.map((b) => b.scheme));
  const scale = schemeColorScale(schemes);
  const learners = new Set(bars.map((b) => b.learner)).size;
  const values = bars.map((b) => ({ ...b, scheme: schemeLabel(b.scheme) }));
  const bar = {
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'learner', type: 'ordinal', title: 'learner', axis: { labelAngle: 0 } },
      xOffset: { field: 'scheme', type: 'nominal', sort: scale.domain },
      // Short: a rotated axis title longer than the plot's height pushes the chart title up and leaves a blank gap.
      y: { field: 'meanJ', type: 'quantitative', title: 'energy per cycle (J)' },
      color: {
        field: 'scheme',
        type: 'nominal',
        title: 'scheme',
        scale: { domain: scale.domain, range: scale.range },
        legend: { orient: 'right' },
      },
      tooltip: [
        { field: 'scheme' },
        { field: 'learner' },
        { field: 'meanJ', title: 'total (J)', format: '.3f' },
        { field: 'computeJ', title: 'compute (J)', format: '.3f' },
        { field: 'radioJ', title: 'radio (J)', format: '.4f' },
      ],
    },
  };
  const budget =
    budgetJ === null
      ? []
      : [
          {
            data: { values: [{ budget: budgetJ }] },
            mark: { type: 'rule', strokeDash: [4, 4], color: '#555555', strokeWidth: 1.5 },
            encoding: { y: { field: 'budget', type: 'quantitative' } },
          },
        ];
  return {
    width: Math.max(360, Math.min(1100, learners * schemes.length * 14)),
    height: 320,
    config: CHART_CONFIG,
    title: {
      text: 'Energy per learner and cycle',
      subtitle: 'mean over cycles: compute κ·f²·τ_k·d_k·C_m plus radio P_tx·t_R (+ P_rx·t_S)',
    },
    layer: [bar, ...budget],
  } as TopLevelSpec;
}
