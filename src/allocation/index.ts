/** The allocation schemes behind one entry point. */
import { solveAnalytical } from './analytical.ts';
import { solveAsync } from './async.ts';
import { energyProblem, solveEnergy } from './energy.ts';
import { solveEta } from './eta.ts';
import { solveOptimal } from './optimal.ts';
import type { Allocation, AllocationProblem, SchemeName } from './types.ts';

export * from './types.ts';
export { solveAnalytical } from './analytical.ts';
export { solveEta } from './eta.ts';
export { solveOptimal } from './optimal.ts';
export { solveAsync } from './async.ts';
export { solveEnergy } from './energy.ts';
export { capacity, fits, REL_EPS } from './feasibility.ts';

const SOLVERS: Record<SchemeName, (p: AllocationProblem) => Allocation> = {
  eta: solveEta,
  analytical: solveAnalytical,
  optimal: solveOptimal,
  async: (p) => solveAsync(p),
  energy: (p) => solveEnergy(energyProblem(p)),
  // The quantile planning is in the coefficients it is given: the solve is the exact optimum.
  robust: (p) => ({ ...solveOptimal(p), scheme: 'robust' }),
};

export function solve(scheme: SchemeName, p: AllocationProblem): Allocation {
  const solver = SOLVERS[scheme];
  if (!solver) throw new RangeError(`unknown scheme "${scheme}" (valid: ${Object.keys(SOLVERS).join(', ')})`);
  return solver(p);
}
