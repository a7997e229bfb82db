/** Everything that defines an experiment run; written whole to config.json so a run can be repeated or resumed. */
import type { SchemeName } from '../allocation/types.ts';
import type { Scenario } from '../model/coefficients.ts';
import type { SystemParams } from '../model/params.ts';
import type { BackendPreference, EnginePreference } from '../nn/engine.ts';
import type { ClockMode } from '../emulation/clock.ts';

export interface FaultPlan {
  /** Kill learner `learner`'s process right after its task of cycle `cycle` was sent. */
  kill: { learner: number; cycle: number }[];
  /** Probability that a learner's finished result is lost on the way back (seeded). */
  drop_prob: number;
}

export interface ExperimentConfig {
  K: number;
  T: number; // global cycle clock, seconds
  cycles: number;
  schemes: SchemeName[];
  seed: number;
  /**
   * Seed of the generated fleet (positions → channels) when it should differ from `seed`: a campaign
   * with --fixed-fleet keeps its first seed's fleet and varies only the training randomness.
   * Absent = `seed`.
   */
  fleet_seed?: number;
  scenario: Scenario;
  alpha: number | null; // federated: Dirichlet concentration for non-IID shards; null = IID
  train_samples: number; // d
  test_samples: number;
  minibatch: number;
  lr: number;
  local_iteration: 'epoch' | 'step';
  clock: ClockMode;
  time_scale: number;
  late: 'drop' | 'wait';
  /**
   * σ of a seeded log-normal factor exp(σ·N(0,1)) applied each cycle to every learner's real CPU
   * speed and link rate; the allocation only knows the nominal ones, so a slowed learner can miss T.
   * 0 (default) = devices exactly as profiled.
   */
  speed_jitter?: number;
  engine: EnginePreference;
  /** tfjs backend, when the tfjs engine runs */
  backend: BackendPreference;
  compute_slots: number;
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
}
