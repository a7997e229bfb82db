/** The allocation schemes behind one entry point: each built-in one registered through the Scheme interface. */
import { solveAnalytical } from './analytical.ts';
import { solveAsync } from './async.ts';
import { energyProblem, solveEnergy } from './energy.ts';
import { solveEta } from './eta.ts';
import { solveOptimal } from './optimal.ts';
import { SchemeRegistry, type ImmediateScheme, type Scheme } from './scheme.ts';
import type { Allocation, AllocationProblem, BuiltinSchemeName } from './types.ts';

export * from './types.ts';
export * from './scheme.ts';
export { solveAnalytical } from './analytical.ts';
export { solveEta } from './eta.ts';
export { solveOptimal } from './optimal.ts';
export { solveAsync } from './async.ts';
export { solveEnergy } from './energy.ts';
export { capacity, fits, REL_EPS } from './feasibility.ts';

const builtin = (
  name: BuiltinSchemeName,
  kind: ImmediateScheme['kind'],
  allocate: (p: AllocationProblem) => Allocation,
): ImmediateScheme => ({ name, kind, allocate });

export const BUILTIN_SCHEMES: Record<BuiltinSchemeName, ImmediateScheme> = {
  eta: builtin('eta', 'common-tau', solveEta),
  analytical: builtin('analytical', 'common-tau', solveAnalytical),
  optimal: builtin('optimal', 'common-tau', solveOptimal),
  async: builtin('async', 'per-learner-tau', (p) => solveAsync(p)),
  energy: builtin('energy', 'per-learner-tau', (p) => solveEnergy(energyProblem(p))),
  // The quantile planning is in the coefficients it is given: the solve is the exact optimum.
  robust: builtin('robust', 'common-tau', (p) => ({ ...solveOptimal(p), scheme: 'robust' })),
};

export function isBuiltinScheme(name: string): name is BuiltinSchemeName {
  return Object.hasOwn(BUILTIN_SCHEMES, name);
}

/** The built-in schemes, then the user's (a name already taken is refused). */
export function schemeRegistry(userSchemes: Iterable<Scheme> = []): SchemeRegistry {
  const registry = new SchemeRegistry(Object.values(BUILTIN_SCHEMES));
  for (const s of userSchemes) registry.register(s);
  return registry;
}

/** A built-in scheme's answer, at once. */
export function solve(scheme: BuiltinSchemeName, p: AllocationProblem): Allocation {
  if (!isBuiltinScheme(scheme))
    throw new RangeError(`unknown scheme "${scheme}" (valid: ${Object.keys(BUILTIN_SCHEMES).join(', ')})`);
  return BUILTIN_SCHEMES[scheme].allocate(p);
}
