/**
 * An allocation scheme for the MEL emulator in TypeScript: batches proportional to compute speed,
 * then the largest common τ (the same heuristic as proportional.py). It works both ways:
 *   as a module:  --scheme-module mine=examples/schemes/proportional.ts
 *   as a process: --scheme-cmd "mine=npx tsx examples/schemes/proportional.ts"
 * The messages are described in docs/schemes.md.
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

interface Learner {
  id: number;
  c0: number;
  c1: number;
  c2: number;
}
interface Problem {
  scheme: string;
  cycle: number;
  T_s: number;
  d: number;
  learners: Learner[];
}
type Answer = { batch: number[]; tau: number } | { infeasible: string };

/** One τ for every learner (the answer's "tau" is a single integer). */
export const kind = 'common-tau';

/** Integer batches proportional to `speeds`, summing to d: floors, then the largest remainders. */
function proportionalBatches(speeds: number[], d: number): number[] {
  const total = speeds.reduce((s, x) => s + x, 0);
  const exact = speeds.map((s) => (d * s) / total);
  const batch = exact.map(Math.floor);
  const left = d - batch.reduce((s, x) => s + x, 0);
  const byRemainder = exact.map((_, k) => k).sort((i, j) => exact[j] - batch[j] - (exact[i] - batch[i]) || i - j);
  for (const k of byRemainder.slice(0, left)) batch[k]++;
  return batch;
}

/** The same arithmetic as the emulator's check: c2·τ·d + c1·d + c0 ≤ T_s. */
const fits = (l: Learner, tau: number, d: number, T_s: number) => l.c2 * tau * d + l.c1 * d + l.c0 <= T_s;

export function allocate(problem: Problem): Answer {
  const { learners, T_s, d } = problem;
  // c2 = C_m/f_k: speed ∝ 1/c2. A learner that cannot even exchange the model (c0 ≥ T_s) gets nothing.
  const speeds = learners.map((l) => (l.c0 < T_s ? 1 / l.c2 : 0));
  if (!speeds.some((s) => s > 0)) return { infeasible: 'no learner can exchange the model within T_s' };
  const batch = proportionalBatches(speeds, d);
  const taus = learners.flatMap((l, k) => {
    if (batch[k] === 0) return [];
    let tau = Math.floor((T_s - l.c0 - l.c1 * batch[k]) / (l.c2 * batch[k]));
    while (tau > 0 && !fits(l, tau, batch[k], T_s)) tau--;
    return [tau];
  });
  const tau = Math.min(...taus);
  if (tau < 1) return { infeasible: `batches proportional to speed leave no time for one iteration (T_s = ${T_s} s)` };
  return { batch, tau };
}

// As a process: one problem per line in, one answer per line out.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => process.stdout.write(JSON.stringify(allocate(JSON.parse(line))) + '\n'));
}
