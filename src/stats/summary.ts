/** Descriptive statistics of a small sample (one value per seed) with Student-t confidence intervals. */
import { studentTCritical } from './distributions.ts';

/** Mean with a 95 % CI; snake_case because it is written straight into summary.json. */
export interface Summary {
  n: number;
  /** null when n = 0 */
  mean: number | null;
  /** sample standard deviation (n − 1 denominator); null when n < 2 */
  sd: number | null;
  /** standard error sd/√n; null when n < 2 */
  se: number | null;
  /** mean ∓ t_{0.975, n−1}·se; null when n < 2 */
  ci95_low: number | null;
  ci95_high: number | null;
}

export interface Interval {
  level: number;
  low: number | null;
  high: number | null;
}

function checkFinite(values: readonly number[]): void {
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`statistics need finite values, got ${v}`);
}

// Two passes (mean, then squared deviations) rather than Σx² − n·mean², which cancels for values
// like cycle counts with a large common offset.
function meanAndSd(values: readonly number[]): { mean: number | null; sd: number | null } {
  const n = values.length;
  if (n === 0) return { mean: null, sd: null };
  // Identical values (e.g. the same cycle count on every seed) get exactly that mean and sd 0,
  // not the ±1 ulp that summing and dividing would give.
  if (values.every((v) => v === values[0])) return { mean: values[0], sd: n === 1 ? null : 0 };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  if (n === 1) return { mean, sd: null };
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  return { mean, sd: Math.sqrt(ss / (n - 1)) };
}

/**
 * Two-sided Student-t confidence interval for the mean at `level` (default 0.95), n − 1 df.
 * Fewer than two values give no interval (nulls): one seed says nothing about spread.
 * All-equal values give the zero-width interval [mean, mean].
 */
export function ci(values: readonly number[], level = 0.95): Interval {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
  checkFinite(values);
  const { mean, sd } = meanAndSd(values);
  if (mean === null || sd === null) return { level, low: null, high: null };
  const half = studentTCritical(level, values.length - 1) * (sd / Math.sqrt(values.length));
  return { level, low: mean - half, high: mean + half };
}

/** n, mean, sample sd, standard error and the 95 % Student-t CI of the mean. Non-finite values throw. */
export function describe(values: readonly number[]): Summary {
  checkFinite(values);
  const n = values.length;
  const { mean, sd } = meanAndSd(values);
  if (mean === null || sd === null) return { n, mean, sd: null, se: null, ci95_low: null, ci95_high: null };
  const se = sd / Math.sqrt(n);
  const half = studentTCritical(0.95, n - 1) * se;
  return { n, mean, sd, se, ci95_low: mean - half, ci95_high: mean + half };
}
