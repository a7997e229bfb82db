/**
 * `npm run report -- FOLDER [--cycle N] [--out DIR]`: render the charts (SVG + PNG) and the
 * self-contained report.html of a run folder (also one still running), a campaign or a sweep, and
 * list the files written. By default they go into the folder itself (that is where the commands
 * put them too); `--out DIR` leaves it untouched. Several run folders: one overlay into --out.
 */
import { folderKind, renderCampaignFolder, renderSweepFolder } from '../campaign/folder-report.ts';
import { InputError } from '../errors.ts';
import { parseOrHelp, runCli, UsageError, defineCommand, userPath } from './args.ts';
import { flagsFor } from './settings.ts';
import { renderRunReport } from '../report/index.ts';
import { renderOverlay } from '../report/overlay.ts';
import { parseTargets } from './targets-flag.ts';

const SPEC = defineCommand({
  command: 'npm run report --',
  summary:
    'Render the charts (SVG + PNG) and a self-contained report.html of a run folder (one still running too: from the cycles so far),\n' +
    'a campaign folder (--seeds) or a sweep folder. They are written into the folder itself, replacing the charts and report.html there,\n' +
    'unless --out DIR is given: then they go to DIR and the folder is not modified. Several run folders: one accuracy chart with a line\n' +
    'per run × scheme, cycles.csv with a run column and report.html, into --out DIR.',
  positionals: [
    {
      name: 'folder',
      help: 'folder written by `npm run experiment` (a run, or a campaign with --seeds) or `npm run sweep`',
      required: true,
    },
    { name: 'more-run-folders', help: 'further run folders to overlay on the first (needs --out)', repeats: true },
  ],
  flags: flagsFor('report'),
  examples: [
    'npm run report -- results/my-run',
    'npm run report -- results/reference-K20-T12 --cycle 1 --out /tmp/ref-cycle1',
    'npm run report -- results/reference-K20-T12 --targets 0.95,0.97 --json --out /tmp/ref-95',
    'npm run report -- results/async/K20-T12-fedavg --out /tmp/async-campaign',
    'npm run report -- results/async/K20-T12-fedavg/seed-1 results/async/K20-T12-fednova/seed-1 --out /tmp/fedavg-vs-fednova',
  ],
});

async function main(): Promise<number> {
  const args = parseOrHelp(process.argv.slice(2), SPEC);
  const targets = args.targets === undefined ? undefined : parseTargets(args.targets);
  const fonts = { fontFiles: args.font ? [args.font] : undefined };
  const out = args.out;
  const folders = args._.map((f) => userPath(f));
  let result: { files: string[]; warnings: string[]; summary?: unknown };
  if (folders.length > 1) {
    if (out === undefined)
      throw new UsageError(
        `${folders.length} run folders: give --out DIR for the overlay (the run folders are not modified)`,
      );
    if (args.cycle !== undefined)
      throw new UsageError('--cycle picks the timeline of one run; it does not apply to an overlay');
    const overlay = await renderOverlay(folders, { ...fonts, outDir: out, targets });
    result = {
      files: overlay.files,
      warnings: [],
      summary: Object.fromEntries(overlay.runs.map((r) => [r.name, r.data.summary])),
    };
  } else {
    const kind = folderKind(folders[0]);
    if (kind.kind === 'other') throw new InputError(kind.message);
    if (kind.kind !== 'run' && args.cycle !== undefined)
      throw new UsageError(
        `--cycle picks a run's timeline; ${folders[0]} is a ${kind.kind} folder (report one of its seed-S/ runs)`,
      );
    if (kind.kind === 'campaign') result = await renderCampaignFolder(folders[0], { outDir: out, fonts, targets });
    else if (kind.kind === 'sweep') {
      const sweep = await renderSweepFolder(folders[0], { outDir: out, fonts, targets });
      result = { ...sweep, summary: sweep.cells.map((c) => ({ K: c.K, T: c.T, summary: c.summary })) };
    } else
      result = await renderRunReport(folders[0], {
        cycle: args.cycle,
        outDir: out,
        targets,
        ...fonts,
      });
  }
  for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  const list = `wrote ${result.files.length} files:\n${result.files.map((f) => `  ${f}\n`).join('')}`;
  if (args.json) {
    process.stderr.write(list);
    process.stdout.write(JSON.stringify(result.summary ?? null, null, 2) + '\n');
  } else process.stdout.write(list);
  return 0;
}

runCli(main);
