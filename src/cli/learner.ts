/**
 * `npm run learner -- --connect ws://HOST:PORT --learner-id 3 --f-hz 7e8 --distance-m 40`
 * Joins a running orchestrator (started with --external) and trains whatever it is given.
 */
import { runLearnerSession } from '../learner/client.ts';
import { SPEC_LIMITS } from '../model/devices.ts';
import { BACKEND_PREFERENCES, createEngine, ENGINE_PREFERENCES, type Engine, type EngineChoice } from '../nn/mlp.ts';
import { FATAL_CLOSE_CODES } from '../protocol/messages.ts';
import { parseOrHelp, runCli, UsageError, type CommandSpec } from './args.ts';

const spec: CommandSpec = {
  command: 'npm run learner --',
  summary: 'Run one MEL learner: connect to an orchestrator, train the tasks it sends, return the weights.',
  flags: [
    { name: 'connect', type: 'string', help: 'orchestrator URL, e.g. ws://192.0.2.10:8765 (printed by `npm run experiment -- --external`)' },
    { name: 'token', type: 'string', env: 'MEL_TOKEN', help: 'the run token printed by the orchestrator' },
    { name: 'learner-id', type: 'int', min: 0, help: 'this learner\'s id, 0..K-1, unique in the run' },
    { name: 'f-hz', type: 'number', exclusiveMin: 0, max: SPEC_LIMITS.f_hz, unit: 'Hz', help: 'processor frequency this learner emulates (f_k)' },
    { name: 'distance-m', type: 'number', exclusiveMin: 0, max: SPEC_LIMITS.distance_m, unit: 'm', help: 'distance to the orchestrator; the orchestrator derives the Shannon rate from it' },
    { name: 'rate-bps', type: 'number', exclusiveMin: 0, max: SPEC_LIMITS.rate_bps, unit: 'bit/s', help: 'link rate to emulate (instead of --distance-m)' },
    { name: 'retry-s', type: 'number', min: 0, default: 30, unit: 's', help: 'keep trying to (re)connect this long after a lost connection' },
    { name: 'spawned', type: 'boolean', default: false, help: 'internal: started by the orchestrator; exit when stdin closes (the orchestrator is gone)' },
    { name: 'engine', type: 'enum', choices: [...ENGINE_PREFERENCES], help: 'prepare this training engine before connecting (the run\'s welcome says which one trains; default: prepare it then)' },
    { name: 'backend', type: 'enum', choices: [...BACKEND_PREFERENCES], default: 'auto', help: 'tfjs backend to prepare with --engine tfjs' },
    { name: 'quiet', type: 'boolean', default: false, help: 'print only errors' },
  ],
  examples: [
    'MEL_TOKEN=… npm run learner -- --connect ws://127.0.0.1:8765 --learner-id 0 --f-hz 2.4e9 --distance-m 31',
    'npm run learner -- --connect ws://10.0.0.5:8765 --token abc123 --learner-id 1 --f-hz 7e8 --rate-bps 1.2e8',
  ],
};

async function main(): Promise<number> {
  const args = parseOrHelp(process.argv.slice(2), spec);
  if (!args.connect) throw new UsageError('--connect ws://HOST:PORT is required');
  if (!/^wss?:\/\//.test(args.connect)) throw new UsageError(`--connect must be a ws:// or wss:// URL, got "${args.connect}"`);
  if (!args.token) throw new UsageError('--token (or MEL_TOKEN) is required: the orchestrator prints it at start');
  if (args.learnerId === undefined) throw new UsageError('--learner-id is required (0..K-1)');
  if (args.fHz === undefined) throw new UsageError('--f-hz is required (e.g. 2.4e9 or 7e8)');
  if ((args.distanceM === undefined) === (args.rateBps === undefined)) throw new UsageError('give exactly one of --distance-m and --rate-bps');

  const tag = `[learner ${args.learnerId}]`;
  const log = args.quiet ? () => {} : (line: string) => process.stderr.write(`${tag} ${line}\n`);
  if (!args.spawned) return serve(args, tag, log);
  // The orchestrator holds our stdin: when it goes away (even SIGKILLed), we go too. So a
  // spawned learner may reconnect like any other without ever becoming an orphan.
  const orchestratorGone = () => process.exit(0);
  process.stdin.on('end', orchestratorGone);
  process.stdin.on('error', orchestratorGone);
  process.stdin.resume();
  const code = await serve(args, tag, log);
  // Reading stdin keeps the event loop alive: stop, or a finished learner would linger and hold
  // its id's process slot, so the orchestrator would never start a replacement.
  process.stdin.off('end', orchestratorGone);
  process.stdin.destroy();
  setTimeout(() => process.exit(code), 2000).unref(); // in case a stale training still runs
  return code;
}

/** Sessions until the run ends (0), a refusal that retrying cannot fix (2), or the retry window closes (1). */
async function serve(args: Record<string, any>, tag: string, log: (line: string) => void): Promise<number> {
  const profile = { f_hz: args.fHz, ...(args.rateBps !== undefined ? { rate_bps: args.rateBps } : { distance_m: args.distanceM }) };
  // One engine per choice for the whole process: a learner that rejoins keeps its engine. With
  // --engine it is ready before the first hello, so its start-up is not paid inside a cycle.
  const engines = new Map<string, Promise<Engine>>();
  const engineFor = (choice: EngineChoice) => {
    const key = `${choice.engine}/${choice.backend}`;
    if (!engines.has(key)) engines.set(key, createEngine(choice, log, ['train']));
    return engines.get(key)!;
  };
  if (args.engine) await engineFor({ engine: args.engine, backend: args.backend });
  // The retry window restarts whenever a session was joined: it bounds one outage, not the whole run.
  let deadline = Date.now() + args.retryS * 1000;
  let attempt = 0;
  for (;;) {
    const end = await runLearnerSession({ url: args.connect, token: args.token, learnerId: args.learnerId, profile, log, engineFor });
    if (end.kind === 'bye') {
      log(`run finished after ${end.tasksDone} task(s) in this session`);
      return 0;
    }
    const detail = end.kind === 'unreachable' ? end.reason : `${end.code}${end.reason ? ' ' + end.reason : ''}`;
    // Wrong token, version or id will not change by retrying. "id in use" (4003) will: after a
    // dropped connection the orchestrator may not have noticed yet that our old one is gone.
    if (end.kind === 'refused' && FATAL_CLOSE_CODES.has(end.code)) {
      process.stderr.write(`${tag} error: the orchestrator refused this learner: ${detail}\n`);
      return 2;
    }
    if (end.kind === 'lost') {
      deadline = Date.now() + args.retryS * 1000;
      attempt = 0;
    }
    if (Date.now() > deadline) {
      const what = end.kind === 'unreachable' ? `cannot connect to ${args.connect} (${detail}) after trying for ${args.retryS} s` : `connection to ${args.connect} ended (${detail})`;
      process.stderr.write(`${tag} error: ${what}; is the orchestrator running and reachable?\n`);
      return 1;
    }
    attempt++;
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    if (end.kind === 'unreachable') {
      // Say it once; a learner started before its orchestrator is normal.
      if (attempt === 1) process.stderr.write(`${tag} cannot connect to ${args.connect} yet (${detail}); retrying for up to ${left} s\n`);
    } else log(`connection ended (${detail}); retrying for up to ${left} s (attempt ${attempt})`);
    await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))));
  }
}

runCli(main);
