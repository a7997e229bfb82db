/**
 * From the cycles.csv rows of several seeds to the campaign's statistics: one aggregate row per
 * (scheme, cycle), and per scheme the distribution over seeds of the final accuracy, τ and the
 * cycles to each accuracy target, plus the paired adaptive − ETA differences. Pure: rows in,
 * numbers out; every statistic comes from src/stats.
 */
import { isBuiltinScheme } from '../allocation/index.ts';
import { ACCURACY_TARGETS, type CycleRow } from '../run-folder/schema.ts';
import { orderSchemes } from '../report/schemes.ts';
import {
  cyclesToTargetOverSeeds,
  describe,
  pairedComparison,
  pairedTTest,
  signTest,
  type CyclesToTargetOverSeeds,
  type PairedComparison,
  type PairedTTest,
  type SignTest,
  type Summary,
} from '../stats/index.ts';

/** One seed's run: its seed and its cycles.csv rows. */
export interface SeedCycles {
  seed: number;
  rows: readonly CycleRow[];
}

export const AGGREGATE_HEADER = [
  'scheme',
  'cycle',
  'n',
  'accuracy_mean',
  'accuracy_sd',
  'accuracy_ci95_low',
  'accuracy_ci95_high',
  'loss_mean',
  'emulated_time_mean_s',
] as const;

/** One line of aggregate.csv; accuracies are fractions like cycles.csv's test_accuracy. */
export interface AggregateRow {
  scheme: string;
  cycle: number;
  /** seeds that have this cycle */
  n: number;
  accuracy_mean: number;
  /** null when n < 2 */
  accuracy_sd: number | null;
  accuracy_ci95_low: number | null;
  accuracy_ci95_high: number | null;
  loss_mean: number;
  emulated_time_mean_s: number;
}

/** Schemes seen in the runs, in the report's order. */
export function schemesOf(runs: readonly SeedCycles[]): string[] {
  return orderSchemes(runs.flatMap((r) => r.rows.map((row) => row.scheme)));
}

/** One row per (scheme, cycle): mean, sd and Student-t 95 % CI of the test accuracy over the seeds that have the cycle. */
export function aggregateCycles(
  runs: readonly SeedCycles[],
  schemes: readonly string[] = schemesOf(runs),
): AggregateRow[] {
  const out: AggregateRow[] = [];
  for (const scheme of schemes) {
    const byCycle = new Map<number, CycleRow[]>();
    for (const run of runs)
      for (const row of run.rows)
        if (row.scheme === scheme) byCycle.set(row.cycle, [...(byCycle.get(row.cycle) ?? []), row]);
    for (const cycle of [...byCycle.keys()].sort((a, b) => a - b)) {
      const rows = byCycle.get(cycle)!;
      const acc = describe(rows.map((r) => r.testAccuracy));
      out.push({
        scheme,
        cycle,
        n: acc.n,
        accuracy_mean: acc.mean!,
        accuracy_sd: acc.sd,
        accuracy_ci95_low: acc.ci95_low,
        accuracy_ci95_high: acc.ci95_high,
        loss_mean: describe(rows.map((r) => r.testLoss)).mean!,
        emulated_time_mean_s: describe(rows.map((r) => r.emulatedTimeS)).mean!,
      });
    }
  }
  return out;
}

const cell = (v: string | number | null) => (v === null ? '' : String(v));

export function aggregateCsv(rows: readonly AggregateRow[]): string {
  return (
    [AGGREGATE_HEADER.join(','), ...rows.map((r) => AGGREGATE_HEADER.map((h) => cell(r[h])).join(','))].join('\n') +
    '\n'
  );
}

const percentOf = (target: number) => Math.round(target * 10000) / 100;

/** 0.9667 → "96.67%": the key of a target in summary.json (not integer-like, so JSON keeps the targets in order). */
export function targetKey(target: number): string {
  return `${percentOf(target)}%`;
}

/** 0.9667 → "96_67", 0.97 → "97": the column suffix, as in run summaries (cycles_to_96_67). */
export { targetColumn } from '../run-folder/schema.ts';

/** "96.67 %" */
export function targetLabel(target: number): string {
  return `${percentOf(target)} %`;
}

/** A describe() summary with the per-seed values it summarises, in seed order. */
export type SeedSummary = Summary & { per_seed: number[] };

