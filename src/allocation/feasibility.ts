/**
 * One definition of "learner k meets the deadline", shared by every solver and by the capacity
 * formula, so that the search for τ and the final check can never disagree.
 */
import { learnerTime, type Coefficients } from '../model/coefficients.ts';
import type { AllocationProblem } from './types.ts';

/** A time within this relative distance above T counts as on time (floating-point noise, not slack). */
export const REL_EPS = 1e-9;

/** Largest d allowed so that cap·d stays an exact integer in a double (d² < 2^53). */
export const MAX_TOTAL_SAMPLES = 2 ** 26;

/** Longest global cycle clock T, s (~11.6 days): beyond it no deadline means anything to a run. */
export const MAX_T_S = 1e6;

/** Past this a count no longer steps by one in a double: the nudging searches stop there (else they spin). */
const COUNT_LIMIT = Number.MAX_SAFE_INTEGER;

export function deadlineWithTolerance(T_s: number): number {
  return T_s * (1 + REL_EPS);
}

/**
 * The one deadline test. Same arithmetic as learnerTime (C2·τ·d + C1·d + C0, in that order) so a
 * solver's search and the final times agree bit for bit. T ≤ C0: the model exchange alone does
 * not fit, no tolerance granted. d_k = 0 always fits (the learner sits out).
 */
function fitsRaw(c0: number, c1: number, c2: number, tau: number, d_k: number, T_s: number): boolean {
  if (d_k === 0) return true;
  if (c0 >= T_s) return false;
  return c2 * tau * d_k + c1 * d_k + c0 <= deadlineWithTolerance(T_s);
}

function capacityRaw(c0: number, c1: number, c2: number, tau: number, T_s: number, Ttol_s: number): number {
  if (c0 >= T_s) return 0;
  // Solve against the tolerant deadline so the nudging below moves by at most a step or two.
  // (Inlined fitsRaw: this runs K·log τ times per solve.)
  let cap = Math.floor((Ttol_s - c0) / (tau * c2 + c1));
  if (cap >= COUNT_LIMIT) return cap; // no nudging: too large to step by one
  if (cap < 0) cap = 0;
  while (c2 * tau * (cap + 1) + c1 * (cap + 1) + c0 <= Ttol_s) cap++;
  while (cap > 0 && c2 * tau * cap + c1 * cap + c0 > Ttol_s) cap--;
  return cap;
}

/** Learner with coefficients c can take d_k samples at τ iterations within T. */
export function fits(c: Coefficients, tau: number, d_k: number, T_s: number): boolean {
  return fitsRaw(c.c0_s, c.c1_s_per_sample, c.c2_s_per_sample_iter, tau, d_k, T_s);
}

/**
 * cap_k(τ) = ⌊(T − C0)/(τ·C2 + C1)⌋: the most samples learner c can take at τ (T with the REL_EPS
 * tolerance), nudged until it agrees with `fits` exactly (rounding can put the closed form one off).
 * Infinity if C2 = C1 = 0 (validateProblem rules that out for the solvers).
 */
export function capacity(c: Coefficients, tau: number, T_s: number): number {
  return capacityRaw(c.c0_s, c.c1_s_per_sample, c.c2_s_per_sample_iter, tau, T_s, deadlineWithTolerance(T_s));
}

/** Coefficients as three typed arrays: the τ searches scan them many times (K up to 10^5). */
export interface PackedCoefficients {
  c0: Float64Array;
  c1: Float64Array;
  c2: Float64Array;
}

export function pack(coeffs: Coefficients[]): PackedCoefficients {
  const K = coeffs.length;
  const out = { c0: new Float64Array(K), c1: new Float64Array(K), c2: new Float64Array(K) };
  for (let k = 0; k < K; k++) {
    out.c0[k] = coeffs[k].c0_s;
    out.c1[k] = coeffs[k].c1_s_per_sample;
    out.c2[k] = coeffs[k].c2_s_per_sample_iter;
  }
  return out;
}

