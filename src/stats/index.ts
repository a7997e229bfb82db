/** Statistics over seeds: means with Student-t CIs, paired tests of two schemes, cycles-to-target. Pure, no I/O. */
export {
  logGamma,
  logBeta,
  logChoose,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTPdf,
  studentTTwoSidedP,
  studentTQuantile,
  studentTCritical,
  binomialPmf,
  binomialCdf,
} from './distributions.ts';
export { describe, ci, type Summary, type Interval } from './summary.ts';
export {
  pairedComparison,
  pairedTTest,
  signTest,
  type PairedComparison,
  type PairedTTest,
  type SignTest,
  type TTestDegenerate,
} from './paired.ts';
export {
  cyclesToTarget,
  summarizeCyclesToTarget,
  cyclesToTargetOverSeeds,
  type AccuracyPoint,
  type CyclesToTargetSummary,
  type CyclesToTargetOverSeeds,
} from './cycles-to-target.ts';
