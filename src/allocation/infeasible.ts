/**
 * Explanations for "no τ ≥ 1 works", naming the learners that bind. Shared by the solvers that
 * search τ over capacities (analytical, optimal), so both say the same thing for the same input.
 */
import { capacity } from './feasibility.ts';
import type { AllocationProblem, InfeasibleAllocation, SchemeName } from './types.ts';

/** Seconds with three significant digits, for messages. */
export function fmtSeconds(s: number): string {
  return `${Number(s.toPrecision(3))} s`;
}

/** "3, 7, 12 and 45 more": short enough for one line even with K = 100 000. */
export function nameSome(items: string[], shown = 5): string {
  if (items.length <= shown) return items.join(', ');
  return `${items.slice(0, shown).join(', ')} and ${items.length - shown} more`;
}

/** In the reason when nobody can even exchange the model within T: then fewer samples do not help. */
export const MODEL_EXCHANGE_TOO_LONG = 'shorter than the model exchange time of every learner';

/** Why Σ_k cap_k(1) < d. Caller has established that τ = 1 is infeasible. */
export function noTauFeasible(problem: AllocationProblem, scheme: SchemeName): InfeasibleAllocation {
  const { coeffs, T_s, d } = problem;
  const K = coeffs.length;
  const order = Array.from({ length: K }, (_, k) => k);
  const out = coeffs.filter((c) => c.c0_s >= T_s).length;
  if (out === K) {
    order.sort((i, j) => coeffs[i].c0_s - coeffs[j].c0_s || i - j);
    const best = order[0];
    return {
      feasible: false,
      scheme,
      reason:
        `T=${T_s} s is ${MODEL_EXCHANGE_TOO_LONG} ` +
        `(shortest C0 = ${fmtSeconds(coeffs[best].c0_s)}, learner ${best})`,
      binding: order,
    };
  }
  const caps = coeffs.map((c) => capacity(c, 1, T_s));
  const total = caps.reduce((s, c) => s + c, 0);
  order.sort((i, j) => caps[i] - caps[j] || i - j);
  const limited = order.filter((k) => coeffs[k].c0_s < T_s).map((k) => `${k} (cap ${caps[k]})`);
  const outNames = order.filter((k) => coeffs[k].c0_s >= T_s).map(String);
  const outPart = out > 0 ? `; ${out} cannot even exchange the model within T (C0 >= T): ${nameSome(outNames)}` : '';
  return {
    feasible: false,
    scheme,
    reason:
      `even τ=1 allows only Σcap=${total} < d=${d} samples within T=${T_s} s; ` +
      `every learner is at its limit, the most limited: ${nameSome(limited)}${outPart}`,
    binding: order,
  };
}
