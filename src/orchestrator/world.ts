/**
 * The world the learners live in during a run: each learner's true CPU speed, link rate and
 * presence per global cycle, drawn from the seeded dynamics (src/model/dynamics.ts) or replayed
 * from a trace file. It depends on (seed, cycle, learner) only, never on the scheme, so every
 * scheme meets the same world and comparisons stay paired.
 */
import { createDynamics, type DynamicsSpec, type WorldState } from '../model/dynamics.ts';
import type { LearnerProfile } from '../model/devices.ts';
import { assertTraceFits, parseTrace, traceState } from '../model/trace.ts';
import type { ExperimentConfig } from './config.ts';

export interface World {
  /** learner k's (fleet index) true state in cycle c >= 1 */
  truth(k: number, cycle: number): WorldState;
  /** who is on can change from cycle to cycle (availability < 1, or a trace) */
  readonly presenceVaries: boolean;
  /** the distributions the world is drawn from; null when a trace is replayed (then only measurements tell) */
  readonly spec: DynamicsSpec | null;
}

/** What a run's config says about its world. */
export type WorldSettings = Pick<
  ExperimentConfig,
  'T' | 'seed' | 'speed_jitter' | 'fading' | 'shadowing_db' | 'speed_mps' | 'availability' | 'mean_on_cycles'
>;

export function dynamicsSpecOf(c: WorldSettings): DynamicsSpec {
  const availability = c.availability;
  return {
    fading: c.fading,
    shadowing_db: c.shadowing_db,
    speed_mps: c.speed_mps,
    // Learners walk for one nominal cycle between allocations (also under --late wait).
    cycle_s: c.T,
    speed_jitter: c.speed_jitter,
    availability,
    mean_on_cycles: availability < 1 ? (c.mean_on_cycles ?? defaultMeanOnCycles(availability)) : Infinity,
  };
}

/** Off-runs last one cycle on average: the shortest outages the chain allows (the closest to independent draws). */
export function defaultMeanOnCycles(availability: number): number {
  return availability / (1 - availability);
}

/**
 * The run's world: the trace when `traceText` is given (the caller read config.trace_file), else
 * the seeded dynamics. Throws InputError (TraceError naming file and line) for a bad trace or spec.
 */
export function createWorld(
  config: WorldSettings,
  fleet: readonly LearnerProfile[],
  params: ExperimentConfig['params'],
  trace?: { text: string; file: string },
): World {
  if (trace) {
    const t = parseTrace(trace.text, trace.file);
    assertTraceFits(t, fleet.length, trace.file);
    return { truth: (k, cycle) => traceState(t, k, cycle), presenceVaries: true, spec: null };
  }
  const spec = dynamicsSpecOf(config);
  const dynamics = createDynamics(fleet, spec, params, config.seed);
  return {
    truth: (k, cycle) => {
      const { available, f_hz, rate_bps } = dynamics.state(k, cycle);
      return { available, f_hz, rate_bps };
    },
    presenceVaries: spec.availability < 1,
    spec,
  };
}
