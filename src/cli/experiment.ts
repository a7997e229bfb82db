/**
 * `npm run experiment -- --K 20 --T 12`: adaptive allocation vs ETA on real learner processes.
 * Thin: parse flags into an ExperimentConfig, run it, render the report, print where things are.
 */
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SchemeName } from '../allocation/types.ts';
import { modelFromArgs, type SystemParamArgs, systemParamsFromArgs } from './param-flags.ts';
import { MAX_TOKEN_CHARS } from '../protocol/messages.ts';
import { monotonicSeconds } from '../emulation/clock.ts';
import { defaultHosts, defaultTaskTimeoutS, type ExperimentConfig } from '../orchestrator/config.ts';
import { defaultMeanOnCycles } from '../orchestrator/world.ts';
import type { RunEvent } from '../orchestrator/events.ts';
import { runExperiment } from '../orchestrator/experiment.ts';
import type { RunResult } from '../orchestrator/run-context.ts';
import { readTlsFiles } from '../orchestrator/transport/listener.ts';
import { realClockPacingText } from '../orchestrator/real-clock-pacing.ts';
import { LEARNER_COMMANDS_FILE } from '../orchestrator/store/run-folder-contents.ts';
import { PROJECT_ROOT } from '../util/project-root.ts';
import { configText, defineCommand, parseArgs, parseOrHelp, runCli, UsageError } from './args.ts';
import { configFromRunFolder } from './resume.ts';
import { type ArgsOf, flagsFor, otherSettings, setting } from './settings.ts';
import { parseLearnersJson } from '../model/devices.ts';
import { trainSamplesFor } from '../data/datasets.ts';
import { readInputFile } from '../util/input-file.ts';
import { parseTargets } from './targets-flag.ts';
import { userSchemesFromArgs } from './scheme-flags.ts';
import { openRunDashboard, type RunDashboard } from './dashboard-flags.ts';
import { ProgressReporter } from './progress.ts';
import { onStopSignals } from './stop-signals.ts';
import { COMMANDS_SHOWN, externalInstructions, learnerCommands, runEventLines } from './run-events.ts';

/** Exported for the commands that run experiments in bulk (sweep, paper): every experiment flag works there. */
export const spec = defineCommand({
  command: 'npm run experiment --',
  summary:
    'Run a Mobile Edge Learning experiment: K learner processes train a network (--model) on MNIST over WebSocket under the\n' +
    "allocation of each scheme; writes cycles.csv (one row per cycle; its wall_time_s is the scheme's cumulative\n" +
    'wall time, while the console\'s "cycle wall" is that cycle\'s own), learners.csv, summary.json, config.json and a report.',
  otherSettings: otherSettings('experiment'),
  flags: flagsFor('experiment'),
  examples: [
    'npm run experiment -- --K 20 --T 12',
    'npm run experiment -- --K 10 --T 30 --schemes optimal,analytical,eta --cycles 15',
    'npm run experiment -- --K 5 --T 12 --train-samples 20000 --clock real --time-scale 0.5 --cycles 5',
    'npm run experiment -- --K 4 --T 12 --train-samples 20000 --external --host 0.0.0.0 --port 8765',
    'npm run experiment -- --K 4 --T 30 --train-samples 600 --tau-max 20',
    'npm run experiment -- --K 20 --T 12 --speed-jitter 0.2 --fading rayleigh --availability 0.9 --csi last --schemes optimal,robust,eta',
    'npm run experiment -- --K 4 --T 12 --trace data/example-trace.csv --csi last --schemes optimal,robust',
    'npm run experiment -- --K 20 --T 12 --schemes optimal,async,eta --aggregate fednova',
    'npm run experiment -- --K 20 --T 12 --schemes optimal,energy --energy-j 15',
    'npm run experiment -- --K 20 --T 12 --model lenet5',
    'npm run experiment -- --resume results/2026-11-28T10-00-00-K20-T12',
    'npm run experiment -- --K 20 --T 12 --cycles 3 --schemes optimal,mine --scheme-cmd "mine=python3 examples/schemes/proportional.py"',
    'npm run experiment -- --K 20 --T 12 --seeds 5 --out results/K20-T12-5seeds   # rerun to continue a killed campaign',
    'npm run experiment -- --K 20 --T 12 --dashboard 8080   # live page at http://127.0.0.1:8080/',
  ],
});

