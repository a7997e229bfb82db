/**
 * `npm run learner -- --connect ws://HOST:PORT --learner-id 3 --f-hz 7e8 --distance-m 40`
 * `npm run learner -- --connect ws://HOST:PORT --learner-ids 0-499 [--learners FILE]`
 * `npm run learner -- --connect wss://HOST:PORT --learner-ids auto:500 [--ca FILE]`
 * Joins a running orchestrator (started with --external) as one learner, or as a learner host:
 * many learners in one process sharing one engine, each with its own session. A host given
 * auto:N asks the orchestrator for N free ids (claim.ts).
 */
import { readInputFile } from '../util/input-file.ts';
import { createModelCache } from '../learner/model-cache.ts';
import { serveHost, sharedEngines, type ServeOptions } from '../learner/serve.ts';
import { parseLearnerSpecs, type LearnerSpec } from '../model/devices.ts';
import { InputError } from '../errors.ts';
import { formatIdRanges, MAX_IDS, parseIdRanges } from '../util/id-ranges.ts';
import { claimWithRetry, type ClaimEnd, type ClaimOutcome } from '../learner/claim.ts';
import { learnerTrust } from '../learner/tls.ts';
import { parseOrHelp, runCli, UsageError, defineCommand } from './args.ts';
import { type ArgsOf, flagsFor } from './settings.ts';

const spec = defineCommand({
  command: 'npm run learner --',
  summary:
    'Run MEL learners: connect to an orchestrator, train the tasks it sends, return the weights. One learner (--learner-id), or a learner host (--learner-ids): many learners in one process sharing one engine.',
  flags: flagsFor('learner'),
  examples: [
    'MEL_TOKEN=… npm run learner -- --connect ws://127.0.0.1:8765 --learner-id 0 --f-hz 2.4e9 --distance-m 31',
    'npm run learner -- --connect ws://10.0.0.5:8765 --token abc123 --learner-id 1 --f-hz 7e8 --rate-bps 1.2e8',
    'MEL_TOKEN=… npm run learner -- --connect ws://10.0.0.5:8765 --learner-ids 0-499 --quiet',
    'MEL_TOKEN=… npm run learner -- --connect ws://10.0.0.5:8765 --learner-ids 500-999 --learners fleet.json',
    'MEL_TOKEN=… npm run learner -- --connect wss://10.0.0.5:8765 --ca ca.crt --learner-ids auto:500',
  ],
});

type Learner = { id: number; profile?: LearnerSpec };
type LearnerArgs = ArgsOf<'learner'>;

/** --learner-ids auto:N: how many ids to claim, or null for a fixed list. */
function autoCount(args: LearnerArgs): number | null {
  const m = /^auto:(.*)$/.exec(args.learnerIds ?? '');
  if (!m) return null;
  const n = /^\d+$/.test(m[1]) ? Number(m[1]) : Number.NaN;
  if (!(n >= 1 && n <= MAX_IDS))
    throw new UsageError(`--learner-ids auto:N takes N in 1..${MAX_IDS}, got ${args.learnerIds}`);
  return n;
}

/** Who this process runs and with which profiles (undefined: the orchestrator's fleet entry); `granted`: the ids of an auto:N claim. */
function learnersOf(args: LearnerArgs, granted?: number[]): Learner[] {
  const flagProfile =
    args.fHz === undefined
      ? undefined
      : {
          f_hz: args.fHz,
          ...(args.rateBps !== undefined ? { rate_bps: args.rateBps } : { distance_m: args.distanceM }),
        };
  if ((args.learnerId === undefined) === (args.learnerIds === undefined))
    throw new UsageError('give exactly one of --learner-id N (one learner) and --learner-ids 0-499 (a learner host)');
  if (args.fHz === undefined && (args.distanceM !== undefined || args.rateBps !== undefined))
    throw new UsageError('--distance-m and --rate-bps describe a learner with --f-hz: give --f-hz too');
  if (args.fHz !== undefined && (args.distanceM === undefined) === (args.rateBps === undefined))
    throw new UsageError('with --f-hz give exactly one of --distance-m and --rate-bps');
  if (args.learnerId !== undefined) {
    if (args.learners)
      throw new UsageError(
        '--learners goes with --learner-ids; one learner takes --f-hz with --distance-m or --rate-bps',
      );
    return [{ id: args.learnerId, profile: flagProfile }];
  }
  let ids: number[];
  try {
    ids = granted ?? parseIdRanges(args.learnerIds ?? ''); // given: exactly one of the two was checked above;
  } catch (e) {
    throw new UsageError(`--learner-ids: ${(e as Error).message}`);
  }
  if (flagProfile && args.learners)
    throw new UsageError(
      'give profiles either with --learners FILE or with --f-hz (the same for every learner of the host), not both',
    );
  if (!args.learners) return ids.map((id) => ({ id, profile: flagProfile }));
  const specs = parseLearnerSpecs(readInputFile(args.learners, '--learners'));
  const beyond = ids.filter((id) => id >= specs.length);
  if (beyond.length)
    throw new InputError(
      `--learners ${args.learners} describes learners 0-${specs.length - 1}; it has no entry for ${formatIdRanges(beyond)}`,
    );
  return ids.map((id) => ({ id, profile: specs[id] }));
}

