/**
 * The seed list of a campaign (`--seeds 5` = five seeds from --seed on, `--seeds 1,4,9` = exactly
 * those). Pure, no I/O.
 */
import { InputError } from '../errors.ts';

/** What one seed decides in a run — said once, in --help, the README and the reports. */
export const SEED_EFFECTS =
  'a seed fixes the fleet (learner positions → path loss → link rates), the initial weights, the data order of each cycle ' +
  '(and the mini-batch order on each learner), the --speed-jitter draws and the --drop-prob faults';

export const MAX_SEEDS = 1000;

/**
 * `raw` is the --seeds value: one integer N ≥ 1 is a count (seeds base … base + N − 1), a comma list
 * is the seeds themselves (integers ≥ 0, no repeats). Bad input is an InputError naming the flag.
 */
export function parseSeeds(raw: string, base: number, flag = '--seeds'): number[] {
  const text = raw.trim();
  if (text === '') throw new InputError(`${flag} needs a count (e.g. 5) or a list of seeds (e.g. 1,4,9)`);
  const isInt = (s: string) => /^\d+$/.test(s);
  if (!text.includes(',')) {
    if (!isInt(text))
      throw new InputError(`${flag} takes a count (an integer ≥ 1) or a comma list of seeds, got "${raw}"`);
    const n = Number(text);
    if (n < 1) throw new InputError(`${flag} ${raw}: a campaign needs at least 1 seed`);
    if (n > MAX_SEEDS) throw new InputError(`${flag} ${raw}: at most ${MAX_SEEDS} seeds`);
    return Array.from({ length: n }, (_, i) => base + i);
  }
  const items = text.split(',').map((s) => s.trim());
  const seeds: number[] = [];
  for (const item of items) {
    if (!isInt(item) || !Number.isSafeInteger(Number(item)))
      throw new InputError(`${flag}: "${item}" is not a seed (an integer ≥ 0); got "${raw}"`);
    const s = Number(item);
    if (seeds.includes(s)) throw new InputError(`${flag}: seed ${s} is listed twice`);
    seeds.push(s);
  }
  if (seeds.length > MAX_SEEDS) throw new InputError(`${flag}: at most ${MAX_SEEDS} seeds`);
  return seeds;
}