export interface SchemeCampaignSummary {
  /** cycles of the run (the last cycle every seed has) */
  cycles: number;
  final_accuracy: SeedSummary;
  /** τ per seed (a scheme's τ is fixed within a run: its mean over the run's cycles) */
  tau: SeedSummary;
  /** keyed by targetKey: per seed the first cycle at or above the target (null = never within `cycles`) */
  cycles_to_target: Record<string, CyclesToTargetOverSeeds>;
}

export interface PairedSeedCycles {
  seed: number;
  adaptive: number | null;
  baseline: number | null;
  /** adaptive − baseline when both reached the target */
  difference: number | null;
  /** sign of adaptive − baseline when it is known (also when only one reached); null when neither did */
  sign: -1 | 0 | 1 | null;
}

/**
 * Paired cycles-to-target, where "never reached within the run" is censored, not a number: a pair
 * where only one scheme reached the target has a known sign (the other would need more cycles than
 * the run had), so it counts in the sign test; it has no difference, so it is dropped from the mean,
 * CI and t-test (`dropped_from_t_test` says how many). A pair where neither reached has no known sign
 * and is left out of both (`sign_unknown`).
 */
export interface PairedCyclesToTarget {
  target: number;
  per_seed: PairedSeedCycles[];
  /** pairs where both schemes reached the target */
  complete_pairs: number;
  /** describe() of adaptive − baseline over the complete pairs */
  difference: Summary;
  t_test: PairedTTest;
  dropped_from_t_test: number;
  sign_test: SignTest;
  sign_unknown: number;
}

export interface PairedSchemes {
  adaptive: string;
  baseline: string;
  seeds: number[];
  /** adaptive − baseline final accuracy (fraction), seed by seed */
  final_accuracy: PairedComparison & { per_seed_difference: number[] };
  cycles_to_target: Record<string, PairedCyclesToTarget>;
}

export interface CampaignSummary {
  seeds: number[];
  schemes: string[];
  targets: number[];
  per_scheme: Record<string, SchemeCampaignSummary>;
  paired: PairedSchemes[];
  definitions: Record<string, string>;
}

/** A user's scheme (any name not built in) against every other scheme of the run, each pair once. */
function userPairs(schemes: readonly string[]): [string, string][] {
  return schemes.flatMap((s, i) =>
    isBuiltinScheme(s)
      ? []
      : schemes.filter((o, j) => j !== i && (isBuiltinScheme(o) || j > i)).map((o): [string, string] => [s, o]),
  );
}

/** The schemes compared against the baseline in `paired` (each that ran). */
export const ADAPTIVE_SCHEMES = ['optimal', 'analytical'] as const;
export const BASELINE_SCHEME = 'eta';

function seedSummary(values: number[]): SeedSummary {
  return { ...describe(values), per_seed: values };
}

function schemeRows(run: SeedCycles, scheme: string): CycleRow[] {
  return run.rows.filter((r) => r.scheme === scheme).sort((a, b) => a.cycle - b.cycle);
}

/** Rows of `scheme` in every run, checked to be present (a seed without the scheme is an error, not a silent gap). */
function rowsBySeed(runs: readonly SeedCycles[], scheme: string): CycleRow[][] {
  return runs.map((run) => {
    const rows = schemeRows(run, scheme);
    if (rows.length === 0) throw new Error(`seed ${run.seed} has no cycles of scheme ${scheme}`);
    return rows;
  });
}

function summarizeScheme(
  runs: readonly SeedCycles[],
  scheme: string,
  targets: readonly number[],
): SchemeCampaignSummary {
  const bySeed = rowsBySeed(runs, scheme);
  const cycles = Math.min(...bySeed.map((rows) => rows[rows.length - 1].cycle));
  const series = bySeed.map((rows) =>
    rows.filter((r) => r.cycle <= cycles).map((r) => ({ cycle: r.cycle, accuracy: r.testAccuracy })),
  );
  const final = bySeed.map((rows) => rows.find((r) => r.cycle === cycles)!.testAccuracy);
  const tau = bySeed.map((rows) => describe(rows.map((r) => r.tau)).mean!);
  return {
    cycles,
    final_accuracy: seedSummary(final),
    tau: seedSummary(tau),
    cycles_to_target: Object.fromEntries(targets.map((t) => [targetKey(t), cyclesToTargetOverSeeds(series, t)])),
  };
}