/** The commands that run experiments in bulk (sweep, paper) spawn every run's learners on this machine. */
/** An experiment run's settings: experiment's flags (sweep and paper give theirs for one K and T). */
export type RunArgs = ArgsOf<'experiment'>;

export const SPAWNED = { external: false, host: '127.0.0.1', port: 0, learners: undefined } as const;

/**
 * One run of a sweep or of the paper as an experiment: that command's settings over experiment's own
 * defaults (for the flags it does not take), its learners spawned here, with the run's K and T.
 */
export function spawnedRunArgs(
  args: ArgsOf<'sweep'> | ArgsOf<'paper'>,
  run: { K: number; T: number; energyJ: number | undefined },
): RunArgs {
  return { ...parseArgs([], spec), ...args, ...SPAWNED, ...run };
}

/** --fail L@C (what = learner, of K) or --fail-host H@C (what = host, of the hosts). */
function parseFaults(
  flag: string,
  what: string,
  items: string[] | undefined,
  count: number,
  cycles: number,
): { target: number; cycle: number }[] {
  return (items ?? []).map((item) => {
    const m = /^(\d+)@(\d+)$/.exec(item);
    if (!m) throw new UsageError(`--${flag} takes ${what.toUpperCase()}@CYCLE items like 1@2, got "${item}"`);
    const target = Number(m[1]);
    const cycle = Number(m[2]);
    if (target >= count) throw new UsageError(`--${flag} ${item}: ${what} must be in 0..${count - 1}`);
    if (cycle < 1 || cycle > cycles) throw new UsageError(`--${flag} ${item}: cycle must be in 1..${cycles}`);
    return { target, cycle };
  });
}

/** Spawned learner hosts: --hosts, else the default (2 per core, at most K). */
function hostCount(args: RunArgs): number {
  if (args.hosts === undefined) return defaultHosts(args.K, os.availableParallelism());
  if (args.external)
    throw new UsageError(
      '--hosts spreads spawned learners over processes; with --external start hosts yourself: npm run learner -- --learner-ids 0-499 …',
    );
  if (args.hosts > args.K)
    throw new UsageError(
      `--hosts ${args.hosts} exceeds K = ${args.K}: at most one host per learner (--hosts ${args.K})`,
    );
  return args.hosts;
}

/** The world flags: checked together (the trace replaces the seeded world; on/off runs must last whole cycles). */
function worldFromArgs(
  args: RunArgs,
): Pick<
  ExperimentConfig,
  'fading' | 'shadowing_db' | 'speed_mps' | 'availability' | 'mean_on_cycles' | 'trace_file' | 'csi' | 'epsilon'
> {
  if (args.trace !== undefined) {
    const drawn = ['speed-jitter', 'fading', 'shadowing-db', 'speed-mps', 'availability', 'mean-on-cycles'].filter(
      (f) => args.given.has(f),
    );
    if (drawn.length)
      throw new UsageError(
        `--trace replays a recorded world; it cannot be combined with --${drawn.join(', --')} (those draw one)`,
      );
    if (!existsSync(args.trace)) throw new UsageError(`--trace file not found: ${args.trace}`);
  }
  const p: number = args.availability;
  if (args.meanOnCycles !== undefined && p === 1)
    throw new UsageError('--mean-on-cycles applies to --availability below 1');
  const meanOn = p < 1 ? (args.meanOnCycles ?? defaultMeanOnCycles(p)) : null;
  if (meanOn !== null && meanOn < defaultMeanOnCycles(p) * (1 - 1e-12))
    throw new UsageError(
      `--mean-on-cycles ${meanOn} is too short for --availability ${p}: off-runs would average under one cycle; use at least p/(1−p) = ${+defaultMeanOnCycles(p).toPrecision(6)}`,
    );
  if (args.given.has('epsilon') && !args.schemes.includes('robust'))
    throw new UsageError('--epsilon applies to scheme robust: add robust to --schemes');
  return {
    fading: args.fading,
    shadowing_db: args.shadowingDb,
    speed_mps: args.speedMps,
    availability: p,
    mean_on_cycles: meanOn,
    trace_file: args.trace ?? null,
    csi: args.csi,
    epsilon: args.epsilon,
  };
}