/**
 * A claimed host's learners, until the run ends; if the claim is lost first (the orchestrator
 * restarted, the network split), the ids may go to another host: stop, and let a new host ask.
 */
async function serveClaimed(
  learners: Learner[],
  serve: ServeOptions,
  ended: Promise<ClaimEnd>,
  warn: (line: string) => void,
): Promise<number> {
  const lost = ended.then((end) => (end.finished ? new Promise<never>(() => {}) : end));
  const first = await Promise.race([serveHost(learners, serve), lost]);
  if (typeof first === 'number') return first;
  warn(`error: the claim on these ids was lost (${first.detail}); exiting so a new host can claim them`);
  return 1;
}

async function main(): Promise<number> {
  const args = parseOrHelp(process.argv.slice(2), spec);
  if (!args.connect) throw new UsageError('--connect ws://HOST:PORT is required');
  if (!/^wss?:\/\//.test(args.connect))
    throw new UsageError(`--connect must be a ws:// or wss:// URL, got "${args.connect}"`);
  if (!args.token) throw new UsageError('--token (or MEL_TOKEN) is required: the orchestrator prints it at start');
  if (args.ca !== undefined && !args.connect.startsWith('wss:'))
    throw new UsageError('--ca verifies a wss:// orchestrator; --connect is ws://');
  const tls = args.connect.startsWith('wss:') ? learnerTrust(args.ca) : undefined;
  const count = autoCount(args);
  const quiet = args.quiet;
  learnersOf({ ...args, learnerIds: count === null ? args.learnerIds : '0' }); // bad flags fail before any connection
  let claim: Extract<ClaimOutcome, { kind: 'granted' }> | null = null;
  if (count !== null) {
    const say = (line: string) => process.stderr.write(`[host auto:${count}] ${line}\n`);
    const outcome = await claimWithRetry({ url: args.connect, token: args.token, count, tls }, args.retryS, say);
    if (outcome.kind !== 'granted') {
      say(
        `error: ${outcome.kind === 'unreachable' ? `cannot connect to ${args.connect} (${outcome.reason}) after trying for ${args.retryS} s` : `${outcome.kind === 'refused' ? 'the orchestrator refused the claim' : `cannot connect to ${args.connect}`}: ${outcome.reason}`}`,
      );
      return outcome.kind === 'unreachable' ? 1 : 2;
    }
    claim = outcome;
    if (!quiet) say(`granted learner ids ${formatIdRanges(claim.ids)}`);
  }
  const learners = learnersOf(args, claim?.ids);

  const host = learners.length > 1 || args.learnerIds !== undefined;
  const ids = formatIdRanges(learners.map((l) => l.id));
  const tagOf = (id: number) => (host ? `[host ${ids}: learner ${id}]` : `[learner ${id}]`);
  const hostTag = host ? `[host ${ids}]` : tagOf(learners[0].id);
  const serve: ServeOptions = {
    url: args.connect,
    token: args.token,
    retryS: args.retryS,
    models: createModelCache(),
    engineFor: sharedEngines(quiet ? () => {} : (line) => process.stderr.write(`${hostTag} ${line}\n`)),
    log: quiet ? () => {} : (id, line) => process.stderr.write(`${tagOf(id)} ${line}\n`),
    warn: (id, line) => process.stderr.write(`${tagOf(id)} ${line}\n`),
    warnHost: (line) => process.stderr.write(`${hostTag} ${line}\n`),
    tls,
    claim: claim?.claim,
  };
  // With --engine it is ready before the first hello, so its start-up is not paid inside a cycle.
  if (args.engine) await serve.engineFor({ engine: args.engine, backend: args.backend });
  if (claim) return serveClaimed(learners, serve, claim.ended, (line) => serve.warnHost(line));
  if (!args.spawned) return serveHost(learners, serve);
  // The orchestrator holds our stdin: when it goes away (even SIGKILLed), we go too. So a
  // spawned learner may reconnect like any other without ever becoming an orphan.
  const orchestratorGone = () => process.exit(0);
  process.stdin.on('end', orchestratorGone);
  process.stdin.on('error', orchestratorGone);
  process.stdin.resume();
  const code = await serveHost(learners, serve);
  // Reading stdin keeps the event loop alive: stop, or a finished learner would linger and hold
  // its id's process slot, so the orchestrator would never start a replacement.
  process.stdin.off('end', orchestratorGone);
  process.stdin.destroy();
  setTimeout(() => process.exit(code), 2000).unref(); // in case a stale training still runs
  return code;
}

runCli(main);
