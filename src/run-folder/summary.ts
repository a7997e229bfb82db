/**
 * What a run achieved, per scheme, computed from its CSV rows (pure): the run writes it into
 * summary.json after every session, and the report computes it for a run still in progress.
 */
import {
  ACCURACY_TARGETS,
  cyclesToKey,
  timeToKey,
  UNAVAILABLE_REASON,
  type CycleRow,
  type LearnerRow,
  type SchemeSummary,
} from './schema.ts';

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

/** `targets`: the accuracy levels to count cycles to; each gets its cycles_to_* and emulated_time_to_*_s keys (schema.ts). */
export function summarizeScheme(
  cycles: CycleRow[],
  learners: LearnerRow[],
  budget_j: number | null = null,
  targets: readonly number[] = ACCURACY_TARGETS,
): SchemeSummary {
  const rows = [...cycles].sort((a, b) => a.cycle - b.cycle);
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
    ...Object.fromEntries(targets.map((t) => [cyclesToKey(t), first(t)?.cycle ?? null])),
    ...Object.fromEntries(targets.map((t) => [timeToKey(t), first(t)?.emulatedTimeS ?? null])),
    mean_tau: last ? rows.reduce((s, r) => s + r.tau, 0) / rows.length : null,
    ...optional(
      'mean_tau_k',
      perCycle && (perCycle.length ? perCycle.reduce((s, c) => s + c.mean, 0) / perCycle.length : null),
    ),
    tau: rows.map((r) => r.tau),
    late_learner_cycles: late,
    missing_learner_cycles: learners.filter((l) => l.status === 'missing').length,
    deadline_miss_rate: timed.length > 0 ? late / timed.length : null,
    // Older cycles.csv files lack the column: no figure rather than a partial one.
    mean_updates_aggregated:
      updates.length === rows.length && rows.length > 0 ? updates.reduce((a, b) => a + b, 0) / rows.length : null,
    unavailable_learner_cycles: learners.filter((l) => l.batch === 0 && l.reason === UNAVAILABLE_REASON).length,
    ...optional('tau_per_cycle', perCycle),
    ...optional('energy', energySummary(learners, budget_j)),
  };
}

const optional = <K extends string, V>(key: K, value: V | undefined) =>
  value === undefined ? {} : ({ [key]: value } as Record<K, V>);
