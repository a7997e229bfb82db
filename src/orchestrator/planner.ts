/**
 * What the orchestrator knows when it allocates, and the allocation it makes from that.
 *
 * Presence is always known (an offline device cannot be reached: it gets nothing). Speed and rate
 * come from `csi`:
 *   - profile: the static profile (the paper's assumption; the allocation never changes);
 *   - last:    what the emulator measured in the learner's previous task of this scheme (speed from
 *              its emulated compute time, rate from the bytes of its update over their emulated
 *              transfer time); the profile until the first measurement;
 *   - perfect: this cycle's true values (an oracle: the upper bound).
 * Scheme `robust` plans each learner at a speed and a rate it reaches with probability 1 − ε' each,
 * ε' = 1 − √(1 − ε), so that P(learner misses T) ≤ ε: the quantiles of the known dynamics around
 * the profile (mobility: at the cell edge), or with a replayed trace, whose distribution nobody
 * knows, the lower quantiles of the learner's measured history. Under csi perfect nothing is
 * uncertain and robust plans on the truth.
 */
import { isBuiltinScheme, schemeRegistry } from '../allocation/index.ts';
import type { SchemeRegistry } from '../allocation/scheme.ts';
import type { Allocation, FeasibleAllocation, SchemeName } from '../allocation/types.ts';
import { InputError } from '../errors.ts';
import { wireCoefficients, wireEnergyCoefficients } from '../emulation/wire-coefficients.ts';
import { channelGain, shannonRateBps } from '../model/channel.ts';
import type { LearnerProfile } from '../model/devices.ts';
import { gainForRate } from '../model/dynamics.ts';
import { historyQuantile, independentEpsilon, rateQuantileBps, speedQuantileHz } from '../model/robust.ts';
import { MAX_TAU } from '../protocol/messages.ts';
import type { Csi, LearnerRow } from '../run-folder/schema.ts';
import type { LearnerRecord } from './cycle.ts';
import { energyBudgets, runEnergyParams, type ExperimentConfig } from './config.ts';
import type { World } from './world.ts';

/** A device's speed and rate as somebody believes or measured them. */
export interface DeviceEstimate {
  f_hz: number;
  rate_bps: number;
}

/**
 * The batches and τ_k of one cycle (τ: the minimum τ_k over who got work); τ = 0 and no batch when
 * nobody can be given work.
 */
export type CyclePlan = Pick<FeasibleAllocation, 'tau' | 'batch' | 'tau_per_learner'> & {
  /** why nobody got work (no feasible allocation for the learners on, or nobody on) */
  idleReason?: string;
};

/** Measurements keep 9 significant digits: a resumed run rebuilds them from learners.csv to the same values. */
const measured = (x: number) => Number(x.toPrecision(9));

/**
 * What the emulator measured of a learner from its own timeline this cycle, or undefined when it
 * has none (sat out, or never answered).
 */
export function measureFromTimeline(record: LearnerRecord, flops_per_sample: number): DeviceEstimate | undefined {
  const p = record.phases;
  const tau = record.tau; // the learner's own τ_k (per-learner schemes run several)
  if (
    !p ||
    record.status === 'missing' ||
    record.batch === 0 ||
    tau === 0 ||
    record.bytes_returned === undefined ||
    !(p.t_compute_s > 0) ||
    !(p.t_return_s > 0)
  )
    return undefined;
  return {
    f_hz: measured((tau * record.batch * flops_per_sample) / p.t_compute_s),
    rate_bps: measured((8 * record.bytes_returned) / p.t_return_s),
  };
}

/** The same measurement read back from a learners.csv row (the truth it recorded). */
export function measureFromRow(row: LearnerRow): DeviceEstimate | undefined {
  if (row.batch === 0 || row.status === 'missing' || !(row.tComputeS! > 0)) return undefined;
  return { f_hz: measured(row.fHz), rate_bps: measured(row.rateBps) };
}

