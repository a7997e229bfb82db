/**
 * config.json as written by any earlier version, brought to today's ExperimentConfig once, where it
 * is read: a setting a run predates gets the value that run actually ran with (the feature off), so
 * nothing downstream needs a fallback.
 */
import { DEFAULT_ENERGY_PARAMS } from '../model/energy.ts';
import { DEFAULT_MODEL_NAME } from '../nn/model-spec.ts';
import { DEFAULT_SCHEME_TIMEOUT_S } from '../schemes/index.ts';
import { ACCURACY_TARGETS, type ExperimentConfig } from './schema.ts';

// Values a run made before a setting existed ran with: the world static and known by its profile,
// no τ cap, unbounded staleness, FedAvg, tfjs (the only engine then), one host process per learner,
// the paper's MLP on MNIST, the default accuracy targets and none of the user's own schemes.
const BEFORE = {
  fleet_seed: null,
  tau_max: null,
  speed_jitter: 0,
  fading: 'none',
  shadowing_db: 0,
  speed_mps: 0,
  availability: 1,
  mean_on_cycles: null,
  trace_file: null,
  csi: 'profile',
  epsilon: 0.05,
  engine: 'tfjs',
  alpha: null,
  data_dir: null,
  learners_file: null,
  max_staleness: null,
  aggregate: 'fedavg',
  model: DEFAULT_MODEL_NAME,
  dataset: 'mnist',
  targets: [...ACCURACY_TARGETS],
  user_schemes: [],
  scheme_timeout_s: DEFAULT_SCHEME_TIMEOUT_S,
} as const satisfies Partial<ExperimentConfig>;

/** `raw`: a parsed config.json (or a campaign's shared base) that passed isRunConfig. */
export function migrateRunConfig<C extends object>(raw: C): C & ExperimentConfig {
  const c = raw as unknown as Partial<ExperimentConfig> & Record<string, unknown>;
  const filled: Record<string, unknown> = { ...c };
  for (const [key, value] of Object.entries(BEFORE)) if (filled[key] === undefined) filled[key] = value;
  if (filled.hosts === undefined) filled.hosts = c.K;
  const energy = c.energy ?? {
    kappa_j_per_cycle_hz2: DEFAULT_ENERGY_PARAMS.kappa_j_per_cycle_hz2,
    rx_power_w: DEFAULT_ENERGY_PARAMS.rx_power_w,
    budget_j: null,
  };
  filled.energy = energy;
  const faults: Partial<ExperimentConfig['faults']> = c.faults ?? {};
  filled.faults = { kill: faults.kill ?? [], drop_prob: faults.drop_prob ?? 0, kill_host: faults.kill_host ?? [] };
  return filled as C & ExperimentConfig;
}
