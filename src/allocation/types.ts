/** Shared types of the allocation solvers (the problem of paper eq. 12 and its answers). */
import type { Coefficients } from '../model/coefficients.ts';

export type SchemeName = 'eta' | 'analytical' | 'optimal' | 'robust';
/** The schemes that plan on one known fleet (what `npm run allocate` compares). */
export const SCHEMES: SchemeName[] = ['eta', 'analytical', 'optimal'];

/**
 * `robust` is the exact optimum solved on per-learner lower quantiles of speed and rate (the caller
 * builds those coefficients, src/orchestrator/planner.ts), so it only means something in a run
 * whose world changes; experiments can run every scheme.
 */
export const EXPERIMENT_SCHEMES: SchemeName[] = [...SCHEMES, 'robust'];

/** Maximise integer τ s.t. C2_k·τ·d_k + C1_k·d_k + C0_k ≤ T_s for every k with d_k > 0, Σ d_k = d. */
export interface AllocationProblem {
  coeffs: Coefficients[];
  T_s: number;
  d: number;
  /**
   * At most this many local iterations (an integer ≥ 1): τ = min(τ_best, tau_max). Lowering τ only
   * frees time, so every learner still meets T; absent = no cap (results unchanged).
   */
  tau_max?: number;
}

export interface FeasibleAllocation {
  feasible: true;
  scheme: SchemeName;
  tau: number;
  batch: number[];
  time_s: number[];
  /** Analytical only: the real root τ* of Σ a_k/(τ + b_k) = d. */
  tau_relaxed?: number;
  /** Analytical only: how far the suggest-and-improve repair had to go from the relaxed solution. */
  repair?: { tau_lowered_by: number; samples_moved: number };
}

export interface InfeasibleAllocation {
  feasible: false;
  scheme: SchemeName;
  reason: string;
  /** Learner indices whose constraints bind, most limiting first. */
  binding: number[];
  tau_relaxed?: number;
}

export type Allocation = FeasibleAllocation | InfeasibleAllocation;
