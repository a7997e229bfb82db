/** A small, fast experiment configuration for tests: few learners, few samples, τ of a few. */
import { PAPER_PRESET } from '../../src/model/params.ts';
import { PARAM_COUNT } from '../../src/nn/mlp.ts';
import type { ExperimentConfig } from '../../src/orchestrator/config.ts';

export function smallConfig(overrides: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return {
    K: 3,
    T: 12,
    cycles: 2,
    schemes: ['optimal', 'eta'],
    seed: 7,
    scenario: 'parallel',
    alpha: null,
    train_samples: 2000,
    test_samples: 1000,
    minibatch: 64,
    lr: 0.1,
    local_iteration: 'epoch',
    clock: 'virtual',
    time_scale: 1,
    late: 'drop',
    engine: 'auto',
    backend: 'wasm',
    compute_slots: 2,
    host: '127.0.0.1',
    port: 0,
    external: false,
    heartbeat_s: 10,
    task_timeout_s: 120,
    join_timeout_s: 60,
    data_dir: null,
    learners_file: null,
    // 5× the paper's C_m: with 2000 samples τ stays at a few (ETA 2, optimal ~5), so tests train little.
    params: { ...PAPER_PRESET, model_params: PARAM_COUNT, flops_per_sample: 5 * PAPER_PRESET.flops_per_sample },
    faults: { kill: [], drop_prob: 0 },
    ...overrides,
  };
}
