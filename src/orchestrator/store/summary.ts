/** What a run achieved, per scheme (src/run-folder/summary.ts), and its console table. */
import {
  ACCURACY_TARGETS,
  accuracyTargetText,
  cyclesToKey,
  notRun,
  tauSummaryText,
  type SchemeSummary,
} from '../../run-folder/schema.ts';

export { summarizeScheme } from '../../run-folder/summary.ts';

export function formatSummaryTable(
  schemes: Record<string, SchemeSummary>,
  targets: readonly number[] = ACCURACY_TARGETS,
): string {
  const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)} %`);
  const header = [
    'scheme',
    'cycles',
    'mean τ',
    'final acc',
    'best acc',
    ...targets.map((t) => `cycles→${accuracyTargetText(t).replace(' ', '')}`),
    'late',
    'miss rate',
    'updates/cycle',
    'missing',
    'offline',
  ];
  const rows = Object.entries(schemes).map(([name, s]) =>
    notRun(s)
      ? [name, '0', 'not run', ...header.slice(3).map(() => '')]
      : [
          name,
          String(s.cycles),
          tauSummaryText(s),
          pct(s.final_accuracy),
          pct(s.best_accuracy ?? s.final_accuracy),
          ...targets.map((t) => String(s[cyclesToKey(t)] ?? '—')),
          String(s.late_learner_cycles),
          s.deadline_miss_rate === null ? '—' : `${(100 * s.deadline_miss_rate).toFixed(1)} %`,
          s.mean_updates_aggregated === null ? '—' : s.mean_updates_aggregated.toFixed(1),
          String(s.missing_learner_cycles),
          String(s.unavailable_learner_cycles),
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
