/**
 * `npm run sweep -- --K 10,20,40 --T 12,30,60 --seeds 3 [experiment flags]`: a campaign per (K, T)
 * cell, then sweep.csv and charts against T and K. Every experiment flag works here (same spec);
 * rerun the same command to continue: finished cells are not rerun.
 */
import { join } from 'node:path';
import { parseSeeds, SEED_EFFECTS } from '../campaign/seeds.ts';
import { runSweep } from '../campaign/sweep.ts';
import { formatDuration } from '../campaign/progress.ts';
import { monotonicSeconds } from '../emulation/clock.ts';
import { PROJECT_ROOT } from '../orchestrator/spawn.ts';
import { parseOrHelp, runCli, type CommandSpec, type FlagSpec } from './args.ts';
import { consoleOutput, interruptible, stamp } from './campaign.ts';
import { configFromArgs, spec as experimentSpec } from './experiment.ts';
import { gridValues } from './grid.ts';

// Replaced by the grid's lists, or meaningless for a sweep (a sweep resumes by rerunning it).
const NOT_FOR_SWEEP = new Set(['K', 'T', 'resume', 'external', 'host', 'port', 'token', 'learners', 'out', 'seeds', 'fixed-fleet']);
const byName = (name: string) => experimentSpec.flags.find((f) => f.name === name)!;

export const spec: CommandSpec = {
  command: 'npm run sweep --',
  summary:
    'Sweep K and T: for every (K, T) cell run the adaptive-vs-ETA comparison once per seed (a campaign in OUT/K<K>-T<T>/),\n' +
    'then write OUT/sweep.csv (one row per cell × scheme: τ, final accuracy, cycles to 96.67 % / 97 %, each mean and 95 % CI\n' +
    'over seeds, and how many seeds never reached a target), charts against T and K, and report.html.\n' +
    'Rerun the same command to continue an interrupted sweep: finished cells are not rerun. Every experiment flag applies to every cell.',
  flags: [
    { name: 'K', type: 'list', default: ['10', '20'], unit: 'learners', help: 'learner counts of the grid, e.g. 10,20,40' },
    { name: 'T', type: 'list', default: ['12', '30'], unit: 's', help: 'global cycle clocks of the grid, e.g. 12,30,60' },
    { ...byName('seeds'), default: '3', help: `seeds per cell: N = N seeds from --seed on, or a list like 1,4,9 (each in OUT/K<K>-T<T>/seed-S/); ${SEED_EFFECTS}` },
    byName('fixed-fleet'),
    { name: 'out', type: 'string', help: 'sweep folder (default results/sweep-<timestamp>); rerun with the same --out to continue' },
    ...experimentSpec.flags.filter((f: FlagSpec) => !NOT_FOR_SWEEP.has(f.name)),
  ],
  examples: [
    'npm run sweep -- --K 10,20,40 --T 12,30,60 --seeds 3',
    'npm run sweep -- --K 10,20 --T 30 --seeds 1,2,3 --cycles 5 --train-samples 20000 --out results/sweep-small',
  ],
};

async function main(): Promise<number> {
  const args = parseOrHelp(process.argv.slice(2), spec);
  const Ks = gridValues(args.K, 'K', true, byName('K').max);
  const Ts = gridValues(args.T, 'T', false);
  const seeds = parseSeeds(args.seeds, args.seed);
  // Checked with the smallest K, so a --fail learner exists in every cell.
  const base = configFromArgs({ ...args, K: Math.min(...Ks), T: Ts[0], external: false, host: '127.0.0.1', port: 0, learners: undefined });
  const out = args.out ?? join(PROJECT_ROOT, 'results', `sweep-${stamp()}`);
  const abort = interruptible('cell');
  const { log, onEvent } = consoleOutput();
  const started = monotonicSeconds();
  log(`sweep folder: ${out}`);
  const result = await runSweep(base, { out, Ks, Ts, seeds, fixedFleet: args.fixedFleet, report: args.report !== false, log, onEvent, signal: abort.signal });
  if (result.interrupted) {
    process.stderr.write(`interrupted after ${formatDuration(monotonicSeconds() - started)}: finished cells and seeds are kept in ${out}; rerun the same command to continue\n`);
    return 130;
  }
  for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  const ran = result.cells.filter((c) => c.status === 'ran').length;
  process.stderr.write(
    `sweep of ${result.cells.length} cells (${ran} run now, ${result.cells.length - ran} finished before) took ${formatDuration(monotonicSeconds() - started)}: ${join(out, 'sweep.csv')}` +
      (args.report !== false ? `, ${join(out, 'report.html')}\n` : '\n'),
  );
  process.stdout.write(`${out}\n`);
  return 0;
}

runCli(main);
