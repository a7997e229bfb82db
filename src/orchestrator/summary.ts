/** What a run achieved, per scheme, computed from the CSV rows (so a resumed run summarises all its cycles). */
import { ACCURACY_TARGETS, type CycleRow, type LearnerRow, type SchemeSummary } from '../report/run-folder.ts';

function cyclesTo(rows: CycleRow[], target: number): number | null {
  const hit = rows.find((r) => r.testAccuracy >= target);
  return hit ? hit.cycle : null;
}

export interface SchemeSummaryFull extends SchemeSummary {
  cycles: number;
  tau: number[];
  emulated_time_to_97_s: number | null;
  final_loss: number;
}

export function summarizeScheme(cycles: CycleRow[], learners: LearnerRow[]): SchemeSummaryFull {
  const rows = [...cycles].sort((a, b) => a.cycle - b.cycle);
  const last = rows[rows.length - 1];
  const to97 = rows.find((r) => r.testAccuracy >= 0.97);
  return {
    cycles: rows.length,
    final_accuracy: last?.testAccuracy ?? 0,
    best_accuracy: rows.reduce((m, r) => Math.max(m, r.testAccuracy), 0),
    final_loss: last?.testLoss ?? 0,
    cycles_to_96_67: cyclesTo(rows, ACCURACY_TARGETS[0]),
    cycles_to_97: cyclesTo(rows, ACCURACY_TARGETS[1]),
    emulated_time_to_97_s: to97 ? to97.emulatedTimeS : null,
    mean_tau: rows.length ? rows.reduce((s, r) => s + r.tau, 0) / rows.length : 0,
    tau: rows.map((r) => r.tau),
    late_learner_cycles: learners.filter((l) => l.status === 'late').length,
    missing_learner_cycles: learners.filter((l) => l.status === 'missing').length,
  };
}

export function formatSummaryTable(schemes: Record<string, SchemeSummaryFull>): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const header = ['scheme', 'cycles', 'mean τ', 'final acc', 'best acc', 'cycles→96.67%', 'cycles→97%', 'late', 'missing'];
  const rows = Object.entries(schemes).map(([name, s]) => [
    name,
    String(s.cycles),
    s.mean_tau.toFixed(2),
    pct(s.final_accuracy),
    pct(s.best_accuracy ?? s.final_accuracy),
    s.cycles_to_96_67 === null ? '—' : String(s.cycles_to_96_67),
    s.cycles_to_97 === null ? '—' : String(s.cycles_to_97),
    String(s.late_learner_cycles),
    String(s.missing_learner_cycles),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
