/** CSV and console rendering of the Fig. 1 rows. */
import { FIG1_HEADER } from '../../src/run-folder/schema.ts';
import type { Row } from './sweep.ts';

/** The header the report reads back (src/run-folder/schema.ts). */
export const FIG1_CSV_HEADER = FIG1_HEADER.join(',');

const num = (x: number) => String(Number(x.toFixed(4)));

export function fig1Csv(rows: Row[]): string {
  const lines = rows.map((r) =>
    [r.scheme, r.K, r.T, num(r.tau_mean), r.tau_min, r.tau_max, num(r.feasible_fraction), r.seeds].join(','),
  );
  return [FIG1_CSV_HEADER, ...lines].join('\n') + '\n';
}

/**
 * Pivot for the console: one line per x value, one column per (scheme, curve), mean τ with the
 * feasible fraction when it is below 1.
 */
export function fig1Table(rows: Row[], x: 'K' | 'T', curve: 'K' | 'T'): string {
  const xs = [...new Set(rows.map((r) => r[x]))];
  const curves = [...new Set(rows.map((r) => r[curve]))];
  const schemes = [...new Set(rows.map((r) => r.scheme))];
  const cols = curves.flatMap((c) => schemes.map((s) => ({ c, s, label: `${s} ${curve}=${c}` })));
  const cell = (r: Row | undefined) =>
    !r ? '-' : num(r.tau_mean) + (r.feasible_fraction < 1 ? ` (${Math.round(r.feasible_fraction * 100)}%)` : '');
  const body = xs.map((v) => [
    String(v),
    ...cols.map(({ c, s }) => cell(rows.find((r) => r[x] === v && r[curve] === c && r.scheme === s))),
  ]);
  const all = [[x, ...cols.map((c) => c.label)], ...body];
  const widths = all[0].map((_, i) => Math.max(...all.map((line) => line[i].length)));
  return all.map((line) => line.map((cellText, i) => cellText.padStart(widths[i])).join('  ')).join('\n');
}
