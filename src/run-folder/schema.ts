/**
 * The run folder's schema, below both its writer (src/orchestrator) and its readers (src/report,
 * the tests): CSV headers, row types, the shapes of summary.json and config.json, and the accuracy
 * targets the summary measures. A format changes here, and writer and readers follow together.
 * Files are snake_case throughout; the parsed row types are the code's (camelCase) view of them.
 */
import type { SchemeName } from '../allocation/types.ts';
import type { ClockMode } from '../emulation/clock.ts';
import type { DatasetName } from '../data/datasets.ts';
import type { Scenario } from '../model/coefficients.ts';
import type { LearnerProfile } from '../model/devices.ts';
import type { SystemParams } from '../model/params.ts';
import type { BackendPreference, EnginePreference } from '../nn/engine.ts';

// ---------- CSV files ----------

/**
 * `tau`: the scheme's τ; for the per-learner schemes the minimum τ_k (learners.csv has every τ_k).
 * `updates_aggregated`: learner updates averaged (FedAvg or FedNova); `tasked_learners`: learners
 * given a batch; `unavailable_learners`: learners offline this cycle (availability, trace), who got nothing.
 */
export const CYCLES_HEADER = [
  'scheme',
  'cycle',
  'tau',
  'test_accuracy',
  'test_loss',
  'emulated_time_s',
  'max_learner_time_s',
  'late_learners',
  'wall_time_s',
  'updates_aggregated',
  'tasked_learners',
  'unavailable_learners',
] as const;

/** cycles.csv as runs before the dynamics columns wrote it (committed runs still do): still read. */
export const CYCLES_HEADER_BEFORE_DYNAMICS = CYCLES_HEADER.slice(0, 9);

/**
 * `late` and `missing`: 0/1 each (a learner that never answered is missing, not late), so every
 * column has one type. `reason`: why a learner is missing, or UNAVAILABLE_REASON for one that was
 * offline (empty otherwise). `tau`: the learner's own τ_k (0 when it sat out). `energy_*`: joules it
 * spent in the cycle (model/energy.ts; 0 when it sat out or was offline, empty when missing).
 * New columns go at the end: a resumed older file gets them appended (run-files.ts CsvAppender).
 */
export const LEARNERS_HEADER = [
  'scheme',
  'cycle',
  'learner',
  'f_hz',
  'rate_bps',
  'batch',
  't_send_s',
  't_compute_s',
  't_return_s',
  't_total_s',
  'late',
  'reason',
  'tau',
  'energy_j',
  'energy_compute_j',
  'energy_radio_j',
  'missing',
] as const;

/** learners.csv before the `missing` column: `late` held 0, 1 or "missing". Still read. */
export const LEARNERS_HEADER_LATE_OR_MISSING = LEARNERS_HEADER.slice(0, -1);

/**
 * One learners.csv row of an older file in today's columns: `late` "missing" becomes late 0,
 * missing 1, so a resumed file never mixes the two encodings.
 */
export function upgradeLearnerCells(cells: Record<string, string>): Record<string, string> {
  if ((cells.missing ?? '') !== '') return cells;
  const missing = cells.late === 'missing';
  return { ...cells, late: missing ? '0' : cells.late, missing: missing ? '1' : '0' };
}

/** The `reason` of a learner that sat a cycle out because it was offline (availability, trace): not a failure. */
export const UNAVAILABLE_REASON = 'unavailable';

/** The run's events, one JSON object per line (docs/events.md, docs/events.schema.json). */
export const EVENTS_FILE = 'events.jsonl';

/** learners.csv as runs before the per-learner τ_k and energy columns wrote it: still read. */
export const LEARNERS_HEADER_WITHOUT_TAU = LEARNERS_HEADER_LATE_OR_MISSING.slice(0, -4);

/** learners.csv as runs before the `reason` column wrote it (committed runs still do): still read. */
export const LEARNERS_HEADER_WITHOUT_REASON = LEARNERS_HEADER_WITHOUT_TAU.slice(0, -1);

/** wall_phases.csv (real clock only). */
export const WALL_PHASES_HEADER = [
  'scheme',
  'cycle',
  'learner',
  'wall_send_s',
  'wall_compute_s',
  'wall_return_s',
  'train_wall_s',
  'overrun_s',
] as const;

/** tau_vs_K.csv and tau_vs_T.csv of `npm run fig1`. */
export const FIG1_HEADER = [
  'scheme',
  'K',
  'T',
  'tau_mean',
  'tau_min',
  'tau_max',
  'feasible_fraction',
  'seeds',
] as const;