/** cap_k(τ) for every learner. */
export function capacities(pk: PackedCoefficients, tau: number, T_s: number): number[] {
  const caps = new Array<number>(pk.c0.length);
  const Ttol_s = deadlineWithTolerance(T_s);
  for (let k = 0; k < caps.length; k++) caps[k] = capacityRaw(pk.c0[k], pk.c1[k], pk.c2[k], tau, T_s, Ttol_s);
  return caps;
}

/** Σ_k cap_k(τ), stopping early once it reaches `enough` (only "≥ d?" matters in the τ search). */
export function totalCapacity(pk: PackedCoefficients, tau: number, T_s: number, enough = Infinity): number {
  let sum = 0;
  const K = pk.c0.length;
  const Ttol_s = deadlineWithTolerance(T_s);
  const { c0, c1, c2 } = pk;
  for (let k = 0; k < K && sum < enough; k++) sum += capacityRaw(c0[k], c1[k], c2[k], tau, T_s, Ttol_s);
  return sum;
}

/**
 * Largest integer τ at which learner c can process d_k ≥ 1 samples: ⌊(T − C0 − C1·d)/(C2·d)⌋,
 * nudged to agree with `fits`. Returns 0 when not even τ = 1 fits (or −Infinity when T ≤ C0).
 */
export function maxTau(c: Coefficients, d_k: number, T_s: number): number {
  if (c.c0_s >= T_s) return -Infinity;
  let tau = Math.floor(
    (deadlineWithTolerance(T_s) - c.c0_s - c.c1_s_per_sample * d_k) / (c.c2_s_per_sample_iter * d_k),
  );
  if (tau >= COUNT_LIMIT) return tau;
  if (tau < 0) tau = 0;
  while (fits(c, tau + 1, d_k, T_s)) tau++;
  while (tau > 0 && !fits(c, tau, d_k, T_s)) tau--;
  return tau;
}

/** Reject malformed problems loudly: the solvers' guarantees only hold on valid input. */
export function validateProblem(p: AllocationProblem): void {
  if (!(p.T_s > 0 && p.T_s <= MAX_T_S)) throw new RangeError(`T must be a number in (0, ${MAX_T_S}] s, got ${p.T_s}`);
  if (!Number.isInteger(p.d) || p.d < 1 || p.d > MAX_TOTAL_SAMPLES)
    throw new RangeError(`d must be an integer in [1, ${MAX_TOTAL_SAMPLES}], got ${p.d}`);
  if (p.tau_max !== undefined && !(Number.isInteger(p.tau_max) && p.tau_max >= 1))
    throw new RangeError(`tau_max must be an integer >= 1, got ${p.tau_max}`);
  if (p.coeffs.length === 0) throw new RangeError('the fleet is empty: need at least one learner');
  p.coeffs.forEach((c, k) => {
    const ok =
      Number.isFinite(c.c0_s) &&
      c.c0_s >= 0 &&
      Number.isFinite(c.c1_s_per_sample) &&
      c.c1_s_per_sample >= 0 &&
      Number.isFinite(c.c2_s_per_sample_iter) &&
      c.c2_s_per_sample_iter > 0;
    if (!ok)
      throw new RangeError(
        `learner ${k}: coefficients must be finite with C0 >= 0, C1 >= 0, C2 > 0, got ${JSON.stringify(c)}`,
      );
  });
}

/** t_k for every learner under (τ, batch). */
export function times(coeffs: Coefficients[], tau: number, batch: number[]): number[] {
  const out = new Array<number>(batch.length); // a plain loop: map() is ~3× slower at K = 10^5
  for (let k = 0; k < batch.length; k++) out[k] = learnerTime(coeffs[k], tau, batch[k]);
  return out;
}

/** τ_k of a synchronous allocation: τ for every learner with d_k > 0, 0 for those that sit out. */
export function syncTaus(tau: number, batch: number[]): number[] {
  return batch.map((n) => (n > 0 ? tau : 0));
}