/** See PairedCyclesToTarget for how seeds that never reached the target are counted. */
export function pairCyclesToTarget(
  seeds: readonly number[],
  adaptive: readonly (number | null)[],
  baseline: readonly (number | null)[],
  target: number,
): PairedCyclesToTarget {
  const per_seed: PairedSeedCycles[] = seeds.map((seed, i) => {
    const a = adaptive[i];
    const b = baseline[i];
    if (a !== null && b !== null)
      return { seed, adaptive: a, baseline: b, difference: a - b, sign: Math.sign(a - b) as -1 | 0 | 1 };
    if (a !== null) return { seed, adaptive: a, baseline: b, difference: null, sign: -1 }; // baseline needs more cycles than the run had
    if (b !== null) return { seed, adaptive: a, baseline: b, difference: null, sign: 1 };
    return { seed, adaptive: a, baseline: b, difference: null, sign: null };
  });
  const complete = per_seed.filter((p) => p.difference !== null);
  const differences = complete.map((p) => p.difference!);
  const known = per_seed.filter((p) => p.sign !== null);
  return {
    target,
    per_seed,
    complete_pairs: complete.length,
    difference: describe(differences),
    t_test: pairedTTest(differences),
    dropped_from_t_test: per_seed.length - complete.length,
    // signTest reads only the sign of each value: a censored pair enters as ±1.
    sign_test: signTest(known.map((p) => p.difference ?? p.sign!)),
    sign_unknown: per_seed.length - known.length,
  };
}

function pairSchemes(
  runs: readonly SeedCycles[],
  per: Record<string, SchemeCampaignSummary>,
  adaptive: string,
  baseline: string,
  targets: readonly number[],
): PairedSchemes {
  const seeds = runs.map((r) => r.seed);
  const a = per[adaptive];
  const b = per[baseline];
  const comparison = pairedComparison(a.final_accuracy.per_seed, b.final_accuracy.per_seed);
  return {
    adaptive,
    baseline,
    seeds,
    final_accuracy: {
      ...comparison,
      per_seed_difference: a.final_accuracy.per_seed.map((x, i) => x - b.final_accuracy.per_seed[i]),
    },
    cycles_to_target: Object.fromEntries(
      targets.map((t) => {
        const key = targetKey(t);
        return [key, pairCyclesToTarget(seeds, a.cycles_to_target[key].per_seed, b.cycles_to_target[key].per_seed, t)];
      }),
    ),
  };
}

export const SUMMARY_DEFINITIONS: Record<string, string> = {
  ci95: 'Student-t 95 % confidence interval of the mean over seeds (n − 1 degrees of freedom); null with fewer than two values',
  cycles_to_target:
    'first global cycle whose test accuracy is ≥ the target; null = not within the run. mean/sd/CI are over the seeds that reached it; `never` counts the others (not imputed)',
  final_accuracy: 'test accuracy (fraction) after the last cycle of the run',
  tau: "local iterations τ of the scheme in each seed's run (the fleet, hence τ, changes with the seed unless --fixed-fleet)",
  paired:
    "adaptive − baseline on the same seed (a user's scheme is paired as `adaptive` against every other scheme of the run). Cycles-to-target: a pair where only one scheme reached the target counts in the sign test with its known sign and is dropped from the mean/CI/t-test (dropped_from_t_test); a pair where neither reached is left out of both (sign_unknown). Sign test: exact two-sided binomial, ties dropped. t-test: two-sided paired t; null when fewer than two pairs or all differences equal",
};

/** Everything summary.json holds. `runs` are the seeds in campaign order; each must hold every scheme. */
export function summarizeCampaign(
  runs: readonly SeedCycles[],
  schemes: readonly string[] = schemesOf(runs),
  targets: readonly number[] = ACCURACY_TARGETS,
): CampaignSummary {
  if (runs.length === 0) throw new Error('a campaign summary needs at least one seed');
  const per_scheme: Record<string, SchemeCampaignSummary> = {};
  for (const scheme of schemes) per_scheme[scheme] = summarizeScheme(runs, scheme, targets);
  const builtinPairs = schemes.includes(BASELINE_SCHEME)
    ? ADAPTIVE_SCHEMES.filter((s) => schemes.includes(s)).map((s) =>
        pairSchemes(runs, per_scheme, s, BASELINE_SCHEME, targets),
      )
    : [];
  const paired = [...builtinPairs, ...userPairs(schemes).map(([a, b]) => pairSchemes(runs, per_scheme, a, b, targets))];
  return {
    seeds: runs.map((r) => r.seed),
    schemes: [...schemes],
    targets: [...targets],
    per_scheme,
    paired,
    definitions: SUMMARY_DEFINITIONS,
  };
}