export interface CycleRow {
  scheme: string;
  cycle: number;
  tau: number;
  testAccuracy: number; // fraction in [0, 1]
  testLoss: number;
  emulatedTimeS: number;
  maxLearnerTimeS: number;
  lateLearners: number;
  wallTimeS: number;
  /** null (or absent) when the file predates these columns */
  updatesAggregated?: number | null;
  taskedLearners?: number | null;
  unavailableLearners?: number | null;
}

/** A parsed cycle row back in cycles.csv's columns, in header order (absent newer columns: null). */
export function cycleRowCells(r: CycleRow): Record<(typeof CYCLES_HEADER)[number], string | number | null> {
  return {
    scheme: r.scheme,
    cycle: r.cycle,
    tau: r.tau,
    test_accuracy: r.testAccuracy,
    test_loss: r.testLoss,
    emulated_time_s: r.emulatedTimeS,
    max_learner_time_s: r.maxLearnerTimeS,
    late_learners: r.lateLearners,
    wall_time_s: r.wallTimeS,
    updates_aggregated: r.updatesAggregated ?? null,
    tasked_learners: r.taskedLearners ?? null,
    unavailable_learners: r.unavailableLearners ?? null,
  };
}

export type LearnerStatus = 'on-time' | 'late' | 'missing';

export interface LearnerRow {
  scheme: string;
  cycle: number;
  learner: number;
  fHz: number;
  rateBps: number;
  batch: number; // samples; 0 = sat the cycle out
  tSendS: number | null; // null only for missing learners / learners that sat out
  tComputeS: number | null; // all τ local iterations
  tReturnS: number | null;
  tTotalS: number | null;
  status: LearnerStatus;
  /** why a missing learner is missing; null when it is not, or the file predates the column */
  reason: string | null;
  /** the learner's τ_k; null when the file predates the column */
  tau: number | null;
  /** joules spent in the cycle, total / compute / radio; null when missing or the file predates the columns */
  energyJ: number | null;
  energyComputeJ: number | null;
  energyRadioJ: number | null;
}

/** Measured wall time of one learner's cycle (real clock); the emulated times are in its LearnerRow. */
export interface WallPhaseRow {
  scheme: string;
  cycle: number;
  learner: number;
  wallSendS: number;
  /** training plus the padding that holds it to its emulated speed */
  wallComputeS: number;
  wallReturnS: number;
  /** training alone; null when not reported */
  trainWallS: number | null;
  /** real training beyond its (scaled) emulated budget; 0 when the host kept up */
  overrunS: number | null;
}

export interface Fig1Row {
  scheme: string;
  K: number;
  T: number; // s
  /** null when no seed was feasible at this point (nothing to plot). */
  tauMean: number | null;
  tauMin: number | null;
  tauMax: number | null;
  feasibleFraction: number;
  seeds: number;
}

// ---------- summary.json ----------

/** The paper's Fig. 2 accuracy levels (fractions): cycles to reach them are the headline metric (default of --targets). */
export const ACCURACY_TARGETS = [0.9667, 0.97] as const;

/** "96.67 %" for 0.9667: how a target is written for people. */
export function accuracyTargetText(target: number): string {
  return `${Math.round(target * 10000) / 100} %`;
}

/** 0.9667 → "96_67", 0.97 → "97": the suffix of a target's keys and columns. */
export function targetColumn(target: number): string {
  return String(Math.round(target * 10000) / 100).replace('.', '_');
}

/** summary.json keys of a target: `cycles_to_96_67`, `emulated_time_to_96_67_s`. */
export const cyclesToKey = (target: number): `cycles_to_${string}` => `cycles_to_${targetColumn(target)}`;
export const timeToKey = (target: number): `emulated_time_to_${string}_s` =>
  `emulated_time_to_${targetColumn(target)}_s`;

/** The accuracy targets of a run: config.json `targets` (--targets), the defaults for runs from before it. */
export function runTargets(config: { targets?: unknown }): number[] {
  const t = config.targets;
  return Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'number' && x > 0 && x <= 1)
    ? t
    : [...ACCURACY_TARGETS];
}

/**
 * One scheme's results in summary.json. A scheme that never ran (an interrupted run stopped
 * before it) has `cycles: 0` and null results: it is "not run", never a 0 % result.
 */
