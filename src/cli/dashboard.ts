/**
 * `npm run dashboard -- FOLDER [--port P]`: the live page and metrics of `--dashboard`, served from
 * a folder's events.jsonl — a run (or campaign, or sweep) that another process is writing, followed
 * as the file grows, or a finished one, shown complete. Runs until Ctrl-C.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EventsFollower } from '../dashboard/follow.ts';
import { startDashboard } from '../dashboard/server.ts';
import { DashboardState } from '../dashboard/state.ts';
import { EVENTS_FILE } from '../run-folder/schema.ts';
import { defineCommand, parseOrHelp, runCli, UsageError, userPath } from './args.ts';

/** How often the events files are checked for new lines. */
const FOLLOW_EVERY_MS = 250;

const SPEC = defineCommand({
  command: 'npm run dashboard --',
  summary:
    'Serve the live dashboard (page, /events, /metrics) of a run folder from its events.jsonl: a run still going in another process is\n' +
    'followed as the file grows; a finished run is shown complete. A campaign or sweep folder shows every run in it. Runs until Ctrl-C.',
  positionals: [
    { name: 'folder', help: 'a run folder (holds events.jsonl), or a campaign or sweep folder', required: true },
  ],
  flags: [
    { name: 'port', type: 'int', min: 0, max: 65535, default: 8090, help: 'port to listen on (0 = any free port)' },
    { name: 'host', type: 'string', default: '127.0.0.1', help: 'address to listen on (0.0.0.0: every interface)' },
  ],
  examples: [
    'npm run dashboard -- results/my-run                # a run folder (npm run experiment -- … --out results/my-run)',
    'npm run dashboard -- results/my-campaign --port 0  # a campaign or sweep folder: every run in it',
  ],
});

const WITHOUT_EVENTS = `made before events were logged, or copied without its ${EVENTS_FILE}`;

/** The finished runs (config.json and summary.json) under a campaign or sweep folder, and whether each has events. */
function finishedRuns(dir: string, depth = 0): { dir: string; events: boolean }[] {
  const here =
    existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'summary.json'))
      ? [{ dir, events: existsSync(join(dir, EVENTS_FILE)) }]
      : [];
  if (depth >= 3) return here;
  const subdirs = readdirSync(dir, { withFileTypes: true }).filter(
    (e) => e.isDirectory() && e.name !== 'checkpoints' && e.name !== 'logs',
  );
  return [...here, ...subdirs.flatMap((e) => finishedRuns(join(dir, e.name), depth + 1))];
}

/** A folder the dashboard can show: a run's (with events.jsonl) or a campaign's or sweep's. */
function checkFolder(folder: string, warn: (line: string) => void): void {
  if (!existsSync(folder)) throw new UsageError(`${folder} does not exist; give a run, campaign or sweep folder`);
  if (!statSync(folder).isDirectory())
    throw new UsageError(`${folder} is a file; give the run folder that holds ${EVENTS_FILE}`);
  if (existsSync(join(folder, EVENTS_FILE))) return;
  if (['campaign.json', 'sweep.csv'].some((f) => existsSync(join(folder, f)))) {
    // Finished runs without events would show as pending forever: say so (a live campaign's runs have theirs).
    const runs = finishedRuns(folder);
    const without = runs.filter((r) => !r.events).map((r) => relative(folder, r.dir));
    if (without.length > 0 && without.length === runs.length)
      throw new UsageError(
        `${folder}: its runs have no ${EVENTS_FILE} (${WITHOUT_EVENTS}); npm run report -- ${folder} renders its results`,
      );
    if (without.length > 0)
      warn(
        `warning: ${without.join(', ')} in ${folder} ${without.length === 1 ? 'has' : 'have'} no ${EVENTS_FILE} (${WITHOUT_EVENTS}): shown as pending`,
      );
    return;
  }
  if (existsSync(join(folder, 'config.json')))
    throw new UsageError(
      `${folder} has no ${EVENTS_FILE} (${WITHOUT_EVENTS}); npm run report -- ${folder} renders its results`,
    );
  throw new UsageError(`${folder} holds no ${EVENTS_FILE} (nor campaign.json): not a run, campaign or sweep folder`);
}

runCli(async () => {
  const args = parseOrHelp(process.argv.slice(2), SPEC);
  // Relative to where the user ran npm (INIT_CWD), not the project root npm runs the script in.
  const folder = userPath(args._[0]);
  const warn = (line: string) => process.stderr.write(line + '\n');
  checkFolder(folder, warn);
  const state = new DashboardState();
  const follower = new EventsFollower(folder, state, warn);
  follower.poll();
  const server = await startDashboard({
    host: args.host,
    port: args.port,
    state,
    live: () => state.running(),
    flags: { host: '--host', port: '--port' },
  });
  follower.start(FOLLOW_EVERY_MS, () => server.notify());
  process.stderr.write(`dashboard of ${folder}: ${server.url} (metrics: ${server.url}metrics); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  follower.stop();
  await server.close();
});
