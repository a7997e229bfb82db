/**
 * The solver's coefficients for what really crosses our wire. The paper's model counts pixels
 * (F·P_d per sample) and weights (P_m·S_m); our frames also carry one label byte per sample and
 * a small header. Charging those exactly keeps every learner's emulated time, computed from the
 * bytes actually sent, within the deadline T the solver promised.
 */
import { coefficients, type Coefficients, type Scenario } from '../model/coefficients.ts';
import type { LearnerProfile } from '../model/devices.ts';
import { energyCoefficients, type EnergyCoefficients, type EnergyParams } from '../model/energy.ts';
import type { SystemParams } from '../model/params.ts';
import { TIMED_FRAME_OVERHEAD_BYTES } from '../protocol/messages.ts';

const LABEL_BITS = 8;

export function wireCoefficients(learner: LearnerProfile, params: SystemParams, scenario: Scenario): Coefficients {
  const c = coefficients(learner, params, scenario);
  const labelBits = scenario === 'parallel' ? LABEL_BITS : 0;
  return {
    c0_s: c.c0_s + (2 * 8 * TIMED_FRAME_OVERHEAD_BYTES) / learner.rate_bps,
    c1_s_per_sample: c.c1_s_per_sample + labelBits / learner.rate_bps,
    c2_s_per_sample_iter: c.c2_s_per_sample_iter,
  };
}

/**
 * The energy coefficients for the same bytes: the header of each frame costs P_tx on the way back
 * (and P_rx on the way out), a label byte per sample P_rx, so a budget the solver keeps is kept by the
 * energy computed from the bytes actually sent.
 */
export function wireEnergyCoefficients(
  learner: LearnerProfile,
  params: SystemParams,
  scenario: Scenario,
  e: EnergyParams,
): EnergyCoefficients {
  const c = energyCoefficients(learner, params, scenario, e);
  const labelBits = scenario === 'parallel' ? LABEL_BITS : 0;
  return {
    e0_j: c.e0_j + ((e.tx_power_w + e.rx_power_w) * 8 * TIMED_FRAME_OVERHEAD_BYTES) / learner.rate_bps,
    e1_j_per_sample: c.e1_j_per_sample + (e.rx_power_w * labelBits) / learner.rate_bps,
    e2_j_per_sample_iter: c.e2_j_per_sample_iter,
  };
}