export interface SchemeSummary {
  cycles: number;
  final_accuracy: number | null;
  best_accuracy: number | null;
  final_loss: number | null;
  /** per accuracy target (runTargets; default cycles_to_96_67 and cycles_to_97): the first cycle at or above it, and the emulated clock then; null = not reached (or not run) */
  [cyclesTo: `cycles_to_${string}`]: number | null;
  [timeTo: `emulated_time_to_${string}_s`]: number | null;
  /**
   * Mean over cycles of cycles.csv's tau: the scheme's τ; for the per-learner schemes (async, energy)
   * that column is each cycle's minimum τ_k, so this is the mean minimum τ_k (mean_tau_k is the mean τ_k).
   */
  mean_tau: number | null;
  /** mean over cycles of the mean τ_k of the learners that took part (absent in older runs) */
  mean_tau_k?: number | null;
  tau: number[];
  late_learner_cycles: number;
  missing_learner_cycles: number;
  /** late ÷ learner-cycles whose timeline is known (tasked and answered); null when none */
  deadline_miss_rate: number | null;
  /** mean learner updates averaged (FedAvg or FedNova) per cycle; null for runs before the column */
  mean_updates_aggregated: number | null;
  /** learner-cycles offline (availability, trace) */
  unavailable_learner_cycles: number;
  /** τ_k over the learners that took part, per cycle (staleness = max − min); absent in older runs */
  tau_per_cycle?: { cycle: number; mean: number; min: number; max: number; staleness: number }[];
  /** joules per cycle over all learners, and per learner-cycle; absent in older runs */
  energy?: {
    mean_per_cycle_j: number;
    mean_per_learner_cycle_j: number;
    max_learner_cycle_j: number;
    compute_share: number;
    /** learner-cycles above the run's energy budget (0 without one) */
    over_budget_learner_cycles: number;
  };
}

/** A scheme in a summary.json being read: older runs lack some fields. */
export type SchemeSummaryRead = Pick<
  SchemeSummary,
  'final_accuracy' | 'mean_tau' | 'late_learner_cycles' | 'missing_learner_cycles'
> &
  Partial<SchemeSummary>;

export const notRun = (s: Pick<SchemeSummary, 'final_accuracy'>): boolean => s.final_accuracy === null;

/**
 * A scheme's τ for people: "5.00"; for a per-learner scheme whose τ_k differ, the minimum (what
 * cycles.csv's tau holds) and the mean named for what they are: "min τ_k 5.00, mean τ_k 5.30".
 */
export function tauSummaryText(
  s: Pick<SchemeSummaryRead, 'mean_tau' | 'mean_tau_k'>,
  format = (x: number) => x.toFixed(2),
): string {
  if (s.mean_tau === null) return '—';
  const k = s.mean_tau_k;
  if (typeof k !== 'number' || Math.abs(k - s.mean_tau) < 1e-9) return format(s.mean_tau);
  return `min τ_k ${format(s.mean_tau)}, mean τ_k ${format(k)}`;
}

export interface RunSummaryFile {
  schemes: Record<string, SchemeSummary>;
  /** groups of schemes whose learners got the same batch and τ_k in every cycle: they trained identically (absent in older runs) */
  identical_allocations?: string[][];
  /** the engine that evaluated (learners report theirs per result) */
  engine: string;
  /** orchestrator sessions the run took (1 + each --resume that ran cycles); every figure below covers all of them */
  sessions: number;
  wall_s: number;
  setup_wall_s: number;
  cycles_wall_s: number;
  eval_wall_s: number;
  train_process_s: number; // Σ learners' real training seconds
  emulator_overhead: { seconds: number; fraction_of_cycles_wall: number; fraction_of_wall: number; definition: string };
  /**
   * Real clock only: cycles are paced to their emulated length × time scale on purpose; this is the wall
   * time beyond that schedule (the overhead a user can act on). Absent on the virtual clock and in older runs.
   */
  real_clock_pacing?: {
    scheduled_wall_s: number;
    cycles_wall_s: number;
    beyond_schedule_s: number;
    beyond_schedule_per_cycle_s: number;
    evaluation_s: number;
    definition: string;
  };
  /**
   * Real clock: learner-cycles whose compute ran past its budget, learner-cycles with any phase off
   * schedule (tolerance stated), and whether the run kept its emulated timeline at all.
   */
  overruns: {
    learner_cycles: number;
    total_s: number;
    off_schedule_learner_cycles: number;
    worst_phase_lag_s: number;
    tolerance: string;
    faithful: boolean;
  };
  /** diverged_cycles: cycles whose averaged model had a non-finite test loss and was not adopted */
  faults: {
    killed: number;
    dropped_results: number;
    lost_learner_cycles: number;
    diverged_cycles: number;
    respawned: number;
  };
  /** connection statistics (snake_case: auth_failures, heartbeat_timeouts, …) */
  hub: Record<string, number>;
  /** peak resident memory of the orchestrator and of the largest learner process, MB */
  memory: { orchestrator_peak_rss_mb: number; learner_peak_rss_mb: number };
}

/** summary.json as the report reads it: the per-scheme table is required, the rest optional. */
export interface RunSummaryRead {
  schemes: Record<string, SchemeSummaryRead>;
  [other: string]: unknown;
}

// ---------- config.json ----------

export type Csi = 'profile' | 'last' | 'perfect';

