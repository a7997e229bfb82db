/**
 * `npm run experiment -- … --seeds 5`: the experiment once per seed, then statistics over the
 * seeds. Called by src/cli/experiment.ts when --seeds (or --fixed-fleet) is given; thin like every
 * CLI: parse, run the campaign (src/campaign), print where things are.
 */
import { join } from 'node:path';
import { runCampaign } from '../campaign/campaign.ts';
import { campaignTable } from '../campaign/format.ts';
import { formatDuration } from '../campaign/progress.ts';
import { monotonicSeconds } from '../emulation/clock.ts';
import { parseSeeds } from '../campaign/seeds.ts';
import type { RunEvent } from '../orchestrator/events.ts';
import type { ExperimentConfig } from '../orchestrator/config.ts';
import { PROJECT_ROOT } from '../util/project-root.ts';
import { UsageError } from './args.ts';
import type { RunArgs } from './experiment.ts';
import { runEventLines } from './run-events.ts';
import { openRunDashboard, type RunDashboard } from './dashboard-flags.ts';
import { onStopSignals } from './stop-signals.ts';

/** The flags every campaign command shares. */
/** Ctrl-C / SIGTERM: the first stops the running seed (its completed cycles stay); a second exits at once. */
export function interruptible(what: string): AbortController {
  const abort = new AbortController();
  onStopSignals(
    (sig) => {
      process.stderr.write(`\n${sig}: stopping the running ${what} (press Ctrl-C again to quit at once)\n`);
      abort.abort();
    },
    (sig) => {
      process.stderr.write(`\n${sig}: exiting now\n`);
      process.exit(130);
    },
  );
  return abort;
}

/** Campaign lines and each run's event lines (labelled with the run) on stderr. */
export function consoleOutput(): { log: (line: string) => void; onEvent: (event: RunEvent, label: string) => void } {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const linesOf = new Map<string, ReturnType<typeof runEventLines>>(); // one per run (label)
  return {
    log,
    onEvent: (event, label) => {
      if (!linesOf.has(label)) linesOf.set(label, runEventLines());
      const text = linesOf.get(label)!(event);
      if (text) for (const line of text.split('\n')) if (line) log(`[${label}] ${line}`);
    },
  };
}

/** The console's event lines, and the dashboard's view when --dashboard is on. */
export function withDashboard(
  onEvent: (event: RunEvent, label: string) => void,
  dashboard: RunDashboard | null,
): (event: RunEvent, label: string) => void {
  if (!dashboard) return onEvent;
  return (event, label) => {
    onEvent(event, label);
    dashboard.onEvent(event, label);
  };
}

export function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

export async function campaignMain(
  args: RunArgs,
  configFromArgs: (args: RunArgs) => ExperimentConfig,
): Promise<number> {
  if (args.seeds === undefined)
    throw new UsageError('--fixed-fleet applies to campaigns: give --seeds too (e.g. --seeds 5)');
  if (args.resume)
    throw new UsageError(
      '--resume continues one run; to continue a campaign, rerun the same command (same --out): finished seeds are skipped',
    );
  if (args.external) throw new UsageError('--seeds runs spawned learners; it cannot be combined with --external');
  const seeds = parseSeeds(args.seeds, args.seed);
  const base = configFromArgs(args);
  const out = args.out ?? join(PROJECT_ROOT, 'results', `${stamp()}-K${base.K}-T${base.T}-seeds${seeds.length}`);
  const abort = interruptible('seed');
  const { log, onEvent } = consoleOutput();
  const dashboard = await openRunDashboard(args, log);
  for (const seed of seeds) dashboard?.plan(`seed ${seed}`, base.cycles * base.schemes.length);
  const started = monotonicSeconds();
  log(`campaign folder: ${out}`);
  const result = await runCampaign(base, {
    out,
    seeds,
    fixedFleet: args.fixedFleet,
    report: args.report !== false,
    seedReports: args.report !== false,
    log,
    onEvent: withDashboard(onEvent, dashboard),
    signal: abort.signal,
  }).finally(() => dashboard?.close());
  if (result.interrupted) {
    process.stderr.write(
      `interrupted after ${formatDuration(monotonicSeconds() - started)}: finished seeds are kept in ${out}; rerun the same command to continue (finished seeds are skipped)\n`,
    );
    return 130;
  }
  for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  process.stderr.write(
    `\n${campaignTable(result.summary!)}\n\ncampaign of ${seeds.length} seeds took ${formatDuration(monotonicSeconds() - started)}; aggregate: ${join(out, 'aggregate.csv')}, ${join(out, 'summary.json')}`,
  );
  process.stderr.write(args.report !== false ? `, report: ${join(out, 'report.html')}\n` : '\n');
  process.stdout.write(args.json ? JSON.stringify(result.summary, null, 2) + '\n' : `${out}\n`);
  return 0;
}
