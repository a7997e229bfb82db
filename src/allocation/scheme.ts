/**
 * The Scheme interface: what every allocation scheme is, built-in or a user's (a module or a process,
 * src/schemes/). The planner asks each one the same way; a user's answers pass through answer.ts,
 * which validates them before anything is sent.
 */
import type { Allocation, AllocationProblem, SchemeName } from './types.ts';

/** One τ for every learner (the paper's schemes), or a τ_k per learner (async, energy, any user scheme). */
export type SchemeKind = 'common-tau' | 'per-learner-tau';
export const SCHEME_KINDS: SchemeKind[] = ['common-tau', 'per-learner-tau'];

/** A device as the planner believes it this cycle: the coefficients of the problem come from these. */
export interface BelievedDevice {
  /** the learner's id in the fleet */
  id: number;
  f_hz: number;
  rate_bps: number;
}

/**
 * The problem of paper eq. 12 with what a user's scheme needs to know besides the coefficients:
 * which learners they are and which cycle is planned. Built-in schemes read only the problem.
 */
export interface SchemeProblem extends AllocationProblem {
  /** the cycle planned (1, 2, …); 0 = the check before the run starts, every learner on */
  cycle?: number;
  /** one per entry of `coeffs`, in the same order */
  devices?: BelievedDevice[];
}

export interface Scheme {
  name: SchemeName;
  kind: SchemeKind;
  /** the allocation, or why there is none (never a silently infeasible allocation) */
  allocate(problem: SchemeProblem): Allocation | Promise<Allocation>;
  /**
   * Throws what the scheme did wrong outside a request (a process's extra line on stdout), so that
   * an allocation held for the whole run is not used from a scheme that broke its protocol.
   */
  check?(): void;
}

/** A scheme that answers at once (every built-in one): usable where nothing may wait. */
export interface ImmediateScheme extends Scheme {
  allocate(problem: SchemeProblem): Allocation;
}

/** The schemes a run can use, by name: the built-in ones and the user's, registered the same way. */
export class SchemeRegistry {
  private readonly byName = new Map<string, Scheme>();

  constructor(schemes: Iterable<Scheme> = []) {
    for (const s of schemes) this.register(s);
  }

  /** Add a scheme; a name already taken is refused (a user scheme cannot replace a built-in one). */
  register(scheme: Scheme): void {
    if (this.byName.has(scheme.name))
      throw new RangeError(`scheme name "${scheme.name}" is taken (known: ${this.names().join(', ')})`);
    this.byName.set(scheme.name, scheme);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): Scheme {
    const s = this.byName.get(name);
    if (!s) throw new RangeError(`unknown scheme "${name}" (valid: ${this.names().join(', ')})`);
    return s;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