/** K: --K, or the number of learners in the --learners file (both given: they must agree). */
function learnerCount(args: RunArgs): number {
  if (!args.learners) return args.K;
  if (!existsSync(args.learners)) throw new UsageError(`--learners file not found: ${args.learners}`);
  const fleet = parseLearnersJson(readInputFile(args.learners, '--learners'), systemParamsFromArgs(wireFixed(args)));
  if (args.given.has('K') && args.K !== fleet.length)
    throw new UsageError(`--K ${args.K} disagrees with the ${fleet.length} learners in ${args.learners} (omit --K)`);
  if (fleet.length > setting('K').max!)
    throw new UsageError(`--learners ${args.learners} describes ${fleet.length} learners; at most ${setting('K').max}`);
  return fleet.length;
}

// What the wire carries is fixed (one-byte pixels, float32 weights of the --model): F and S_m are the model's, and
// C_m too unless --flops-per-sample says otherwise; `npm run allocate` still lets you explore other values.
const wireFixed = (args: RunArgs): SystemParamArgs => ({
  ...args,
  dataBits: 8,
  modelBits: 32,
  modelCoeffsPerSample: 0,
});

export function configFromArgs(parsed: RunArgs): ExperimentConfig {
  const args: RunArgs = { ...parsed, K: learnerCount(parsed) };
  if (args.alpha !== undefined && args.scenario !== 'federated')
    throw new UsageError('--alpha only applies to --scenario federated');
  if (args.given.has('time-scale') && args.clock !== 'real')
    throw new UsageError('--time-scale only applies to --clock real (the virtual clock does not sleep)');
  if (args.external && (args.fail?.length ?? 0) > 0)
    throw new UsageError('--fail kills spawned learners; it cannot be used with --external');
  if (args.external && (args.failHost?.length ?? 0) > 0)
    throw new UsageError('--fail-host kills spawned learner hosts; it cannot be used with --external');
  const model = modelFromArgs(args);
  const hosts = hostCount(args);
  const killHost = parseFaults('fail-host', 'host', args.failHost, hosts, args.cycles).map((f) => ({
    host: f.target,
    cycle: f.cycle,
  }));
  if (args.schemes.includes('energy') && args.energyJ === undefined && !args.learners)
    throw new UsageError(
      '--schemes energy needs a budget: give --energy-j J (or "energy_j" per entry of a --learners file)',
    );
  const user_schemes = userSchemesFromArgs(args, args.schemes);
  return {
    K: args.K,
    T: args.T,
    cycles: args.cycles,
    schemes: args.schemes as SchemeName[],
    seed: args.seed,
    fleet_seed: null,
    scenario: args.scenario,
    alpha: args.alpha ?? null,
    train_samples: trainSamplesFor(args),
    test_samples: args.testSamples,
    minibatch: args.minibatch,
    lr: args.lr,
    local_iteration: args.localIteration,
    tau_max: args.tauMax ?? null,
    clock: args.clock,
    time_scale: args.timeScale,
    late: args.late,
    speed_jitter: args.speedJitter,
    ...worldFromArgs(args),
    engine: args.engine,
    backend: args.backend,
    model: model.name,
    dataset: args.dataset,
    compute_slots: args.computeSlots,
    hosts,
    host: args.host,
    port: args.port,
    external: args.external,
    heartbeat_s: args.heartbeatS,
    task_timeout_s:
      args.taskTimeoutS ??
      defaultTaskTimeoutS({ T: args.T, clock: args.clock, time_scale: args.timeScale, speed_jitter: args.speedJitter }),
    join_timeout_s: args.joinTimeoutS,
    data_dir: args.dataDir ?? null,
    learners_file: args.learners ?? null,
    params: systemParamsFromArgs(wireFixed(args)),
    faults: {
      kill: parseFaults('fail', 'learner', args.fail, args.K, args.cycles).map((f) => ({
        learner: f.target,
        cycle: f.cycle,
      })),
      drop_prob: args.dropProb,
      kill_host: killHost,
    },
    max_staleness: args.maxStaleness,
    aggregate: args.aggregate,
    energy: { kappa_j_per_cycle_hz2: args.kappa, rx_power_w: args.rxPowerW, budget_j: args.energyJ ?? null },
    targets: parseTargets(args.targets),
    user_schemes,
    scheme_timeout_s: args.schemeTimeoutS,
  };
}