/** One scheme's measurements per learner, oldest first. */
export class Measurements {
  private readonly history: DeviceEstimate[][];
  constructor(K: number) {
    this.history = Array.from({ length: K }, () => []);
  }
  add(k: number, m: DeviceEstimate | undefined): void {
    if (m) this.history[k].push(m);
  }
  last(k: number): DeviceEstimate | undefined {
    return this.history[k].at(-1);
  }
  of(k: number): readonly DeviceEstimate[] {
    return this.history[k];
  }
}

export type PlannerSettings = Pick<
  ExperimentConfig,
  'T' | 'train_samples' | 'scenario' | 'tau_max' | 'params' | 'csi' | 'epsilon' | 'max_staleness' | 'energy'
>;

export class Planner {
  readonly csi: Csi;
  readonly epsilon: number;
  private readonly robustProfile: (DeviceEstimate | undefined)[];

  constructor(
    private readonly config: PlannerSettings,
    private readonly fleet: readonly LearnerProfile[],
    private readonly world: World,
    /** every scheme the run may use: the built-in ones, and the user's */
    private readonly schemes: SchemeRegistry = schemeRegistry(),
  ) {
    this.csi = config.csi;
    this.epsilon = config.epsilon;
    this.robustProfile = new Array(fleet.length);
    this.budgets = energyBudgets(config, fleet);
  }
  /** each learner's energy budget per cycle (Infinity: none) */
  private readonly budgets: number[];

  /** Whether `scheme`'s allocation can change from cycle to cycle (else the first one holds for the run). */
  perCycle(scheme: SchemeName): boolean {
    if (this.world.presenceVaries || this.csi !== 'profile') return true;
    return scheme === 'robust' && this.world.spec === null; // history quantiles grow with the measurements
  }

  /** What `scheme` believes learner k's speed and rate are in `cycle`. */
  estimate(scheme: SchemeName, k: number, cycle: number, measurements: Measurements): DeviceEstimate {
    if (this.csi === 'perfect') return this.world.truth(k, cycle);
    if (scheme === 'robust') return this.robustEstimate(k, measurements);
    if (this.csi === 'last') return measurements.last(k) ?? this.fleet[k];
    return this.fleet[k];
  }

