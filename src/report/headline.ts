/**
 * The one line at the top of report.html: which scheme reached which accuracy target in how many
 * cycles ("adaptive (optimal) reached 96.67 % in 5 cycles; ETA did not in 10"). Pure, from the
 * rows of cycles.csv, so it reads the same for a finished run and one in progress.
 */
import { accuracyTargetText, type CycleRow } from '../run-folder/schema.ts';
import { percent } from './format.ts';
import { orderSchemes, schemeLabel } from './schemes.ts';

const cyclesText = (n: number) => `${n} cycle${n === 1 ? '' : 's'}`;

/** Null when there are no rows. The target is the highest any scheme reached (else the lowest): the one that separates them. */
export function headline(rows: readonly CycleRow[], targets: readonly number[]): string | null {
  const schemes = orderSchemes(rows.map((r) => r.scheme)).map((scheme) => {
    const own = rows.filter((r) => r.scheme === scheme).sort((a, b) => a.cycle - b.cycle);
    const first = (t: number) => own.find((r) => r.testAccuracy >= t)?.cycle ?? null;
    return { scheme, first, last: own[own.length - 1] };
  });
  if (schemes.length === 0 || targets.length === 0) return null;
  const sorted = [...targets].sort((a, b) => a - b);
  const reached = sorted.filter((t) => schemes.some((s) => s.first(t) !== null));
  const target = reached.length ? reached[reached.length - 1] : sorted[0];
  const goal = accuracyTargetText(target);
  if (!reached.length)
    return `No scheme reached ${goal}: ${schemes.map((s) => `${schemeLabel(s.scheme)} ${percent(s.last.testAccuracy)} after ${cyclesText(s.last.cycle)}`).join(', ')}.`;
  // Those that reached it lead, fastest first; the rest keep the run's order.
  const rank = (s: (typeof schemes)[number]) => s.first(target) ?? Number.POSITIVE_INFINITY;
  const parts = [...schemes]
    .sort((a, b) => rank(a) - rank(b))
    .map((s, i) => {
      const c = s.first(target);
      const name = schemeLabel(s.scheme);
      if (c !== null) return `${name} reached ${i === 0 ? goal : 'it'} in ${cyclesText(c)}`;
      return `${name} did not${i === 0 ? ` reach ${goal}` : ''} in ${cyclesText(s.last.cycle)}`;
    });
  return `${parts.join('; ')}.`;
}
