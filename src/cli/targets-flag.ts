/** `--targets`: the accuracy levels the summaries count cycles to (experiment, campaign, sweep, report). */
import { ACCURACY_TARGETS, targetColumn } from '../run-folder/schema.ts';
import { UsageError } from './args.ts';

export const TARGETS_HELP =
  'accuracy targets as fractions of the test set, e.g. 0.9667,0.97: summary.json gets cycles_to_<t> and emulated_time_to_<t>_s per target ' +
  '(0.9667 → cycles_to_96_67), and the report and campaign statistics follow';

/** Fractions in (0, 1], each once, ascending; a percentage (97) is refused with the fraction to use. Absent: the defaults. */
export function parseTargets(values: readonly string[] | undefined): number[] {
  if (values === undefined) return [...ACCURACY_TARGETS];
  const targets = values.map((v) => {
    const t = Number(v);
    if (v.trim() === '' || !Number.isFinite(t))
      throw new UsageError(`--targets: "${v}" is not a number; give fractions like 0.9667,0.97`);
    if (t > 1 && t <= 100)
      throw new UsageError(
        `--targets ${v}: targets are fractions of the test set; for ${v} % write ${+(t / 100).toFixed(6)}`,
      );
    if (!(t > 0 && t <= 1)) throw new UsageError(`--targets ${v}: a target must be a fraction in (0, 1], e.g. 0.97`);
    return t;
  });
  if (targets.length === 0) throw new UsageError('--targets needs at least one fraction, e.g. 0.97');
  // Keys are kept to 0.01 %: 0.97 and 0.97001 would share cycles_to_97.
  if (new Set(targets.map(targetColumn)).size !== targets.length)
    throw new UsageError(`--targets ${values.join(',')}: each target once (to 0.0001)`);
  return [...targets].sort((a, b) => a - b);
}
