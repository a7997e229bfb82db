/**
 * What a run is planned on before any learner joins: the expected fleet (generated or from --learners),
 * its world, and every scheme's first allocation of it; and the fleet that external learners announce.
 */
import { isBuiltinScheme, schemeRegistry } from '../allocation/index.ts';
import type { SchemeRegistry } from '../allocation/scheme.ts';
import type { FeasibleAllocation, SchemeName } from '../allocation/types.ts';
import { InputError } from '../errors.ts';
import { MODEL_EXCHANGE_TOO_LONG } from '../allocation/infeasible.ts';
import {
  assertUsableFleet,
  generateFleet,
  parseLearnersJson,
  profileFromSpec,
  type LearnerProfile,
} from '../model/devices.ts';
import { assertFiniteEnergy } from '../model/energy.ts';
import { MAX_TAU } from '../protocol/messages.ts';
import { runEnergyParams, type ExperimentConfig } from './config.ts';
import { Planner } from './planner.ts';
import { createWorld, type World } from './world.ts';
import type { AllocationBrief } from './events.ts';
import { identicalGroups } from './identical-allocations.ts';
import type { LearnerHub } from './transport/hub.ts';
import { readInputFile } from '../util/input-file.ts';
import type { RunContext } from './run-context.ts';

/** Fleet of the run: the user's learners file, or generated from the seed. */
export function buildFleet(config: ExperimentConfig): LearnerProfile[] {
  const fleet = config.learners_file
    ? parseLearnersJson(readInputFile(config.learners_file, '--learners'), config.params)
    : generateFleet(config.K, config.fleet_seed === null ? config.seed : config.fleet_seed, config.params);
  if (fleet.length !== config.K)
    throw new InputError(`--learners file describes ${fleet.length} learners but K is ${config.K}`);
  assertUsableFleet(fleet);
  assertFiniteEnergy(fleet, config.params, config.scenario, runEnergyParams(config), config.train_samples, MAX_TAU);
  return fleet;
}

/** The run's world: the seeded dynamics, or the --trace file replayed (a bad file: TraceError naming file and line). */
export function loadWorld(config: ExperimentConfig, fleet: LearnerProfile[]): World {
  if (!config.trace_file) return createWorld(config, fleet, config.params);
  return createWorld(config, fleet, config.params, {
    text: readInputFile(config.trace_file, '--trace'),
    file: config.trace_file,
  });
}

/**
 * Every scheme's allocation before anything is measured (every learner on), or an InputError
 * naming the scheme and the binding learners.
 */
export async function allocateAll(
  config: ExperimentConfig,
  fleet: LearnerProfile[],
  schemes: SchemeRegistry = schemeRegistry(),
  planner = new Planner(config, fleet, loadWorld(config, fleet), schemes),
): Promise<Map<SchemeName, FeasibleAllocation>> {
  const out = new Map<SchemeName, FeasibleAllocation>();
  for (const scheme of config.schemes) {
    let a: Awaited<ReturnType<Planner['initial']>>;
    try {
      a = await planner.initial(scheme);
    } catch (e) {
      // validateProblem's refusals (a coefficient that is not finite, T out of range) come from the settings.
      if (e instanceof RangeError)
        throw new InputError(`scheme ${scheme} cannot allocate with these settings: ${e.message}`);
      throw e;
    }
    if (!a.feasible) {
      if (!isBuiltinScheme(scheme))
        throw new InputError(`scheme ${scheme} answered infeasible before the first cycle: ${a.reason}`);
      const fix = a.reason.includes(MODEL_EXCHANGE_TOO_LONG)
        ? 'Raise --T above it, or give the links more rate (--bandwidth-hz, --tx-power-dbm, a smaller --radius-m)'
        : scheme === 'energy'
          ? "Raise --energy-j (or the learners file's energy_j), raise --T, lower --train-samples"
          : `Raise --T, lower --train-samples${scheme === 'robust' ? ', raise --epsilon' : ''}`;
      throw new InputError(
        `scheme ${scheme} has no feasible allocation with τ ≥ 1: ${a.reason}. ${fix}, or leave ${scheme} out of --schemes`,
      );
    }
    out.set(scheme, a);
  }
  return out;
}

export function fleetFromHub(config: ExperimentConfig, hub: LearnerHub): LearnerProfile[] {
  return Array.from({ length: config.K }, (_, id) => {
    const p = hub.profileOf(id);
    if (!p)
      throw new InputError(`external learner ${id} did not join within --join-timeout-s ${config.join_timeout_s}`);
    try {
      return profileFromSpec(p, id, config.params);
    } catch (e) {
      throw new InputError(`external learner ${id}: ${(e as Error).message}`);
    }
  });
}

/** Schemes allocated once whose allocations coincide train identically: say so, and whether --tau-max made them so. */
export async function noteIdenticalAllocations(
  config: ExperimentConfig,
  fleet: LearnerProfile[],
  planner: Planner,
  allocations: Map<SchemeName, FeasibleAllocation>,
  ctx: Pick<RunContext, 'emit' | 'schemes'>,
): Promise<void> {
  const fixed = new Map([...allocations].filter(([scheme]) => !planner.perCycle(scheme)));
  const groups = identicalGroups(fixed);
  if (groups.length === 0) return;
  const uncapped = config.tau_max ? await allocateAll({ ...config, tau_max: null }, fleet, ctx.schemes) : allocations;
  const by_cap = groups.map(
    (g) => identicalGroups(new Map(g.map((scheme) => [scheme, uncapped.get(scheme)!]))).length === 0,
  );
  ctx.emit({ type: 'identical-allocations', groups, by_cap, tau_max: config.tau_max });
}

export function allocationBriefs(allocations: Map<SchemeName, FeasibleAllocation>): AllocationBrief[] {
  return [...allocations.entries()].map(([scheme, a]) => ({
    scheme,
    tau: a.tau,
    ...(a.staleness > 0 ? { tau_max: Math.max(...a.tau_per_learner) } : {}),
    min_batch: Math.min(...a.batch),
    max_batch: Math.max(...a.batch),
    ...(a.tau_relaxed !== undefined ? { tau_relaxed: a.tau_relaxed } : {}),
  }));
}
