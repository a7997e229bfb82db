/**
 * One allocation run as plain data: the fleet with its coefficients and every requested scheme's
 * answer. The `allocate` CLI prints it (table or JSON) and the orchestrator can reuse it as is.
 */
import { coefficients, phaseTimes, type Scenario } from '../model/coefficients.ts';
import type { LearnerProfile } from '../model/devices.ts';
import type { SystemParams } from '../model/params.ts';
import { schemeRegistry } from './index.ts';
import type { SchemeRegistry } from './scheme.ts';
import { SYNC_SCHEMES, type Allocation, type SchemeName } from './types.ts';
import { DEFAULT_ENERGY_PARAMS, energyCoefficients, learnerEnergy, type EnergyParams } from '../model/energy.ts';

export interface AllocatedLearner {
  id: number;
  f_hz: number;
  distance_m: number | null; // null when the user gave the rate directly
  rate_bps: number;
  c0: number; // s
  c1: number; // s per sample
  c2: number; // s per sample per iteration
}

export interface CommunicationShare {
  mean: number; // mean over participating learners of (t_S + t_R)/T
  max: number;
}

export interface AllocationReport {
  K: number;
  T: number; // s
  d: number;
  scenario: Scenario;
  learners: AllocatedLearner[];
  allocations: Record<string, Allocation>;
  /** Share of the cycle spent on communication, per feasible scheme. */
  communication_share: Record<string, CommunicationShare>;
  /** Joules per learner in one cycle (compute + radio, model/energy.ts), per feasible scheme. */
  energy_j: Record<string, number[]>;
}

export interface ReportOptions {
  T_s: number;
  d: number;
  scenario: Scenario;
  schemes?: SchemeName[];
  /** per-learner schemes: at most this max τ_k − min τ_k */
  max_staleness?: number;
  /** the energy model; default DEFAULT_ENERGY_PARAMS */
  energy?: EnergyParams;
  /** energy budget per learner (the energy scheme needs it); Infinity = none */
  budget_j?: number[];
  /** the schemes by name: the built-in ones, and the user's (default: the built-in ones) */
  registry?: SchemeRegistry;
}

export async function buildAllocationReport(
  fleet: LearnerProfile[],
  params: SystemParams,
  opts: ReportOptions,
): Promise<AllocationReport> {
  const coeffs = fleet.map((l) => coefficients(l, params, opts.scenario));
  const learners = fleet.map((l, k) => ({
    id: l.id,
    f_hz: l.f_hz,
    distance_m: l.distance_m ?? null,
    rate_bps: l.rate_bps,
    c0: coeffs[k].c0_s,
    c1: coeffs[k].c1_s_per_sample,
    c2: coeffs[k].c2_s_per_sample_iter,
  }));
  const allocations: AllocationReport['allocations'] = {};
  const communication_share: AllocationReport['communication_share'] = {};
  const energy_j: AllocationReport['energy_j'] = {};
  const e = opts.energy ?? DEFAULT_ENERGY_PARAMS;
  const problem = {
    cycle: 0,
    devices: fleet.map((l) => ({ id: l.id, f_hz: l.f_hz, rate_bps: l.rate_bps })),
    coeffs,
    T_s: opts.T_s,
    d: opts.d,
    ...(opts.max_staleness !== undefined ? { max_staleness: opts.max_staleness } : {}),
    energy: fleet.map((l) => energyCoefficients(l, params, opts.scenario, e)),
    budget_j: opts.budget_j ?? fleet.map(() => Infinity),
  };
  const registry = opts.registry ?? schemeRegistry();
  for (const scheme of opts.schemes ?? SYNC_SCHEMES) {
    const a = await registry.get(scheme).allocate(problem);
    allocations[scheme] = a;
    if (!a.feasible) continue;
    communication_share[scheme] = communicationShare(
      fleet,
      params,
      opts.scenario,
      a.tau_per_learner,
      a.batch,
      opts.T_s,
    );
    energy_j[scheme] = fleet.map(
      (l, k) => learnerEnergy(l, params, opts.scenario, a.tau_per_learner[k], a.batch[k], e).total_j,
    );
  }
  return {
    K: fleet.length,
    T: opts.T_s,
    d: opts.d,
    scenario: opts.scenario,
    learners,
    allocations,
    communication_share,
    energy_j,
  };
}

/** (t_S + t_R)/T over the learners that take part (d_k > 0). */
export function communicationShare(
  fleet: LearnerProfile[],
  params: SystemParams,
  scenario: Scenario,
  tau_per_learner: number[],
  batch: number[],
  T_s: number,
): CommunicationShare {
  let sum = 0;
  let max = 0;
  let n = 0;
  fleet.forEach((l, k) => {
    if (batch[k] === 0) return;
    const ph = phaseTimes(l, params, scenario, tau_per_learner[k], batch[k]);
    const share = (ph.t_send_s + ph.t_return_s) / T_s;
    sum += share;
    max = Math.max(max, share);
    n++;
  });
  return { mean: n ? sum / n : 0, max };
}