/** --print-config: the settings as TOML, with K, the model and d as the run resolves them (--learners, --dataset). */
export function runConfigText(args: RunArgs): string {
  const config = configFromArgs(args);
  return configText(spec, args, { K: config.K, model: config.model, 'train-samples': config.train_samples });
}

function defaultOut(K: number, T: number): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return join(PROJECT_ROOT, 'results', `${stamp}-K${K}-T${T}`);
}

/** Checks of the connection flags, before anything starts. */
function checkConnectionFlags(args: RunArgs): void {
  // Learners must be able to present the token: the hello takes 1..MAX_TOKEN_CHARS characters.
  if (args.token !== undefined && !(args.token.length > 0 && args.token.length <= MAX_TOKEN_CHARS))
    throw new UsageError(
      `--token (or MEL_TOKEN) must be 1..${MAX_TOKEN_CHARS} characters, got ${args.token.length}; omit it for a random one`,
    );
  if ((args.tlsCert === undefined) !== (args.tlsKey === undefined))
    throw new UsageError('give --tls-cert and --tls-key together (the certificate and its private key)');
  if (args.tlsCert !== undefined && (args.seeds !== undefined || args.fixedFleet))
    throw new UsageError(
      '--tls-cert serves learners on other machines; a campaign (--seeds) spawns its learners on this one',
    );
}

/**
 * Ctrl-C / SIGTERM: the first stops the learners and keeps every completed cycle; a second one,
 * or one outside the run (while the report renders), ends the process at once.
 */
function stopOnSignals(): { signal: AbortSignal; runEnded: () => void } {
  const abort = new AbortController();
  let running = true;
  const exitNow = (sig: string) => {
    process.stderr.write(`\n${sig}: exiting now\n`);
    process.exit(130);
  };
  onStopSignals((sig) => {
    if (!running) return exitNow(sig);
    process.stderr.write(`\n${sig}: stopping learners (press Ctrl-C again to quit at once)\n`);
    abort.abort();
  }, exitNow);
  return { signal: abort.signal, runEnded: () => (running = false) };
}

/**
 * The run on the terminal: events become lines; on a terminal a status line shows the running cycle,
 * elapsed time and ETA (every line first clears it), without one a progress line comes every ~15 s.
 */
class ConsoleRun {
  readonly progress = new ProgressReporter({
    tty: Boolean(process.stderr.isTTY),
    write: (t) => process.stderr.write(t),
    now: monotonicSeconds,
  });
  /** --resume of a complete run: it changes nothing, not even the report (unless --report asks) */
  nothingRan = false;
  /** after Ctrl-C every learner leaves (the terminal signalled them too): one line, not K */
  leftWhileStopping = 0;
  dashboard: RunDashboard | null = null;
  private readonly eventLines = runEventLines();

  constructor(
    private readonly config: ExperimentConfig,
    private readonly out: string,
    private readonly signal: AbortSignal,
  ) {}

  readonly line = (text: string): void => {
    this.progress.clearStatus();
    process.stderr.write(text + '\n');
  };

  readonly onEvent = (e: RunEvent): void => {
    this.dashboard?.onEvent(e);
    if (this.signal.aborted && e.type === 'left') return void this.leftWhileStopping++;
    if (e.type === 'complete') this.nothingRan = true;
    const text = this.eventLines(e);
    if (text !== null) this.line(text);
    if (e.type === 'listening' && this.config.external) this.showLearnerCommands(e);
    this.progress.onEvent(e);
  };

