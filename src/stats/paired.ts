/**
 * Paired comparison of two schemes run on the same seeds (e.g. cycles-to-target of adaptive and ETA,
 * seed by seed): the differences d = a − b, a paired t-test and an exact sign test. The sign test
 * needs no normality, which matters with 3–10 seeds and integer-valued cycle counts.
 */
import { binomialCdf, studentTTwoSidedP } from './distributions.ts';
import { describe, type Summary } from './summary.ts';

/**
 * Why the t-test has no answer: fewer than two pairs, or every difference identical (zero variance —
 * t = mean/0 is undefined; a constant nonzero difference is strong evidence that the t-test cannot
 * quantify, so we report null instead of t = ±∞, p = 0, and leave the verdict to the sign test).
 */
export type TTestDegenerate = 'too_few_pairs' | 'zero_variance';

export interface PairedTTest {
  /** mean(d)/(sd(d)/√n); null when degenerate */
  t: number | null;
  /** n − 1; null when n < 2 */
  df: number | null;
  /** two-sided P(|T| ≥ |t|); null when degenerate */
  p_value: number | null;
  degenerate: TTestDegenerate | null;
}

export interface SignTest {
  /** pairs with a > b */
  n_positive: number;
  /** pairs with a < b */
  n_negative: number;
  /** pairs with a = b, dropped from the test */
  n_ties: number;
  /** exact two-sided p = min(1, 2·P[X ≤ min(pos, neg)]), X ~ Bin(pos + neg, ½); 1 when every pair ties */
  p_value: number;
}

export interface PairedComparison {
  /** number of pairs */
  n: number;
  mean_a: number | null;
  mean_b: number | null;
  /** describe() of d = a − b */
  difference: Summary;
  t_test: PairedTTest;
  sign_test: SignTest;
}

/** Exact two-sided sign test on the differences; zeros are ties and dropped (the usual convention). */
export function signTest(differences: readonly number[]): SignTest {
  let pos = 0;
  let neg = 0;
  let ties = 0;
  for (const d of differences) {
    if (Number.isNaN(d)) throw new RangeError('signTest: difference is NaN');
    if (d > 0) pos++;
    else if (d < 0) neg++;
    else ties++;
  }
  const n = pos + neg;
  // n = 0: P[X ≤ 0] = 1 for Bin(0, ½), so p = 1 — no evidence either way — falls out of the formula.
  const p = Math.min(1, 2 * binomialCdf(Math.min(pos, neg), n, 0.5));
  return { n_positive: pos, n_negative: neg, n_ties: ties, p_value: p };
}

/** Paired t-test on the differences (H0: mean difference 0), two-sided. See TTestDegenerate for the null cases. */
export function pairedTTest(differences: readonly number[]): PairedTTest {
  const n = differences.length;
  if (n < 2) return { t: null, df: null, p_value: null, degenerate: 'too_few_pairs' };
  const s = describe(differences);
  const df = n - 1;
  if (s.sd === 0) return { t: null, df, p_value: null, degenerate: 'zero_variance' };
  const t = s.mean! / s.se!;
  return { t, df, p_value: studentTTwoSidedP(t, df), degenerate: null };
}

/** Compare a and b pair by pair (a[i] and b[i] from the same seed). Lengths must match; values must be finite. */
export function pairedComparison(a: readonly number[], b: readonly number[]): PairedComparison {
  if (a.length !== b.length)
    throw new RangeError(`paired comparison needs equal lengths, got ${a.length} and ${b.length}`);
  const d = a.map((x, i) => x - b[i]);
  const difference = describe(d); // also rejects non-finite values
  return {
    n: a.length,
    mean_a: describe(a).mean,
    mean_b: describe(b).mean,
    difference,
    t_test: pairedTTest(d),
    sign_test: signTest(d),
  };
}