  /**
   * The allocation of `scheme` in `cycle` over the learners that are on. A user's scheme that finds
   * no allocation stops the run with its reason (InputError); a built-in one leaves the cycle idle.
   */
  async plan(scheme: SchemeName, cycle: number, measurements: Measurements): Promise<CyclePlan> {
    const on = this.fleet.map((_, k) => this.world.truth(k, cycle).available);
    const batch = new Array<number>(this.fleet.length).fill(0);
    const idle = (idleReason: string): CyclePlan => ({ tau: 0, batch, tau_per_learner: batch.slice(), idleReason });
    if (!on.includes(true)) return idle('no learner is available');
    const a = await this.solveFor(scheme, cycle, on, (k) => this.estimate(scheme, k, cycle, measurements));
    if (!a.feasible && !isBuiltinScheme(scheme))
      throw new InputError(`scheme ${scheme} answered infeasible for cycle ${cycle}: ${a.reason}`);
    if (!a.feasible) {
      // The solver numbered the learners among those on; its first clause has no numbers, `binding` is remapped.
      const why = a.reason.split(/[;(]/)[0].trim();
      const binding =
        a.binding.slice(0, 5).join(', ') + (a.binding.length > 5 ? ` and ${a.binding.length - 5} more` : '');
      return idle(
        `no feasible allocation for the ${on.filter(Boolean).length} learners available: ${why}; most limiting: learners ${binding}`,
      );
    }
    return { tau: a.tau, batch: a.batch, tau_per_learner: a.tau_per_learner };
  }

  /**
   * The allocation before anything is measured, every learner on: the whole run's allocation when
   * it never changes, and the check (before learners start) that the scheme is feasible at all.
   */
  initial(scheme: SchemeName): Promise<Allocation> {
    const empty = new Measurements(this.fleet.length);
    return this.solveFor(
      scheme,
      0,
      this.fleet.map(() => true),
      (k) => (scheme === 'robust' && this.csi !== 'perfect' ? this.robustEstimate(k, empty) : this.fleet[k]),
    );
  }

  /** Solve over the learners that are on; the others get d_k = 0 (indices and `binding` are the fleet's). */
  private async solveFor(
    scheme: SchemeName,
    cycle: number,
    on: boolean[],
    estimate: (k: number) => DeviceEstimate,
  ): Promise<Allocation> {
    const ids = on.flatMap((isOn, k) => (isOn ? [k] : []));
    const { params, scenario, max_staleness } = this.config;
    const energyParams = runEnergyParams(this.config);
    // Time and energy coefficients both from what the scheme believes of each learner's speed and rate.
    const devices = ids.map((k) => ({ id: k, ...pick(estimate(k)) }));
    const a = await this.schemes.get(scheme).allocate({
      cycle,
      devices,
      coeffs: devices.map((l) => wireCoefficients(l, params, scenario)),
      T_s: this.config.T,
      d: this.config.train_samples,
      // No plan may ask more of a learner than it accepts.
      tau_max: Math.min(this.config.tau_max ?? MAX_TAU, MAX_TAU),
      ...(max_staleness !== null ? { max_staleness } : {}),
      energy: devices.map((l) => wireEnergyCoefficients(l, params, scenario, energyParams)),
      budget_j: ids.map((k) => this.budgets[k]),
    });
    if (!a.feasible) return { ...a, binding: a.binding.map((i) => ids[i]) };
    // Back to fleet indices: a learner that is off gets d_k = 0, τ_k = 0 (and 0 J).
    const spread = (xs: readonly number[]) => {
      const out = new Array<number>(on.length).fill(0);
      ids.forEach((k, i) => (out[k] = xs[i]));
      return out;
    };
    return {
      ...a,
      batch: spread(a.batch),
      time_s: spread(a.time_s),
      tau_per_learner: spread(a.tau_per_learner),
      ...(a.energy_j ? { energy_j: spread(a.energy_j) } : {}),
    };
  }

  private robustEstimate(k: number, measurements: Measurements): DeviceEstimate {
    const eps = independentEpsilon(this.epsilon, 2);
    const spec = this.world.spec;
    if (spec) return (this.robustProfile[k] ??= this.profileQuantiles(this.fleet[k], eps));
    // A trace: only the learner's own measurements say how it varies.
    const h = measurements.of(k);
    const f = historyQuantile(
      h.map((m) => m.f_hz),
      eps,
    );
    const r = historyQuantile(
      h.map((m) => m.rate_bps),
      eps,
    );
    return f !== undefined && r !== undefined ? { f_hz: f, rate_bps: r } : this.fleet[k];
  }

  /** The ε'-quantiles of speed and rate under the known dynamics, around the profile. */
  private profileQuantiles(l: LearnerProfile, eps: number): DeviceEstimate {
    const spec = this.world.spec!;
    const params = this.config.params;
    let rate = l.rate_bps;
    // Mobility: the learner may be anywhere in the cell, so plan its path loss at the edge.
    if (spec.speed_mps > 0 && l.distance_m !== undefined)
      rate = shannonRateBps(
        (gainForRate(l.rate_bps, params) * channelGain(params.radius_m, params)) / channelGain(l.distance_m, params),
        params,
      );
    return { f_hz: speedQuantileHz(l.f_hz, spec, eps), rate_bps: rateQuantileBps(rate, spec, params, eps) };
  }
}

/** Only the speed and rate of an estimate (a full profile also carries its distance and budget). */
const pick = (e: DeviceEstimate): DeviceEstimate => ({ f_hz: e.f_hz, rate_bps: e.rate_bps });
