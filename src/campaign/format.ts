/** Text forms of the campaign statistics, shared by the console, report.html, sweep and paper tables. */
import type { Summary } from '../stats/index.ts';
import { targetKey, targetLabel, type CampaignSummary, type PairedCyclesToTarget } from './aggregate.ts';
import { schemeLabel, orderSchemes } from '../report/schemes.ts';

/** "1 cycle", "10 cycles" */
export const cyclesWord = (n: number | string) => `${n} cycle${n === 1 ? '' : 's'}`;

export const percent = (fraction: number | null, digits = 2) =>
  fraction === null ? '—' : `${(fraction * 100).toFixed(digits)} %`;

export function pValue(p: number | null): string {
  if (p === null) return '—';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

/** "4.40 ± 0.68 [3.72, 5.08]"; one value → "4"; none → "—". `scale` multiplies (100 for percentages). */
export function meanCi(s: Pick<Summary, 'mean' | 'ci95_low' | 'ci95_high'>, digits = 2, scale = 1, unit = ''): string {
  if (s.mean === null) return '—';
  const f = (v: number) => (v * scale).toFixed(digits);
  if (s.ci95_low === null || s.ci95_high === null) return `${f(s.mean)}${unit}`;
  return `${f(s.mean)} ± ${((s.ci95_high - s.mean) * scale).toFixed(digits)}${unit} [${f(s.ci95_low)}, ${f(s.ci95_high)}]`;
}

/** "4.40 ± 0.68 [3.72, 5.08], 5/5 seeds reached" or "never within 10 cycles (0/5 seeds)". */
export function cyclesText(
  c: { mean: number | null; ci95_low: number | null; ci95_high: number | null; reached: number; seeds: number },
  cycles: number,
): string {
  if (c.reached === 0) return `never within ${cyclesWord(cycles)} (0/${c.seeds} seeds)`;
  return `${meanCi(c, 2)}, ${c.reached}/${c.seeds} seeds reached`;
}

export function signTestText(p: PairedCyclesToTarget): string {
  const s = p.sign_test;
  return `${s.n_negative} fewer / ${s.n_positive} more / ${s.n_ties} equal, p = ${pValue(s.p_value)}${p.sign_unknown ? ` (${p.sign_unknown} pairs: neither reached, left out)` : ''}`;
}

/** The console's end-of-campaign table: per scheme final accuracy and cycles to each target. */
export function campaignTable(summary: CampaignSummary): string {
  const head = [
    'scheme',
    'final accuracy (mean ± CI half-width [95 % CI])',
    'τ',
    ...summary.targets.map((t) => `cycles → ${targetLabel(t)}`),
  ];
  const rows = orderSchemes(summary.schemes).map((scheme) => {
    const s = summary.per_scheme[scheme];
    return [
      schemeLabel(scheme),
      meanCi(s.final_accuracy, 2, 100, ' %'),
      meanCi(s.tau, 1),
      ...summary.targets.map((t) => cyclesText(s.cycles_to_target[targetKey(t)], s.cycles)),
    ];
  });
  const paired = summary.paired.flatMap((p) => [
    '',
    `paired ${schemeLabel(p.adaptive)} − ${schemeLabel(p.baseline)} over ${p.seeds.length} seeds:`,
    `  final accuracy: ${meanCi(p.final_accuracy.difference, 2, 100, ' points')}; t-test p = ${pValue(p.final_accuracy.t_test.p_value)}; sign test p = ${pValue(p.final_accuracy.sign_test.p_value)}`,
    ...summary.targets.map((t) => {
      const c = p.cycles_to_target[targetKey(t)];
      return (
        `  cycles → ${targetLabel(t)}: ${c.complete_pairs ? meanCi(c.difference, 2) : 'no seed where both reached'}` +
        `${c.dropped_from_t_test ? ` (${c.dropped_from_t_test} pairs where one or both never reached dropped from mean/t-test)` : ''}; ` +
        `t-test p = ${pValue(c.t_test.p_value)}; sign test: ${signTestText(c)}`
      );
    }),
  ]);
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return [
    ...all.map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    ),
    ...paired,
  ].join('\n');
}
