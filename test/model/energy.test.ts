import { describe, it, expect } from 'vitest';
import { phaseTimes } from '../../src/model/coefficients.ts';
import type { LearnerProfile } from '../../src/model/devices.ts';
import {
  computeEnergyJ,
  DEFAULT_ENERGY_PARAMS,
  energyCoefficients,
  energyParamsFor,
  learnerEnergy,
  learnerEnergyJ,
  radioEnergyJ,
} from '../../src/model/energy.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';
import { createRng } from '../../src/util/rng.ts';

const rel = (x: number, want: number, tol = 1e-14) => expect(Math.abs(x - want) / Math.abs(want)).toBeLessThan(tol);

// The worked example (Table I constants, round link rate):
//   f = 2.4 GHz, d = 1000, τ = 5, C_m = 1 123 736 cycles, κ = 1e-28 J/(cycle·Hz²)
//   κ·f² = 1e-28 · 5.76e18 = 5.76e-10 J/cycle;  τ·d·C_m = 5 · 1000 · 1 123 736 = 5.61868e9 cycles
//   E_C = 5.76e-10 · 5.61868e9 = 3.23635968 J
//   at 700 MHz: κ·f² = 4.9e-11 → E_C = 0.27531532 J, (2.4/0.7)² = 11.755× less
//   r = 1e8 bit/s: t_R = 32 · 280 934 / 1e8 = 0.08989888 s; P_tx = 23 dBm = 10^(−0.7) W = 0.199526… W
//   E_R = 0.199526231… · 0.08989888 = 0.0179371847… J
//   with P_rx = 0.1 W: t_S = (1000 · 784 · 8 + 32 · 280 934)/1e8 = 0.15261888 s → + 0.015261888 J
const fast: LearnerProfile = { id: 0, f_hz: 2.4e9, rate_bps: 1e8 };
const slow: LearnerProfile = { id: 1, f_hz: 7e8, rate_bps: 1e8 };

describe('energy model by hand', () => {
  it('the README example: learner 0 of the reference run under optimal (τ = 5, d_k = 4 636)', () => {
    // 1e-28 · (2.4e9)² · 5 · 4 636 · 1 123 736 = 15.00376347648 J; 0.19953 W · 0.0453104 s = 0.0090406 J
    rel(computeEnergyJ(2.4e9, 5, 4636, 1_123_736, 1e-28), 15.00376347648);
    rel(radioEnergyJ(0.19191866754781697, 0.045310369886173735, DEFAULT_ENERGY_PARAMS), 0.009040607351118323);
  });

  it('compute energy κ·f²·τ·d·C_m', () => {
    rel(computeEnergyJ(2.4e9, 5, 1000, 1_123_736, 1e-28), 3.23635968);
    rel(computeEnergyJ(7e8, 5, 1000, 1_123_736, 1e-28), 0.27531532);
    rel(
      computeEnergyJ(2.4e9, 5, 1000, 1_123_736, 1e-28) / computeEnergyJ(7e8, 5, 1000, 1_123_736, 1e-28),
      (24 / 7) ** 2,
    );
    // κ·f³: the power of a busy 2.4 GHz core, a plausible 1.38 W
    rel(1e-28 * 2.4e9 ** 3, 1.3824);
  });

  it('defaults: κ = 1e-28, P_tx = 23 dBm, no receive power', () => {
    expect(DEFAULT_ENERGY_PARAMS.kappa_j_per_cycle_hz2).toBe(1e-28);
    rel(DEFAULT_ENERGY_PARAMS.tx_power_w, 0.19952623149688797);
    expect(DEFAULT_ENERGY_PARAMS.rx_power_w).toBe(0);
    expect(Object.isFrozen(DEFAULT_ENERGY_PARAMS)).toBe(true);
    rel(energyParamsFor({ ...PAPER_PRESET, tx_power_dbm: 30 }).tx_power_w, 1);
    expect(energyParamsFor(PAPER_PRESET, { rx_power_w: 0.1 }).rx_power_w).toBe(0.1);
  });

  it('one learner and cycle: compute + radio', () => {
    const e = learnerEnergy(fast, PAPER_PRESET, 'parallel', 5, 1000);
    rel(e.compute_j, 3.23635968);
    rel(e.radio_j, 0.017937184742190953);
    rel(e.total_j, 3.23635968 + 0.017937184742190953);
    const withRx = learnerEnergy(fast, PAPER_PRESET, 'parallel', 5, 1000, {
      ...DEFAULT_ENERGY_PARAMS,
      rx_power_w: 0.1,
    });
    rel(withRx.radio_j, 0.017937184742190953 + 0.015261888);
    rel(radioEnergyJ(0.15261888, 0.08989888, { ...DEFAULT_ENERGY_PARAMS, rx_power_w: 0.1 }), 0.03319907274219096);
    // Table I: compute dominates, and the 2.4 GHz learner pays ~12× more per sample than the 700 MHz one.
    const s = learnerEnergy(slow, PAPER_PRESET, 'parallel', 5, 1000);
    expect(e.compute_j / e.radio_j).toBeGreaterThan(100);
    expect(e.total_j / s.total_j).toBeGreaterThan(11);
  });

  it('a learner that sits out spends nothing', () => {
    expect(learnerEnergy(fast, PAPER_PRESET, 'parallel', 5, 0)).toEqual({ compute_j: 0, radio_j: 0, total_j: 0 });
    expect(learnerEnergyJ(energyCoefficients(fast, PAPER_PRESET, 'parallel'), 5, 0)).toBe(0);
  });

  it('coefficient form: e2 = κ·f²·C_m, e1 = 0 with S_d = 0 and no receive power, e0 = P_tx·t_R', () => {
    const ec = energyCoefficients(fast, PAPER_PRESET, 'parallel');
    rel(ec.e2_j_per_sample_iter, 1e-28 * 5.76e18 * 1_123_736);
    expect(ec.e1_j_per_sample).toBe(0);
    rel(ec.e0_j, 0.017937184742190953);
    rel(learnerEnergyJ(ec, 5, 1000), 3.23635968 + 0.017937184742190953);
  });
});

describe('energy coefficient form equals the phase form', () => {
  it('over random learners, parameters, scenarios and (τ, d)', () => {
    const rng = createRng(2012_00143);
    for (let i = 0; i < 500; i++) {
      const l: LearnerProfile = { id: i, f_hz: 1e8 + rng.next() * 4e9, rate_bps: 1e5 + rng.next() * 1e9 };
      const p = { ...PAPER_PRESET, model_coeffs_per_sample: rng.int(4) };
      const e = {
        kappa_j_per_cycle_hz2: 1e-29 + rng.next() * 1e-27,
        tx_power_w: 0.01 + rng.next(),
        rx_power_w: rng.next() < 0.5 ? 0 : rng.next(),
      };
      const scenario = rng.next() < 0.5 ? 'parallel' : 'federated';
      const tau = 1 + rng.int(50);
      const d_k = 1 + rng.int(5000);
      const want = learnerEnergy(l, p, scenario, tau, d_k, e);
      rel(learnerEnergyJ(energyCoefficients(l, p, scenario, e), tau, d_k), want.total_j, 1e-12);
      // and the phase form is built from the same phase times as the time model
      const ph = phaseTimes(l, p, scenario, tau, d_k);
      rel(want.radio_j, e.tx_power_w * ph.t_return_s + e.rx_power_w * ph.t_send_s);
      rel(want.compute_j, e.kappa_j_per_cycle_hz2 * l.f_hz ** 2 * tau * d_k * p.flops_per_sample, 1e-14);
    }
  });
});
