/** Shared look of every chart: legible font sizes, white background, plain sans-serif text. */
import type { Config } from 'vega-lite';

export const CHART_CONFIG: Config = {
  background: 'white',
  // Browsers pick Helvetica/Arial; resvg (PNG) falls through to DejaVu/Liberation on Linux.
  font: 'Helvetica, Arial, DejaVu Sans, Liberation Sans, sans-serif',
  padding: 12,
  title: { fontSize: 17, subtitleFontSize: 13, anchor: 'start', offset: 10 },
  axis: { labelFontSize: 13, titleFontSize: 14, titlePadding: 8, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 13, titleFontSize: 13, symbolSize: 140, labelLimit: 260 },
  header: { labelFontSize: 14, titleFontSize: 14 },
  view: { stroke: '#bbbbbb' },
};

/** Plot area of the line charts (px, before PNG zoom). */
export const LINE_CHART_SIZE = { width: 560, height: 320 };

/** The label of an accuracy-target rule: close levels put the top label above its rule, the others below. */
export function targetLabelMark(above: boolean) {
  return {
    type: 'text',
    align: 'left',
    baseline: above ? 'bottom' : 'top',
    x: 4,
    dy: above ? -2 : 2,
    fontSize: 12,
    color: '#333333',
  } as const;
}
