/**
 * Cycles to reach a target test accuracy, per seed and summarised over seeds.
 *
 * Seeds that never reach the target within the run are counted in `never` and left out of the mean
 * and CI, not imputed: any stand-in (the run length, run length + 1, …) would be an invented number
 * that moves the mean with the arbitrary run length. So read `mean` together with `never` — a mean
 * over 2 of 5 seeds describes only the seeds that got there.
 */
import { describe } from './summary.ts';

export interface AccuracyPoint {
  cycle: number;
  /** test accuracy as a fraction in [0, 1] */
  accuracy: number;
}

export interface CyclesToTargetSummary {
  /** number of seeds */
  seeds: number;
  /** seeds that reached the target (the n of the statistics below) */
  reached: number;
  /** seeds that did not reach it within their run */
  never: number;
  /** over the seeds that reached it; null when none did */
  mean: number | null;
  /** null when fewer than two seeds reached it */
  sd: number | null;
  se: number | null;
  ci95_low: number | null;
  ci95_high: number | null;
}

export interface CyclesToTargetOverSeeds extends CyclesToTargetSummary {
  target: number;
  /** cycles to target per seed, in input order; null = never reached */
  per_seed: (number | null)[];
}

function checkTarget(target: number): void {
  // A percentage (96.67) passed by mistake would silently give "never" everywhere.
  if (!(target > 0 && target <= 1)) throw new RangeError(`accuracy target must be a fraction in (0, 1], got ${target}`);
}

/** The first cycle (by cycle number, whatever the array order) whose accuracy is ≥ target, or null. */
export function cyclesToTarget(series: readonly AccuracyPoint[], target: number): number | null {
  checkTarget(target);
  let first: number | null = null;
  for (const p of series) if (p.accuracy >= target && (first === null || p.cycle < first)) first = p.cycle;
  return first;
}

/** Summarise per-seed cycles-to-target (null = never reached) — see the module comment for why nulls are not imputed. */
export function summarizeCyclesToTarget(perSeed: readonly (number | null)[]): CyclesToTargetSummary {
  const reached = perSeed.filter((c): c is number => c !== null);
  const s = describe(reached);
  return {
    seeds: perSeed.length,
    reached: reached.length,
    never: perSeed.length - reached.length,
    mean: s.mean,
    sd: s.sd,
    se: s.se,
    ci95_low: s.ci95_low,
    ci95_high: s.ci95_high,
  };
}

/** cyclesToTarget on each seed's series, then summarizeCyclesToTarget. */
export function cyclesToTargetOverSeeds(
  seriesBySeed: readonly (readonly AccuracyPoint[])[],
  target: number,
): CyclesToTargetOverSeeds {
  checkTarget(target);
  const perSeed = seriesBySeed.map((s) => cyclesToTarget(s, target));
  return { target, per_seed: perSeed, ...summarizeCyclesToTarget(perSeed) };
}
