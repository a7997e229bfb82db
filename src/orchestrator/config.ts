/** The experiment's configuration (its shape is part of the run-folder schema) and the defaults derived from it. */
import type { LearnerProfile } from '../model/devices.ts';
import { DEFAULT_ENERGY_PARAMS, energyParamsFor, type EnergyParams } from '../model/energy.ts';
import type { ExperimentConfig } from '../run-folder/schema.ts';
import { MAX_TIMEOUT_S } from '../util/timers.ts';

export type { ExperimentConfig, FaultPlan } from '../run-folder/schema.ts';

/**
 * A run's settings when nobody says otherwise: the CLI's flag defaults come from here. What depends
 * on the machine (compute slots = its cores) or on other settings (the task timeout, the physical
 * parameters of Table I) is derived where it is known.
 */
export const DEFAULT_EXPERIMENT = {
  K: 20,
  T: 12,
  cycles: 10,
  schemes: ['optimal', 'eta'],
  seed: 1,
  scenario: 'parallel',
  train_samples: 60_000,
  test_samples: 10_000,
  minibatch: 64,
  lr: 0.1,
  local_iteration: 'epoch',
  clock: 'virtual',
  time_scale: 1,
  late: 'drop',
  speed_jitter: 0,
  fading: 'none',
  shadowing_db: 0,
  speed_mps: 0,
  availability: 1,
  csi: 'profile',
  epsilon: 0.05,
  engine: 'auto',
  backend: 'auto',
  host: '127.0.0.1',
  port: 0,
  external: false,
  heartbeat_s: 10,
  join_timeout_s: 120,
  drop_prob: 0,
  // Per-learner schemes: beyond τ* + 1 the extra work is tiny (< 0.01 % on Table I fleets) and the
  // staleness large (one learner at τ = 489 on 52 samples at K = 20, T = 12): docs/world-and-beyond.md, async.
  max_staleness: 1,
  aggregate: 'fedavg',
  energy: {
    kappa_j_per_cycle_hz2: DEFAULT_ENERGY_PARAMS.kappa_j_per_cycle_hz2,
    rx_power_w: DEFAULT_ENERGY_PARAMS.rx_power_w,
    budget_j: null,
  },
} as const satisfies Partial<ExperimentConfig> & { drop_prob: number };

/**
 * The default task timeout scales with the cycle it guards. A task's emulated work fits in T by
 * construction, which on the real clock lasts time_scale·T of wall time (a device slowed by
 * --speed-jitter σ can take up to e^{3σ} times longer, 99.9 % of draws); on the virtual clock the
 * host trains faster than the emulated devices (≥ 10k samples/s against ≤ 2.2k for Table I's
 * 2.4 GHz), so T is a bound there too. Ten times that leaves room for a loaded host; the floor
 * covers process hiccups (GC, a slow evaluation) on very short cycles.
 */
export const TASK_TIMEOUT = { factor: 10, min_s: 10 } as const;

/** Shortest heartbeat, s: faster, the pings themselves load a busy orchestrator and a learner host. */
export const MIN_HEARTBEAT_S = 0.1;

export function defaultTaskTimeoutS(c: Pick<ExperimentConfig, 'T' | 'clock' | 'time_scale' | 'speed_jitter'>): number {
  const wallPerCycle_s = c.clock === 'real' ? c.time_scale * c.T * Math.exp(3 * c.speed_jitter) : c.T;
  return Math.min(MAX_TIMEOUT_S, Math.max(TASK_TIMEOUT.min_s, Math.ceil(TASK_TIMEOUT.factor * wallPerCycle_s)));
}

/** Each learner's energy budget per cycle: its own (learners file), else the run's --energy-j, else none (Infinity). */
export function energyBudgets(
  config: Pick<ExperimentConfig, 'energy'>,
  fleet: readonly Pick<LearnerProfile, 'energy_budget_j'>[],
): number[] {
  const all = config.energy.budget_j;
  return fleet.map((l) => l.energy_budget_j ?? all ?? Infinity);
}

/** The energy model's parameters for a run: κ and P_rx from its settings, P_tx from its transmit power. */
export function runEnergyParams(c: Pick<ExperimentConfig, 'energy' | 'params'>): EnergyParams {
  const e = c.energy;
  return energyParamsFor(c.params, { kappa_j_per_cycle_hz2: e.kappa_j_per_cycle_hz2, rx_power_w: e.rx_power_w });
}

/**
 * Default learner hosts per core. A host trains one learner at a time and waits a round trip to the
 * orchestrator between two; with two hosts per core another host's learner fills that gap (main job
 * measured side by side: 7.3 % emulator overhead with 4 hosts on 2 cores, 7.8–10.1 % with 2).
 */
export const HOSTS_PER_CORE = 2;

/** Spawned learner hosts when --hosts is not given: HOSTS_PER_CORE per core, at most K. */
export function defaultHosts(K: number, cores: number): number {
  return Math.min(K, HOSTS_PER_CORE * cores);
}

/**
 * Above this many local iterations per cycle a learner over-trains: each of its τ epochs is another
 * pass over the same small batch, so its model fits that batch and drifts from the others, and
 * adaptive allocation can lose to ETA (seen with a few hundred samples per learner, τ of 54–68).
 */
export const TAU_OVERTRAINING_WARN = 20;
