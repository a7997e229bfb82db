/**
 * Equal task allocation (the baseline of the paper's refs [11], [12]): every learner gets d/K
 * samples (the remainder to the first ones), whether or not it can cope; τ is what the slowest
 * learner allows.
 */
import { fits, maxTau, syncTaus, times, validateProblem } from './feasibility.ts';
import { fmtSeconds, nameSome } from './infeasible.ts';
import { learnerTime } from '../model/coefficients.ts';
import type { Allocation, AllocationProblem } from './types.ts';

export function solveEta(problem: AllocationProblem): Allocation {
  validateProblem(problem);
  const { coeffs, T_s, d } = problem;
  const K = coeffs.length;
  const base = Math.floor(d / K);
  const extra = d % K;
  const batch = coeffs.map((_, k) => base + (k < extra ? 1 : 0));
  let tau = Infinity;
  const late: number[] = [];
  for (let k = 0; k < K; k++) {
    if (batch[k] === 0) continue; // K > d: a learner with nothing to do constrains nothing
    const t = maxTau(coeffs[k], batch[k], T_s);
    if (t < 1) late.push(k);
    tau = Math.min(tau, t);
  }
  if (late.length > 0) {
    // Most overdue first: the time each would need for a single iteration.
    const need = (k: number) => learnerTime(coeffs[k], 1, batch[k]);
    late.sort((i, j) => need(j) - need(i) || i - j);
    const names = late.map((k) =>
      coeffs[k].c0_s >= T_s
        ? `${k} (model exchange alone takes C0 = ${fmtSeconds(coeffs[k].c0_s)})`
        : `${k} (needs ${fmtSeconds(need(k))})`,
    );
    return {
      feasible: false,
      scheme: 'eta',
      reason: `ETA gives each of the ${K} learners ${base}${extra ? '–' + (base + 1) : ''} samples; not even τ=1 fits T=${T_s} s for learner${late.length > 1 ? 's' : ''} ${nameSome(names)}`,
      binding: late,
    };
  }
  tau = Math.min(tau, problem.tau_max ?? Infinity); // fewer iterations only free time
  const time_s = times(coeffs, tau, batch);
  if (!batch.every((d_k, k) => fits(coeffs[k], tau, d_k, T_s))) throw new Error('ETA produced a late learner (bug)');
  return { feasible: true, scheme: 'eta', tau, batch, tau_per_learner: syncTaus(tau, batch), staleness: 0, time_s };
}
