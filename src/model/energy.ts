/**
 * Energy a learner spends in one global cycle (beyond the paper; the model of its follow-up,
 * arXiv 2012.00143): compute plus radio. Pure functions, joules, watts, hertz, seconds.
 *   compute  E_C = κ·f_k²·(τ_k·d_k·C_m)      CMOS dynamic power κ·f³ for τ·d·C_m/f seconds;
 *                                             C_m counts CPU cycles, as t_C = d·C_m/f already assumes
 *   radio    E_R = P_tx·t_R (+ P_rx·t_S)      sending the local model back (+ receiving batch and model)
 * In coefficient form, like the time model: E_k = e2·τ·d_k + e1·d_k + e0 (0 when d_k = 0), so an
 * energy budget caps a learner's batch exactly the way the deadline does.
 */
import { InputError } from '../errors.ts';
import { dbmToWatts } from './channel.ts';
import { phaseTimes, type Scenario } from './coefficients.ts';
import type { LearnerProfile } from './devices.ts';
import { PAPER_PRESET, type SystemParams } from './params.ts';

export interface EnergyParams {
  kappa_j_per_cycle_hz2: number; // κ, effective switched capacitance
  tx_power_w: number; // P_tx while the learner sends its model back (t_R)
  rx_power_w: number; // while it receives batch + global model (t_S); 0 = not counted
}

/**
 * κ = 1e-28 puts a 2.4 GHz core at κ·f³ ≈ 1.4 W; P_tx is Table I's P = 23 dBm ≈ 0.1995 W;
 * receiving is free unless asked for.
 */
export const DEFAULT_ENERGY_PARAMS: EnergyParams = Object.freeze({
  kappa_j_per_cycle_hz2: 1e-28,
  tx_power_w: dbmToWatts(PAPER_PRESET.tx_power_dbm),
  rx_power_w: 0,
});

/** The defaults with P_tx taken from the system's transmit power (the one the link rate uses). */
export function energyParamsFor(p: SystemParams, overrides: Partial<EnergyParams> = {}): EnergyParams {
  return { ...DEFAULT_ENERGY_PARAMS, tx_power_w: dbmToWatts(p.tx_power_dbm), ...overrides };
}

/** κ·f²·(τ·d·C_m): the energy of τ local iterations over d samples. */
export function computeEnergyJ(
  f_hz: number,
  tau: number,
  d_k: number,
  cycles_per_sample: number,
  kappa_j_per_cycle_hz2: number,
): number {
  return kappa_j_per_cycle_hz2 * f_hz * f_hz * (tau * d_k * cycles_per_sample);
}

/** P_tx·t_R + P_rx·t_S. */
export function radioEnergyJ(t_send_s: number, t_return_s: number, e: EnergyParams): number {
  return e.tx_power_w * t_return_s + e.rx_power_w * t_send_s;
}

export interface EnergyBreakdown {
  compute_j: number;
  radio_j: number;
  total_j: number;
}

/** Learner l's energy in one cycle with τ iterations on d_k samples; all zero when it sits out. */
export function learnerEnergy(
  l: LearnerProfile,
  p: SystemParams,
  scenario: Scenario,
  tau: number,
  d_k: number,
  e: EnergyParams = DEFAULT_ENERGY_PARAMS,
): EnergyBreakdown {
  if (d_k === 0) return { compute_j: 0, radio_j: 0, total_j: 0 };
  const ph = phaseTimes(l, p, scenario, tau, d_k);
  const compute_j = computeEnergyJ(l.f_hz, tau, d_k, p.flops_per_sample, e.kappa_j_per_cycle_hz2);
  const radio_j = radioEnergyJ(ph.t_send_s, ph.t_return_s, e);
  return { compute_j, radio_j, total_j: compute_j + radio_j };
}

/** E_k = e2·τ·d_k + e1·d_k + e0, the energy analogue of Coefficients. */
export interface EnergyCoefficients {
  e0_j: number;
  e1_j_per_sample: number;
  e2_j_per_sample_iter: number;
}

/**
 * e2 = κ·f²·C_m; e1 = (P_tx·P_m·S_d + P_rx·(F·P_d + P_m·S_d))/r (F·P_d only in the task-parallel
 * scenario); e0 = (P_tx + P_rx)·P_m·S_m/r.
 */
export function energyCoefficients(
  l: LearnerProfile,
  p: SystemParams,
  scenario: Scenario,
  e: EnergyParams = DEFAULT_ENERGY_PARAMS,
): EnergyCoefficients {
  const dataBits = scenario === 'parallel' ? p.features * p.data_bits : 0;
  const modelBitsPerSample = p.model_bits * p.model_coeffs_per_sample;
  return {
    e0_j: ((e.tx_power_w + e.rx_power_w) * p.model_bits * p.model_params) / l.rate_bps,
    e1_j_per_sample: (e.tx_power_w * modelBitsPerSample + e.rx_power_w * (dataBits + modelBitsPerSample)) / l.rate_bps,
    e2_j_per_sample_iter: e.kappa_j_per_cycle_hz2 * l.f_hz * l.f_hz * p.flops_per_sample,
  };
}

/** e2·τ·d + e1·d + e0; 0 when d_k = 0 (same order of operations as learnerTime). */
export function learnerEnergyJ(ec: EnergyCoefficients, tau: number, d_k: number): number {
  if (d_k === 0) return 0;
  return ec.e2_j_per_sample_iter * tau * d_k + ec.e1_j_per_sample * d_k + ec.e0_j;
}

/**
 * Every learner's energy must stay a finite number of joules up to τ = tauMax on all d samples: a κ
 * or P_rx so large that it overflows would make every energy in the run Infinity (blank cells in
 * learners.csv, a refused energy scheme). Refused up front, naming the flags.
 */
export function assertFiniteEnergy(
  fleet: LearnerProfile[],
  p: SystemParams,
  scenario: Scenario,
  e: EnergyParams,
  d: number,
  tauMax: number,
): void {
  for (const l of fleet) {
    const j = learnerEnergyJ(energyCoefficients(l, p, scenario, e), tauMax, d);
    if (!Number.isFinite(j))
      throw new InputError(
        `learner ${l.id} would spend ${j} J in a cycle of τ = ${tauMax} on ${d} samples; energy must stay finite (check --kappa, now ${e.kappa_j_per_cycle_hz2} J/(cycle·Hz²), and --rx-power-w, now ${e.rx_power_w} W)`,
      );
  }
}
