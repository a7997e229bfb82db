/**
 * `npm run report -- results/<run> [--cycle N]`: render the charts (SVG + PNG) and the
 * self-contained report.html into a run folder and list the files written.
 */
import { parseOrHelp, runCli, type CommandSpec } from './args.ts';
import { renderRunReport } from '../report/index.ts';

const SPEC: CommandSpec = {
  command: 'npm run report --',
  summary: 'Render accuracy/loss/τ/timeline charts (SVG + PNG) and a self-contained report.html into a run folder.',
  positionals: [{ name: 'run-folder', help: 'folder written by `npm run experiment` (config.json, cycles.csv, learners.csv, summary.json)', required: true }],
  flags: [
    { name: 'cycle', type: 'int', min: 1, help: 'global cycle shown in the timeline chart (default: the last cycle in learners.csv)', unit: 'cycle' },
    { name: 'font', type: 'string', env: 'MEL_FONT_FILE', help: 'extra .ttf/.otf font for the PNG text (only needed on a machine without system fonts)' },
  ],
  examples: ['npm run report -- results/reference-K20-T12', 'npm run report -- results/reference-K20-T12 --cycle 1'],
};

runCli(async () => {
  const args = parseOrHelp(process.argv.slice(2), SPEC);
  const { files, warnings } = await renderRunReport(args._[0], {
    cycle: args.cycle as number | undefined,
    fontFiles: args.font ? [args.font as string] : undefined,
  });
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(`wrote ${files.length} files:\n${files.map((f) => `  ${f}\n`).join('')}`);
});
