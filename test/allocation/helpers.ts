/** Random problem generators for the allocation tests (seeded: failures reproduce). */
import { coefficients, type Coefficients, type Scenario } from '../../src/model/coefficients.ts';
import { generateFleet } from '../../src/model/devices.ts';
import { PAPER_PRESET, type SystemParams } from '../../src/model/params.ts';
import type { AllocationProblem } from '../../src/allocation/types.ts';
import type { Rng } from '../../src/util/rng.ts';

export const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng.next();
export const logUniform = (rng: Rng, lo: number, hi: number) => Math.exp(uniform(rng, Math.log(lo), Math.log(hi)));

/** Table I with a randomised cell radius, bandwidth, CPU speeds and model growth per sample. */
export function randomPaperParams(rng: Rng): SystemParams {
  return {
    ...PAPER_PRESET,
    radius_m: uniform(rng, 5, 500),
    bandwidth_hz: logUniform(rng, 1e5, 2e7),
    cpu_hz_choices:
      rng.next() < 0.5
        ? [2.4e9, 7e8]
        : [logUniform(rng, 1e8, 4e9), logUniform(rng, 1e8, 4e9), logUniform(rng, 1e8, 4e9)],
    model_coeffs_per_sample: rng.next() < 0.3 ? rng.int(5) : 0,
  };
}

/** A fleet drawn like the paper's, but with randomised K, T, d, scenario and parameters. */
export function randomPaperProblem(rng: Rng): AllocationProblem & { params: SystemParams; scenario: Scenario } {
  const params = randomPaperParams(rng);
  const scenario: Scenario = rng.next() < 0.5 ? 'parallel' : 'federated';
  const K = 1 + rng.int(60);
  const fleet = generateFleet(K, rng.int(1_000_000), params);
  const coeffs = fleet.map((l) => coefficients(l, params, scenario));
  const T_s = logUniform(rng, 0.05, 200);
  const d = 1 + rng.int(rng.next() < 0.5 ? 1000 : 60000);
  return { coeffs, T_s, d, params, scenario };
}

/** Arbitrary coefficients, including learners that cannot exchange the model (C0 ≥ T). */
export function randomCoefficients(rng: Rng, K: number, T_s: number): Coefficients[] {
  return Array.from({ length: K }, () => ({
    c0_s: rng.next() < 0.15 ? uniform(rng, T_s, 2 * T_s) : uniform(rng, 0, 0.6 * T_s),
    c1_s_per_sample: rng.next() < 0.3 ? 0 : logUniform(rng, 1e-4, 0.3),
    c2_s_per_sample_iter: logUniform(rng, 0.01, 0.5),
  }));
}
