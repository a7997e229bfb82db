/**
 * One allocation run as plain data: the fleet with its coefficients and every requested scheme's
 * answer. The `allocate` CLI prints it (table or JSON) and the orchestrator can reuse it as is.
 */
import { coefficients, phaseTimes, type Scenario } from '../model/coefficients.ts';
import type { LearnerProfile } from '../model/devices.ts';
import type { SystemParams } from '../model/params.ts';
import { solve } from './index.ts';
import { SYNC_SCHEMES, type Allocation, type SchemeName } from './types.ts';

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
  allocations: Partial<Record<SchemeName, Allocation>>;
  /** Share of the cycle spent on communication, per feasible scheme. */
  communication_share: Partial<Record<SchemeName, CommunicationShare>>;
}

export interface ReportOptions {
  T_s: number;
  d: number;
  scenario: Scenario;
  schemes?: SchemeName[];
}

export function buildAllocationReport(fleet: LearnerProfile[], params: SystemParams, opts: ReportOptions): AllocationReport {
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
  for (const scheme of opts.schemes ?? SYNC_SCHEMES) {
    const a = solve(scheme, { coeffs, T_s: opts.T_s, d: opts.d });
    allocations[scheme] = a;
    if (a.feasible) communication_share[scheme] = communicationShare(fleet, params, opts.scenario, a.tau, a.batch, opts.T_s);
  }
  return { K: fleet.length, T: opts.T_s, d: opts.d, scenario: opts.scenario, learners, allocations, communication_share };
}

/** (t_S + t_R)/T over the learners that take part (d_k > 0). */
export function communicationShare(
  fleet: LearnerProfile[],
  params: SystemParams,
  scenario: Scenario,
  tau: number,
  batch: number[],
  T_s: number,
): CommunicationShare {
  let sum = 0;
  let max = 0;
  let n = 0;
  fleet.forEach((l, k) => {
    if (batch[k] === 0) return;
    const ph = phaseTimes(l, params, scenario, tau, batch[k]);
    const share = (ph.t_send_s + ph.t_return_s) / T_s;
    sum += share;
    max = Math.max(max, share);
    n++;
  });
  return { mean: n ? sum / n : 0, max };
}
