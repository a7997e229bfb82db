/** Shared types of the allocation solvers (the problem of paper eq. 12 and its answers). */
import type { Coefficients } from '../model/coefficients.ts';
import type { EnergyCoefficients } from '../model/energy.ts';

/** The schemes that come with the emulator (scheme.ts registers each behind the Scheme interface). */
export type BuiltinSchemeName = 'eta' | 'analytical' | 'optimal' | 'async' | 'energy' | 'robust';
/** A scheme's name in a run: a built-in one, or a user's (--scheme-module, --scheme-cmd). */
export type SchemeName = BuiltinSchemeName | (string & {});
/** The paper's schemes: one τ for every learner. */
export const SYNC_SCHEMES: BuiltinSchemeName[] = ['eta', 'analytical', 'optimal'];
/** Beyond the paper: one τ_k per learner (per-learner.ts). */
export const PER_LEARNER_SCHEMES: BuiltinSchemeName[] = ['async', 'energy'];
/** The schemes that plan on one known fleet (what `npm run allocate` compares). */
export const SCHEMES: BuiltinSchemeName[] = [...SYNC_SCHEMES, ...PER_LEARNER_SCHEMES];

/**
 * `robust` is the exact optimum solved on per-learner lower quantiles of speed and rate (the caller
 * builds those coefficients, src/orchestrator/planner.ts), so it only means something in a run
 * whose world changes; experiments can run every scheme.
 */
export const EXPERIMENT_SCHEMES: BuiltinSchemeName[] = [...SCHEMES, 'robust'];

/** Why a command that plans on one known fleet (allocate, fig1) refuses `robust`. */
export const ROBUST_ONLY_IN_EXPERIMENTS = {
  robust:
    'plans on the quantiles of a world that changes (--speed-jitter, --fading, --trace, …): it runs only in `npm run experiment` and `npm run sweep`',
};

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
  /** Per-learner schemes: at most this max τ_k − min τ_k (absent = unbounded). */
  max_staleness?: number;
  /** E_k = e2·τ·d_k + e1·d_k + e0 per learner (model/energy.ts); the energy scheme needs it. */
  energy?: EnergyCoefficients[];
  /** Energy budget per learner and cycle, J (Infinity = none); the energy scheme needs it. */
  budget_j?: number[];
}

export interface FeasibleAllocation {
  feasible: true;
  scheme: SchemeName;
  /** min τ_k over learners with d_k > 0 (the one τ of a synchronous scheme) */
  tau: number;
  batch: number[];
  /** τ_k per learner: the scheme's τ for every participant of a synchronous scheme; 0 for a learner that sits out */
  tau_per_learner: number[];
  /** max τ_k − min τ_k over participants (gradient staleness); 0 for the synchronous schemes */
  staleness: number;
  time_s: number[];
  /** Energy scheme: E_k in J under (τ_k, d_k). */
  energy_j?: number[];
  /** Per-learner schemes: Σ τ_k·d_k, and whether the batches are the exact optimum (per-learner.ts). */
  work?: number;
  exact?: boolean;
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
