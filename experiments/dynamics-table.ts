/**
 * `npx tsx experiments/dynamics-table.ts CAMPAIGN_DIR`: the README table of a campaign in a changing
 * world — per scheme, the deadline-miss rate pooled over seeds (with a 95 % Wilson interval: is it
 * within ε?), mean τ, updates averaged per cycle, cycles to 96.67 % / 97 % per seed, final accuracy.
 * Reads each OUT/seed-S/ run folder through the run-folder readers.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCycles, parseLearners } from '../src/run-folder/read.ts';
import { ACCURACY_TARGETS } from '../src/run-folder/schema.ts';

/** 95 % Wilson score interval of a binomial proportion. */
function wilson(successes: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = successes / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

const pct = (x: number, digits = 1) => `${(100 * x).toFixed(digits)} %`;

function main(dir: string): void {
  const seeds = readdirSync(dir)
    .filter((d) => /^seed-\d+$/.test(d) && existsSync(join(dir, d, 'cycles.csv')))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  if (seeds.length === 0) throw new Error(`${dir}: no seed-S/cycles.csv`);
  const runs = seeds.map((s) => {
    const f = (name: string) => join(dir, s, name);
    return {
      seed: s.slice(5),
      cycles: parseCycles(readFileSync(f('cycles.csv'), 'utf8'), f('cycles.csv')),
      learners: parseLearners(readFileSync(f('learners.csv'), 'utf8'), f('learners.csv')),
    };
  });
  const config = JSON.parse(readFileSync(join(dir, seeds[0], 'config.json'), 'utf8'));
  const schemes: string[] = config.schemes;
  const rows = schemes.map((scheme) => {
    let late = 0;
    let timed = 0;
    const taus: number[] = [];
    const updates: number[] = [];
    const finals: number[] = [];
    const toTarget = ACCURACY_TARGETS.map(() => [] as string[]);
    for (const run of runs) {
      const cycles = run.cycles.filter((c) => c.scheme === scheme).sort((a, b) => a.cycle - b.cycle);
      const learners = run.learners.filter((l) => l.scheme === scheme && l.batch > 0 && l.status !== 'missing');
      late += learners.filter((l) => l.status === 'late').length;
      timed += learners.length;
      taus.push(...cycles.map((c) => c.tau));
      updates.push(...cycles.map((c) => c.updatesAggregated ?? NaN));
      finals.push(cycles.at(-1)!.testAccuracy);
      ACCURACY_TARGETS.forEach((t, i) =>
        toTarget[i].push(String(cycles.find((c) => c.testAccuracy >= t)?.cycle ?? '—')),
      );
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [lo, hi] = wilson(late, timed);
    return [
      scheme,
      `${pct(late / timed)} (${late}/${timed}; 95 % CI ${pct(lo)}–${pct(hi)})`,
      mean(taus).toFixed(2),
      mean(updates).toFixed(1),
      ...toTarget.map((t) => (t.every((x) => x === '—') ? 'not reached' : t.join(' / '))),
      `${pct(mean(finals), 2)} (${finals.map((f) => pct(f, 2)).join(' / ')})`,
    ];
  });
  const head = [
    'scheme',
    'deadline-miss rate (pooled)',
    'mean τ',
    'updates / cycle',
    'cycles to 96.67 % (per seed)',
    'cycles to 97 % (per seed)',
    'final accuracy: mean (per seed)',
  ];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  process.stdout.write(
    [
      `${runs.length} seeds (${runs.map((r) => r.seed).join(', ')}), ${config.cycles} cycles each, ${dir}`,
      '',
      line(head),
      line(head.map(() => '---')),
      ...rows.map(line),
    ].join('\n') + '\n',
  );
}

main(process.argv[2] ?? '.');