  /** Beyond a screenful the commands go to a file too (one per learner, ready to paste on each host). */
  private showLearnerCommands(e: Extract<RunEvent, { type: 'listening' }>): void {
    const K = this.config.K;
    const file = K > COMMANDS_SHOWN + 1 ? join(this.out, LEARNER_COMMANDS_FILE) : null;
    if (file) writeFileSync(file, learnerCommands(e, K).join('\n') + '\n');
    this.line(externalInstructions(e, K, file));
  }
}

/** What an interrupted run leaves, and how to continue it. */
function interruptedText(out: string, completedCycles: number): string {
  // Suggest --resume only for a folder that holds something to continue.
  if (completedCycles > 0)
    return `interrupted: results so far are in ${out}; continue with: npm run experiment -- --resume ${out}\n`;
  const logs = existsSync(join(out, 'logs')) ? ` (learner logs: ${join(out, 'logs')})` : '';
  return `interrupted before the first cycle completed: nothing to resume${logs}\n`;
}

function wallText(s: RunResult['summary'], time_scale: number): string {
  // On the real clock cycles last T × time scale by design: the overhead worth reading is the time beyond that.
  const overhead = s.real_clock_pacing
    ? realClockPacingText(s.real_clock_pacing, time_scale)
    : `emulator overhead ${(100 * s.emulator_overhead.fraction_of_cycles_wall).toFixed(1)} % of cycle time`;
  return (
    `wall ${s.wall_s.toFixed(1)} s${s.sessions > 1 ? ` over ${s.sessions} sessions` : ''} (set-up ${s.setup_wall_s.toFixed(1)} s, evaluation ${s.eval_wall_s.toFixed(1)} s); ` +
    `${overhead}; engine ${s.engine}\n`
  );
}

async function writeReport(out: string): Promise<void> {
  const { renderRunReport } = await import('../report/index.ts');
  const report = await renderRunReport(out);
  for (const w of report.warnings) process.stderr.write(`report warning: ${w}\n`);
  process.stderr.write(`report: ${join(out, 'report.html')}\n`);
}

async function main(): Promise<number> {
  const args = parseOrHelp(process.argv.slice(2), spec);
  if (args.printConfig) {
    if (args.resume)
      throw new UsageError('--print-config shows the settings of a new run; a run folder keeps its own in config.json');
    process.stdout.write(runConfigText(args));
    return 0;
  }
  checkConnectionFlags(args);
  // --seeds: a campaign of runs, one per seed (src/cli/campaign.ts).
  if (args.seeds !== undefined || args.fixedFleet)
    return (await import('./campaign.ts')).campaignMain(args, configFromArgs);
  const tls =
    args.tlsCert !== undefined && args.tlsKey !== undefined ? readTlsFiles(args.tlsCert, args.tlsKey) : undefined;
  const config = args.resume
    ? configFromRunFolder(args.resume, args, spec, (K, external) => hostCount({ ...args, K, external }))
    : configFromArgs(args);
  const out = args.resume ?? args.out ?? defaultOut(config.K, config.T);
  const stop = stopOnSignals();
  const terminal = new ConsoleRun(config, out, stop.signal);
  const dashboard = await openRunDashboard(args, terminal.line);
  terminal.dashboard = dashboard;
  terminal.progress.start();
  const result = await runExperiment(config, {
    out,
    log: terminal.line,
    onEvent: terminal.onEvent,
    token: args.token,
    resume: Boolean(args.resume),
    signal: stop.signal,
    memoryMb: args.memoryMb,
    tls,
  }).finally(() => {
    terminal.progress.stop();
    return dashboard?.close();
  });
  stop.runEnded();
  const left = terminal.leftWhileStopping;
  if (left > 0) process.stderr.write(`${left} learner connection${left === 1 ? '' : 's'} closed while stopping\n`);
  if (result.interrupted) {
    process.stderr.write(interruptedText(out, result.completedCycles));
    return 130;
  }
  const s = result.summary;
  process.stderr.write(wallText(s, config.time_scale));
  if (args.report !== false && !(terminal.nothingRan && !args.given.has('report'))) await writeReport(out);
  if (args.json) {
    process.stderr.write(`run folder: ${out}\n`);
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
  } else process.stdout.write(`${out}\n`);
  return 0;
}

// Run only as a script, so that sweep and paper can import the flag spec without side effects.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) runCli(main);