export interface FaultPlan {
  /** Kill learner `learner`'s process right after its task of cycle `cycle` was sent. */
  kill: { learner: number; cycle: number }[];
  /** Probability that a learner's finished result is lost on the way back (seeded). */
  drop_prob: number;
  /** Kill learner host `host`'s process right after its first task of cycle `cycle` was sent. */
  kill_host: { host: number; cycle: number }[];
}

/** Everything that defines an experiment run; config.json holds it whole, so a run can be repeated or resumed. */
export interface ExperimentConfig {
  K: number;
  T: number; // global cycle clock, seconds
  cycles: number;
  schemes: SchemeName[];
  seed: number;
  /**
   * Seed of the generated fleet (positions → channels) when it should differ from `seed`: a campaign
   * with --fixed-fleet keeps its first seed's fleet and varies only the training randomness.
   * null = `seed`.
   */
  fleet_seed: number | null;
  scenario: Scenario;
  alpha: number | null; // federated: Dirichlet concentration for non-IID shards; null = IID
  train_samples: number; // d
  test_samples: number;
  minibatch: number;
  lr: number;
  local_iteration: 'epoch' | 'step';
  /** at most this many local iterations per cycle (--tau-max); null = no cap */
  tau_max: number | null;
  clock: ClockMode;
  time_scale: number;
  late: 'drop' | 'wait';
  /**
   * σ of a seeded log-normal factor exp(σ·N(0,1)) applied each cycle to every learner's real CPU
   * speed and link rate; the allocation only knows the nominal ones, so a slowed learner can miss T.
   * 0 (default) = devices exactly as profiled.
   */
  speed_jitter: number;
  /**
   * A world that changes (src/model/dynamics.ts): block fading, log-normal shadowing σ (dB), random-waypoint speed (m/s), on/off availability
   * (stationary probability and mean on-run in cycles), or a replayed trace file instead.
   */
  fading: 'none' | 'rayleigh';
  shadowing_db: number;
  speed_mps: number;
  availability: number;
  mean_on_cycles: number | null;
  trace_file: string | null;
  /** what the allocator knows of each learner: the profile (default), last cycle's measurement, or the truth */
  csi: Csi;
  /** robust scheme: planned probability of a learner missing T */
  epsilon: number;
  engine: EnginePreference;
  /** tfjs backend, when the tfjs engine runs */
  backend: BackendPreference;
  /** the network the learners train (--model, see src/nn/model-spec.ts) */
  model: string;
  /** what they train on (--dataset, see src/data/datasets.ts): sets the model's input shape */
  dataset: DatasetName;
  compute_slots: number;
  /** spawned learner host processes the K learners are spread over */
  hosts: number;
  host: string;
  port: number;
  external: boolean;
  heartbeat_s: number;
  task_timeout_s: number;
  join_timeout_s: number;
  data_dir: string | null;
  learners_file: string | null;
  params: SystemParams;
  faults: FaultPlan;
  /** Per-learner schemes: at most this max τ_k − min τ_k (--max-staleness); null = unbounded. */
  max_staleness: number | null;
  /** How updates are averaged (--aggregate). */
  aggregate: AggregateRule;
  /** Energy model and budget (--kappa, --rx-power-w, --energy-j); P_tx is params.tx_power_dbm. */
  energy: EnergySettings;
  /** Accuracy targets (fractions, ascending) the summaries count cycles to (--targets). */
  targets: number[];
  /** The user's schemes named in `schemes` (--scheme-module, --scheme-cmd); empty: none. */
  user_schemes: UserSchemeSpec[];
  /** Seconds a user's scheme may take for one answer (--scheme-timeout-s). */
  scheme_timeout_s: number;
}

/** A user's allocation scheme: a module exporting allocate(problem), or a command started once per run (docs/schemes.md). */
export type UserSchemeSpec = { name: string; module: string } | { name: string; command: string };

export type AggregateRule = 'fedavg' | 'fednova';
export const AGGREGATE_RULES: AggregateRule[] = ['fedavg', 'fednova'];

export interface EnergySettings {
  kappa_j_per_cycle_hz2: number;
  rx_power_w: number;
  /** budget per learner and cycle, J, for every learner (a learners file may set its own); null = none */
  budget_j: number | null;
}

/** config.json: the experiment plus what the run found out when it started. */
export interface RunConfigFile extends ExperimentConfig {
  fleet: LearnerProfile[];
  engine_used: string;
  versions: Record<string, string>;
  started_at: string;
  command: string;
  /** the commit the code ran from ("-dirty" with uncommitted changes); null outside a git checkout */
  git_commit: string | null;
  /** each --resume that raised --cycles */
  cycles_extended?: { from: number; to: number; at: string }[];
  /** SHA-256 of the settings a resumed run may not change (orchestrator/store/run-integrity.ts); absent in older runs */
  settings_sha256?: string;
}
