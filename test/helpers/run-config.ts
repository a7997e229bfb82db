/** A small, fast experiment configuration for tests: few learners, few samples, τ of a few. */
import { PAPER_PRESET } from '../../src/model/params.ts';
import { PARAM_COUNT } from '../../src/nn/mlp.ts';
import { DEFAULT_MODEL_NAME } from '../../src/nn/model-spec.ts';
import { DEFAULT_EXPERIMENT, type ExperimentConfig } from '../../src/orchestrator/config.ts';
import { ACCURACY_TARGETS } from '../../src/run-folder/schema.ts';
import { DEFAULT_SCHEME_TIMEOUT_S } from '../../src/schemes/index.ts';

export function smallConfig(overrides: Partial<ExperimentConfig> = {}): ExperimentConfig {
  const { drop_prob, ...defaults } = DEFAULT_EXPERIMENT;
  return {
    ...defaults,
    schemes: [...defaults.schemes],
    K: 3,
    cycles: 2,
    seed: 7,
    alpha: null,
    fleet_seed: null,
    tau_max: null,
    mean_on_cycles: null,
    trace_file: null,
    hosts: 3,
    train_samples: 2000,
    test_samples: 1000,
    backend: 'wasm',
    compute_slots: 2,
    task_timeout_s: 120,
    join_timeout_s: 60,
    data_dir: null,
    learners_file: null,
    // 5× the paper's C_m: with 2000 samples τ stays at a few (ETA 2, optimal ~5), so tests train little.
    params: { ...PAPER_PRESET, model_params: PARAM_COUNT, flops_per_sample: 5 * PAPER_PRESET.flops_per_sample },
    faults: { kill: [], drop_prob, kill_host: [] },
    model: DEFAULT_MODEL_NAME,
    dataset: 'mnist',
    targets: [...ACCURACY_TARGETS],
    user_schemes: [],
    scheme_timeout_s: DEFAULT_SCHEME_TIMEOUT_S,
    ...overrides,
  };
}
