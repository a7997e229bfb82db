/**
 * The time model t_k = C2·τ·d_k + C1·d_k + C0 (paper eqs. 4–11) for the two scenarios:
 * task-parallel (the orchestrator ships batch + weights) and federated (learners hold their data,
 * only the weights travel).
 */
import type { LearnerProfile } from './devices.ts';
import type { SystemParams } from './params.ts';

export type Scenario = 'parallel' | 'federated';
export const SCENARIOS: Scenario[] = ['parallel', 'federated'];

export interface Coefficients {
  c0_s: number;
  c1_s_per_sample: number;
  c2_s_per_sample_iter: number;
}

/** Bits per sample of the batch itself: shipped only in the task-parallel scenario. */
function dataBitsPerSample(p: SystemParams, scenario: Scenario): number {
  return scenario === 'parallel' ? p.features * p.data_bits : 0;
}

/** C2 = C_m/f, C1 = (F·P_d + 2·P_m·S_d)/r (F·P_d dropped when federated), C0 = 2·P_m·S_m/r. */
export function coefficients(l: LearnerProfile, p: SystemParams, scenario: Scenario): Coefficients {
  return {
    c0_s: (2 * p.model_bits * p.model_params) / l.rate_bps,
    c1_s_per_sample: (dataBitsPerSample(p, scenario) + 2 * p.model_bits * p.model_coeffs_per_sample) / l.rate_bps,
    c2_s_per_sample_iter: p.flops_per_sample / l.f_hz,
  };
}

/** One learner's cycle: the model's prediction (phaseTimes) or the emulated timeline of real bytes (emulation/timing.ts). */
export interface PhaseTimes {
  t_send_s: number; // orchestrator → learner (batch + model)
  t_compute_s: number; // τ local iterations
  t_return_s: number; // learner → orchestrator (model)
  t_total_s: number;
}

/** The three phases of one cycle for learner l; all zero when d_k = 0 (it sits the cycle out). */
export function phaseTimes(
  l: LearnerProfile,
  p: SystemParams,
  scenario: Scenario,
  tau: number,
  d_k: number,
): PhaseTimes {
  if (d_k === 0) return { t_send_s: 0, t_compute_s: 0, t_return_s: 0, t_total_s: 0 };
  const model_bits = p.model_bits * (d_k * p.model_coeffs_per_sample + p.model_params);
  const t_send_s = (d_k * dataBitsPerSample(p, scenario) + model_bits) / l.rate_bps;
  const t_compute_s = (tau * d_k * p.flops_per_sample) / l.f_hz;
  const t_return_s = model_bits / l.rate_bps;
  return { t_send_s, t_compute_s, t_return_s, t_total_s: t_send_s + t_compute_s + t_return_s };
}

/** C2·τ·d + C1·d + C0; 0 when d_k = 0 because a learner given nothing exchanges nothing. */
export function learnerTime(c: Coefficients, tau: number, d_k: number): number {
  if (d_k === 0) return 0;
  return c.c2_s_per_sample_iter * tau * d_k + c.c1_s_per_sample * d_k + c.c0_s;
}
