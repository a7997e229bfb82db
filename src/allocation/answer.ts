/**
 * The two messages a user's scheme reads and writes (docs/schemes.md; JSON Schemas in docs/schemes/)
 * and the check every answer passes before anything is sent: a user's code is never trusted.
 */
import { InputError } from '../errors.ts';
import { learnerTime } from '../model/coefficients.ts';
import { fits } from './feasibility.ts';
import type { SchemeKind, SchemeProblem } from './scheme.ts';
import type { Allocation, FeasibleAllocation } from './types.ts';

/** One learner as a user's scheme sees it: t_k = c2·τ_k·d_k + c1·d_k + c0 ≤ T_s, E_k = e2·τ_k·d_k + e1·d_k + e0. */
export interface LearnerMessage {
  id: number;
  c0: number;
  c1: number;
  c2: number;
  f_hz?: number;
  rate_bps?: number;
  e0?: number;
  e1?: number;
  e2?: number;
  /** J per cycle; absent = no budget */
  budget_j?: number;
}

export interface ProblemMessage {
  scheme: string;
  cycle: number;
  T_s: number;
  d: number;
  /** the run's --tau-max: a larger τ_k is lowered to it (which only frees time) */
  tau_max?: number;
  learners: LearnerMessage[];
}

export type AnswerMessage = { batch: number[]; tau: number | number[] } | { infeasible: string };

/** A user's scheme broke its contract: one line naming the scheme, the cycle and what is wrong (exit 2). */
export class SchemeAnswerError extends InputError {
  override name = 'SchemeAnswerError';
}

/** The problem as a user's scheme reads it: c0/c1/c2 as the planner knows them this cycle, energy when the run has it. */
export function problemMessage(scheme: string, p: SchemeProblem): ProblemMessage {
  const learners = p.coeffs.map((c, i): LearnerMessage => {
    const dev = p.devices?.[i];
    const e = p.energy?.[i];
    const budget = p.budget_j?.[i];
    return {
      id: dev?.id ?? i,
      c0: c.c0_s,
      c1: c.c1_s_per_sample,
      c2: c.c2_s_per_sample_iter,
      ...(dev ? { f_hz: dev.f_hz, rate_bps: dev.rate_bps } : {}),
      ...(e ? { e0: e.e0_j, e1: e.e1_j_per_sample, e2: e.e2_j_per_sample_iter } : {}),
      ...(budget !== undefined && Number.isFinite(budget) ? { budget_j: budget } : {}),
    };
  });
  return { scheme, cycle: p.cycle ?? 0, T_s: p.T_s, d: p.d, ...(p.tau_max ? { tau_max: p.tau_max } : {}), learners };
}

const isNonNegativeInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
const show = (x: unknown) => (typeof x === 'string' ? JSON.stringify(x) : String(JSON.stringify(x) ?? x)).slice(0, 60);

/**
 * A user's answer as an allocation, or a SchemeAnswerError: integers, Σ d_k = d, τ ≥ 1 (τ_k ≥ 1 for
 * every learner with d_k > 0), t_k ≤ T_s for every such learner under the coefficients the scheme
 * was given. τ_k above the problem's tau_max is lowered to it. `{"infeasible": why}` becomes an
 * infeasible allocation carrying the scheme's reason.
 */
export function allocationFromAnswer(scheme: string, kind: SchemeKind, p: SchemeProblem, answer: unknown): Allocation {
  const fail = (what: string): never => {
    throw new SchemeAnswerError(`scheme ${scheme}, cycle ${p.cycle ?? 0}: ${what}`);
  };
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer))
    return fail(`the answer must be a JSON object, got ${show(answer)}`);
  const a = answer as Record<string, unknown>;
  if ('infeasible' in a) {
    if (typeof a.infeasible !== 'string' || a.infeasible.trim() === '')
      return fail('"infeasible" must be a non-empty string saying why');
    // As the answer schema: one form or the other, so an ambiguous answer is not read as either.
    if ('batch' in a || 'tau' in a) return fail('an answer is {"batch", "tau"} or {"infeasible"}, not both');
    return { feasible: false, scheme, reason: a.infeasible, binding: [] };
  }
  const K = p.coeffs.length;
  const name = (i: number) => `learner ${p.devices?.[i]?.id ?? i}`;
  const batch = a.batch;
  if (!Array.isArray(batch) || batch.length !== K)
    return fail(`"batch" must be an array of ${K} integers (one per learner), got ${show(batch)}`);
  batch.forEach((n, i) => isNonNegativeInt(n) || fail(`${name(i)}: d_k = ${show(n)} is not an integer ≥ 0`));
  const sum = (batch as number[]).reduce((s, n) => s + n, 0);
  if (sum !== p.d) fail(`Σ d_k = ${sum} ≠ d = ${p.d}`);
  const taus = answerTaus(a.tau, batch as number[], kind, fail, name);
  const cap = p.tau_max ?? Infinity;
  const tau_per_learner = taus.map((t, i) => (batch[i] > 0 ? Math.min(t, cap) : 0));
  tau_per_learner.forEach((t, i) => {
    if (batch[i] === 0 || fits(p.coeffs[i], t, batch[i], p.T_s)) return;
    const c = p.coeffs[i];
    const t_k = learnerTime(c, t, batch[i]);
    fail(
      `${name(i)}: t_k = ${+t_k.toPrecision(6)} s > T_s = ${p.T_s} s (d_k = ${batch[i]}, τ_k = ${t}, c0 = ${+c.c0_s.toPrecision(6)}, c1 = ${+c.c1_s_per_sample.toPrecision(6)}, c2 = ${+c.c2_s_per_sample_iter.toPrecision(6)})`,
    );
  });
  return feasibleFrom(scheme, p, batch as number[], tau_per_learner);
}

/** τ_k per learner from the answer's "tau": one integer ≥ 1 for all, or one integer per learner (≥ 1 where d_k > 0). */
function answerTaus(
  tau: unknown,
  batch: number[],
  kind: SchemeKind,
  fail: (what: string) => never,
  name: (i: number) => string,
): number[] {
  if (typeof tau === 'number') {
    if (!Number.isInteger(tau) || tau < 1) fail(`τ = ${show(tau)}: must be an integer ≥ 1`);
    return batch.map(() => tau);
  }
  if (kind === 'common-tau') return fail(`"tau" must be one integer ≥ 1 (a common-tau scheme), got ${show(tau)}`);
  if (!Array.isArray(tau) || tau.length !== batch.length)
    return fail(`"tau" must be an integer ≥ 1 or an array of ${batch.length} integers, got ${show(tau)}`);
  tau.forEach((t, i) => {
    if (!isNonNegativeInt(t)) fail(`${name(i)}: τ_k = ${show(t)} is not an integer ≥ 0`);
    if (batch[i] > 0 && t < 1)
      fail(`${name(i)}: τ_k = ${t} with d_k = ${batch[i]}: a learner given samples needs τ_k ≥ 1`);
  });
  return tau as number[];
}

function feasibleFrom(
  scheme: string,
  p: SchemeProblem,
  batch: number[],
  tau_per_learner: number[],
): FeasibleAllocation {
  const active = tau_per_learner.filter((_, i) => batch[i] > 0);
  const tau = Math.min(...active);
  return {
    feasible: true,
    scheme,
    tau,
    batch: batch.slice(),
    tau_per_learner,
    staleness: Math.max(...active) - tau,
    time_s: batch.map((n, i) => learnerTime(p.coeffs[i], tau_per_learner[i], n)),
  };
}
