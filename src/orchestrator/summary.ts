/** What a run achieved, per scheme, computed from the CSV rows (so a resumed run summarises all its cycles). */
import { ACCURACY_TARGETS, accuracyTargetText, notRun, tauSummaryText, UNAVAILABLE_REASON, type CycleRow, type LearnerRow, type SchemeSummary } from '../run-folder/schema.ts';

/** τ_k of the learners that took part, per cycle; absent when the scheme never ran or the rows predate the tau column. */
function tauPerCycle(learners: LearnerRow[]): SchemeSummary['tau_per_cycle'] {
  if (learners.length === 0) return undefined;
  const byCycle = new Map<number, number[]>();
  for (const l of learners) {
    if (l.tau === null) return undefined;
    if (l.batch === 0) continue;
    byCycle.set(l.cycle, [...(byCycle.get(l.cycle) ?? []), l.tau]);
  }
  return [...byCycle.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([cycle, taus]) => {
      const min = Math.min(...taus);
      const max = Math.max(...taus);
      return { cycle, mean: taus.reduce((s, t) => s + t, 0) / taus.length, min, max, staleness: max - min };
    });
}

/** Energy over the learner-cycles that reported it; absent when the rows predate the energy columns. */
function energySummary(learners: LearnerRow[], budget_j: number | null): SchemeSummary['energy'] {
  const known = learners.filter((l) => l.energyJ !== null);
  if (known.length === 0) return undefined;
  const cycles = new Set(known.map((l) => l.cycle)).size;
  const total = known.reduce((s, l) => s + l.energyJ!, 0);
  const compute = known.reduce((s, l) => s + (l.energyComputeJ ?? 0), 0);
  const active = known.filter((l) => l.batch > 0);
  return {
    mean_per_cycle_j: total / cycles,
    mean_per_learner_cycle_j: active.length ? total / active.length : 0,
    max_learner_cycle_j: Math.max(0, ...known.map((l) => l.energyJ!)),
    compute_share: total > 0 ? compute / total : 0,
    over_budget_learner_cycles: budget_j === null ? 0 : known.filter((l) => l.energyJ! > budget_j * (1 + 1e-9)).length,
  };
}

export function summarizeScheme(cycles: CycleRow[], learners: LearnerRow[], budget_j: number | null = null): SchemeSummary {
  const rows = [...cycles].sort((a, b) => a.cycle - b.cycle);
  const [low, high] = ACCURACY_TARGETS;
  const first = (target: number) => rows.find((r) => r.testAccuracy >= target);
  const last = rows.at(-1);
  // Deadline misses among the learner-cycles whose timeline is known (given work, and answered).
  const timed = learners.filter((l) => l.batch > 0 && l.status !== 'missing');
  const late = learners.filter((l) => l.status === 'late').length;
  const updates = rows.map((r) => r.updatesAggregated).filter((u): u is number => typeof u === 'number');
  const perCycle = tauPerCycle(learners);
  // No rows: the scheme never ran (an interrupted run) — null results, not zeros.
  return {
    cycles: rows.length,
    final_accuracy: last?.testAccuracy ?? null,
    best_accuracy: last ? Math.max(...rows.map((r) => r.testAccuracy)) : null,
    final_loss: last?.testLoss ?? null,
    cycles_to_96_67: first(low)?.cycle ?? null,
    cycles_to_97: first(high)?.cycle ?? null,
    emulated_time_to_96_67_s: first(low)?.emulatedTimeS ?? null,
    emulated_time_to_97_s: first(high)?.emulatedTimeS ?? null,
    mean_tau: last ? rows.reduce((s, r) => s + r.tau, 0) / rows.length : null,
    ...optional('mean_tau_k', perCycle && (perCycle.length ? perCycle.reduce((s, c) => s + c.mean, 0) / perCycle.length : null)),
    tau: rows.map((r) => r.tau),
    late_learner_cycles: late,
    missing_learner_cycles: learners.filter((l) => l.status === 'missing').length,
    deadline_miss_rate: timed.length > 0 ? late / timed.length : null,
    // Older cycles.csv files lack the column: no figure rather than a partial one.
    mean_updates_aggregated: updates.length === rows.length && rows.length > 0 ? updates.reduce((a, b) => a + b, 0) / rows.length : null,
    unavailable_learner_cycles: learners.filter((l) => l.batch === 0 && l.reason === UNAVAILABLE_REASON).length,
    ...optional('tau_per_cycle', perCycle),
    ...optional('energy', energySummary(learners, budget_j)),
  };
}

const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));

export function formatSummaryTable(schemes: Record<string, SchemeSummary>): string {
  const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)} %`);
  const [low, high] = ACCURACY_TARGETS.map((t) => accuracyTargetText(t).replace(' ', ''));
  const header = ['scheme', 'cycles', 'mean τ', 'final acc', 'best acc', `cycles→${low}`, `cycles→${high}`, 'late', 'miss rate', 'updates/cycle', 'missing', 'offline'];
  const rows = Object.entries(schemes).map(([name, s]) =>
    notRun(s)
      ? [name, '0', 'not run', '', '', '', '', '', '', '', '', '']
      : [
          name,
          String(s.cycles),
          tauSummaryText(s),
          pct(s.final_accuracy),
          pct(s.best_accuracy ?? s.final_accuracy),
          s.cycles_to_96_67 === null ? '—' : String(s.cycles_to_96_67),
          s.cycles_to_97 === null ? '—' : String(s.cycles_to_97),
          String(s.late_learner_cycles),
          s.deadline_miss_rate === null ? '—' : `${(100 * s.deadline_miss_rate).toFixed(1)} %`,
          s.mean_updates_aggregated === null ? '—' : s.mean_updates_aggregated.toFixed(1),
          String(s.missing_learner_cycles),
          String(s.unavailable_learner_cycles),
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
