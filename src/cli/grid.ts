/** The values of a sweep's list flags (--K, --T), checked one by one. */
import { UsageError } from './args.ts';

/** The grid's values of one list flag: integers in [min, max] (K) or numbers > 0 (T); duplicates refused. */
export function gridValues(raw: string[], flag: string, integer: boolean, max = Infinity): number[] {
  const values: number[] = [];
  for (const item of raw) {
    const v = Number(item);
    const ok =
      item.trim() !== '' && Number.isFinite(v) && (integer ? Number.isInteger(v) && v >= 1 : v > 0) && v <= max;
    const wanted = integer ? `an integer in 1..${max}` : max < Infinity ? `a number > 0 and <= ${max}` : 'a number > 0';
    if (!ok) throw new UsageError(`--${flag}: "${item}" is not ${wanted}; got "${raw.join(',')}"`);
    if (values.includes(v)) throw new UsageError(`--${flag}: ${v} is listed twice`);
    values.push(v);
  }
  return values;
}
