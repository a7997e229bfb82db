/**
 * `npm run report -- results/<run> [--cycle N] [--out DIR]`: render the charts (SVG + PNG) and
 * the self-contained report.html and list the files written. By default they go into the run
 * folder (that is where `npm run experiment` puts them too); `--out DIR` leaves the run folder
 * untouched, e.g. to look at a committed reference run without modifying it.
 */
import { parseOrHelp, runCli, type CommandSpec } from './args.ts';
import { flagsFor } from './settings.ts';
import { renderRunReport } from '../report/index.ts';

const SPEC: CommandSpec = {
  command: 'npm run report --',
  summary:
    'Render the charts (SVG + PNG) and a self-contained report.html of a run folder. They are written into the run folder itself, ' +
    'replacing the charts and report.html there, unless --out DIR is given: then they go to DIR and the run folder is not modified.',
  positionals: [{ name: 'run-folder', help: 'folder written by `npm run experiment` (config.json, cycles.csv, learners.csv, summary.json)', required: true }],
  flags: flagsFor('report'),
  examples: ['npm run report -- results/my-run', 'npm run report -- results/reference-K20-T12 --cycle 1 --out /tmp/ref-cycle1'],
};

runCli(async () => {
  const args = parseOrHelp(process.argv.slice(2), SPEC);
  const { files, warnings } = await renderRunReport(args._[0], {
    cycle: args.cycle as number | undefined,
    outDir: args.out as string | undefined,
    fontFiles: args.font ? [args.font as string] : undefined,
  });
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(`wrote ${files.length} files:\n${files.map((f) => `  ${f}\n`).join('')}`);
});
