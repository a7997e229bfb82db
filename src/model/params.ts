/**
 * System parameters of the MEL time model (paper §II, Table I). Every field carries its unit in
 * its name so that nobody mixes bits with bytes or Hz with GHz. Pure data, no I/O.
 */
import { DEFAULT_MODEL } from '../nn/layout.ts';
import { flopsPerSample, inputSize, parameterCount, type ModelSpec } from '../nn/model-spec.ts';

export interface SystemParams {
  bandwidth_hz: number; // W per node
  tx_power_dbm: number; // P
  noise_dbm_per_hz: number; // N0 (noise power = N0·W)
  pathloss_a_db: number; // path loss (dB) = a + b·log10(R_m)  (Table I as printed)
  pathloss_b_db: number;
  radius_m: number; // learners are placed uniformly in a disc of this radius
  cpu_hz_choices: number[]; // the fleet is split into equal consecutive groups, one per entry
  features: number; // F, features per sample
  data_bits: number; // P_d, bits per feature
  model_bits: number; // P_m, bits per model coefficient
  model_coeffs_per_sample: number; // S_d, model coefficients that grow with the batch
  model_params: number; // S_m, fixed model coefficients
  flops_per_sample: number; // C_m, per sample per local iteration
}

/** Table I of the paper plus the MNIST/MLP constants of its §V-A. */
export const PAPER_PRESET: SystemParams = Object.freeze({
  bandwidth_hz: 5e6,
  tx_power_dbm: 23,
  noise_dbm_per_hz: -174,
  pathloss_a_db: 7,
  pathloss_b_db: 2.1,
  radius_m: 50,
  cpu_hz_choices: Object.freeze([2.4e9, 7e8]) as unknown as number[],
  features: inputSize(DEFAULT_MODEL.input),
  data_bits: 8,
  model_bits: 32,
  model_coeffs_per_sample: 0,
  model_params: parameterCount(DEFAULT_MODEL),
  flops_per_sample: flopsPerSample(DEFAULT_MODEL), // 1,123,736 = the paper's figure
}) as SystemParams;

/** The workload's share of the parameters: F from the input shape, S_m and C_m from the network. */
export function workloadParams(model: ModelSpec): Pick<SystemParams, 'features' | 'model_params' | 'flops_per_sample'> {
  return {
    features: inputSize(model.input),
    model_params: parameterCount(model),
    flops_per_sample: flopsPerSample(model),
  };
}
