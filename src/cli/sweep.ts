/**
 * `npm run sweep -- --K 10,20,40 --T 12,30,60 --seeds 3 [experiment flags]`: a campaign per (K, T)
 * cell, then sweep.csv and charts against T and K. Every experiment flag works here (same spec);
 * rerun the same command to continue: finished cells are not rerun.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseSeeds } from '../campaign/seeds.ts';
import { cellFolder, runSweep, sweepHeader, sweepRows, type SweepResult } from '../campaign/sweep.ts';
import { seedFolder } from '../campaign/campaign.ts';
import { writeFileAtomic } from '../orchestrator/store/run-files.ts';
import { formatDuration } from '../campaign/progress.ts';
import { monotonicSeconds } from '../emulation/clock.ts';
import { PROJECT_ROOT } from '../util/project-root.ts';
import { MAX_T_S } from '../allocation/feasibility.ts';
import { defineCommand, parseOrHelp, printConfig, runCli } from './args.ts';
import type { RunEvent } from '../orchestrator/events.ts';
import { consoleOutput, interruptible, stamp, withDashboard } from './campaign.ts';
import { openRunDashboard } from './dashboard-flags.ts';
import { configFromArgs, spawnedRunArgs } from './experiment.ts';
import { type ArgsOf, flagsFor, otherSettings, setting } from './settings.ts';
import { gridValues } from './grid.ts';

export const spec = defineCommand({
  command: 'npm run sweep --',
  summary:
    'Sweep K and T: for every (K, T) cell run the adaptive-vs-ETA comparison once per seed (a campaign in OUT/K<K>-T<T>/),\n' +
    'then write OUT/sweep.csv (one row per cell × scheme: τ, final accuracy, cycles to 96.67 % / 97 %, each mean and 95 % CI\n' +
    'over seeds, and how many seeds never reached a target), charts against T and K, and report.html.\n' +
    'Rerun the same command to continue an interrupted sweep: finished cells are not rerun. Every experiment flag applies to every cell.',
  otherSettings: otherSettings('sweep'),
  flags: flagsFor('sweep'),
  configTables: ['sweep'],
  examples: [
    'npm run sweep -- --K 10,20,40 --T 12,30,60 --seeds 3',
    'npm run sweep -- --K 10,20 --T 30 --seeds 1,2,3 --cycles 5 --train-samples 20000 --out results/sweep-small',
    'npm run sweep -- --K 20 --T 12 --seeds 1 --schemes optimal,energy --energy-j 4,8,16 --cycles 3',
    'npm run sweep -- --config experiments/sweep-small.toml',
  ],
});

async function main(): Promise<number> {
  const args = parseOrHelp(process.argv.slice(2), spec);
  const Ks = gridValues(args.K, 'K', true, setting('K').max);
  const Ts = gridValues(args.T, 'T', false, MAX_T_S);
  const seeds = parseSeeds(args.seeds, args.seed);
  const budgets = args.energyJ === undefined ? [undefined] : gridValues(args.energyJ, 'energy-j', false);
  // Checked with the smallest K, so a --fail learner exists in every cell.
  const base = configFromArgs(spawnedRunArgs(args, { K: Math.min(...Ks), T: Ts[0], energyJ: budgets[0] }));
  if (args.printConfig) {
    printConfig(spec, args);
    return 0;
  }
  const out = args.out ?? join(PROJECT_ROOT, 'results', `sweep-${stamp()}`);
  if (budgets[0] !== undefined) return energySweep(args, budgets as number[], out, { Ks, Ts, seeds });
  const abort = interruptible('cell');
  const { log, onEvent } = consoleOutput();
  const dashboard = await openRunDashboard(args, log);
  const started = monotonicSeconds();
  log(`sweep folder: ${out}`);
  const result = await runSweep(base, {
    out,
    Ks,
    Ts,
    seeds,
    fixedFleet: args.fixedFleet,
    report: args.report !== false,
    log,
    onEvent: withDashboard(onEvent, dashboard),
    signal: abort.signal,
  }).finally(() => dashboard?.close());
  if (result.interrupted) {
    process.stderr.write(
      `interrupted after ${formatDuration(monotonicSeconds() - started)}: finished cells and seeds are kept in ${out}; rerun the same command to continue\n`,
    );
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

/** One sweep per energy budget (OUT/E<budget>/), then OUT/energy_sweep.csv: each row one budget × cell × scheme. */
async function energySweep(
  args: ArgsOf<'sweep'>,
  budgets: number[],
  out: string,
  grid: { Ks: number[]; Ts: number[]; seeds: number[] },
): Promise<number> {
  const abort = interruptible('cell');
  const { log, onEvent: toConsole } = consoleOutput();
  const dashboard = await openRunDashboard(args, log);
  const onEvent = withDashboard(toConsole, dashboard);
  const started = monotonicSeconds();
  log(`energy sweep folder: ${out} (budgets ${budgets.join(', ')} J)`);
  const done: { budget: number; result: SweepResult }[] = [];
  for (const budget of budgets) {
    const config = configFromArgs(spawnedRunArgs(args, { K: Math.min(...grid.Ks), T: grid.Ts[0], energyJ: budget }));
    // Each budget's runs apart on the dashboard: "E=4 J K=10 T=12 seed 3".
    const labelled = (e: RunEvent, label: string) => onEvent(e, `E=${budget} J ${label}`);
    const result = await runSweep(config, {
      out: join(out, `E${budget}`),
      ...grid,
      fixedFleet: args.fixedFleet,
      report: args.report !== false,
      log,
      onEvent: labelled,
      signal: abort.signal,
    });
    if (result.interrupted) {
      await dashboard?.close();
      process.stderr.write(
        `interrupted after ${formatDuration(monotonicSeconds() - started)}: finished cells are kept in ${out}; rerun the same command to continue\n`,
      );
      return 130;
    }
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    done.push({ budget, result });
  }
  await dashboard?.close();
  const targets = done[0].result.cells[0].summary.targets;
  const header = ['energy_j', ...sweepHeader(targets), 'energy_per_cycle_j_mean', 'max_learner_cycle_j'];
  const lines = [header.join(',')];
  for (const { budget, result } of done)
    for (const row of sweepRows(result.cells)) {
      const energy = seedEnergy(
        cellFolder(join(out, `E${budget}`), Number(row.K), Number(row.T)),
        grid.seeds,
        String(row.scheme),
      );
      const full: Record<string, unknown> = {
        energy_j: budget,
        ...row,
        energy_per_cycle_j_mean: energy.mean,
        max_learner_cycle_j: energy.max,
      };
      lines.push(header.map((h) => (full[h] === null || full[h] === undefined ? '' : String(full[h]))).join(','));
    }
  const file = join(out, 'energy_sweep.csv');
  writeFileAtomic(file, lines.join('\n') + '\n');
  process.stderr.write(
    `energy sweep of ${budgets.length} budgets took ${formatDuration(monotonicSeconds() - started)}: ${file}\n`,
  );
  process.stdout.write(`${out}\n`);
  return 0;
}

/** Joules per cycle of one scheme, mean over the seeds' runs, and the most one learner spent in a cycle. */
function seedEnergy(cellDir: string, seeds: number[], scheme: string): { mean: number | null; max: number | null } {
  const values = seeds
    .map((seed) => join(seedFolder(cellDir, seed), 'summary.json'))
    .filter((f) => existsSync(f))
    .map((f) => JSON.parse(readFileSync(f, 'utf8')).schemes?.[scheme]?.energy)
    .filter((e) => e);
  if (values.length === 0) return { mean: null, max: null };
  return {
    mean: values.reduce((s, e) => s + e.mean_per_cycle_j, 0) / values.length,
    max: Math.max(...values.map((e) => e.max_learner_cycle_j)),
  };
}

// Run only as a script, so that tests can read the flag spec without side effects.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) runCli(main);
