/**
 * A world that changes: each learner's TRUE CPU speed, link and presence in global cycle c.
 *
 * Effects (each off by default, each on its own seeded stream so that switching one on leaves the
 * others' draws untouched):
 * - block Rayleigh fading: power gain ~ Exp(1), one draw per (learner, cycle);
 * - log-normal shadowing: gain × 10^(X/10), X ~ N(0, σ_dB²);
 * - mobility: random waypoint in the disc of radius R at v m/s, `cycle_s` emulated seconds per
 *   cycle; path loss follows the distance (channel.ts);
 * - compute/link jitter: f and r × exp(σ·N(0,1)), bit for bit today's `actualProfile` formula;
 * - availability: a two-state on/off Markov chain per learner, stationary on-probability p.
 *
 * Channel: h_c = h_path(d_c) · g_fading · 10^(X/10); r = shannonRateBps(h_c) · jitter. The path gain
 * is calibrated on the profile's rate (h_0 = the gain whose Shannon rate is profile.rate_bps; for a
 * generated fleet that is channelGain(d_0)) so that a learner file's explicit rate still wins; with
 * mobility h_path(d_c) = h_0 · channelGain(d_c)/channelGain(d_0).
 *
 * Determinism: every draw comes from createRng(deriveSeed(seed, stream, cycle, learner id)); there is
 * no scheme input, so every scheme sees the same world. The two effects with memory (the on/off
 * chain and the waypoint walk) are kept as a per-learner cached trajectory, extended lazily from
 * cycle 1; since each step consumes only its own (cycle, learner) stream, the cache contents do not
 * depend on which learner or cycle was asked first.
 */
import { InputError } from '../errors.ts';
import { createRng, deriveSeed, type Rng } from '../util/rng.ts';
import { channelGain, dbmToWatts, shannonRateBps } from './channel.ts';
import type { LearnerProfile } from './devices.ts';
import type { SystemParams } from './params.ts';

export type Fading = 'none' | 'rayleigh';

export interface DynamicsSpec {
  fading: Fading; // block fading: one Exp(1) power gain per (learner, cycle)
  shadowing_db: number; // σ of the log-normal shadowing in dB, >= 0 (0 = off)
  speed_mps: number; // random-waypoint speed, >= 0 (0 = learners stay where the profile puts them)
  cycle_s?: number; // emulated seconds walked between consecutive cycles (normally T); needed when speed_mps > 0
  speed_jitter: number; // σ >= 0: f and r × exp(σ·N(0,1)) each cycle (today's --speed-jitter)
  availability: number; // p in (0, 1]: stationary probability that a learner is on
  mean_on_cycles: number; // mean on-run length in cycles (>= 1); the off-run mean follows from p
}

/** Nothing changes: the profile is the truth every cycle (today's behaviour without jitter). */
export const STATIC_WORLD: DynamicsSpec = Object.freeze({
  fading: 'none',
  shadowing_db: 0,
  speed_mps: 0,
  speed_jitter: 0,
  availability: 1,
  mean_on_cycles: Infinity,
}) as DynamicsSpec;

/** Stream labels for deriveSeed; 'speed-jitter' is the label today's actualProfile uses. */
export const STREAMS = Object.freeze({
  jitter: 'speed-jitter',
  fading: 'fading',
  shadowing: 'shadowing',
  mobility: 'mobility',
  availability: 'availability',
});

/** What a learner really is in one cycle (also what a trace row gives). */
export interface WorldState {
  available: boolean;
  f_hz: number;
  rate_bps: number;
}

export interface LearnerState extends WorldState {
  distance_m?: number; // absent when the profile gave a rate and no distance (and nothing moves)
  gain: number; // total linear channel power gain: path × fading × shadowing (jitter acts on the rate)
}

export interface Dynamics {
  readonly spec: DynamicsSpec;
  /** Learner k's (index into the fleet) true state in cycle c (integer >= 1). */
  state(learner: number, cycle: number): LearnerState;
}

/** Mean off-run length in cycles: the chain is on a fraction p = on/(on+off) of the time. */
export function meanOffCycles(spec: Pick<DynamicsSpec, 'availability' | 'mean_on_cycles'>): number {
  return spec.availability === 1 ? 0 : (spec.mean_on_cycles * (1 - spec.availability)) / spec.availability;
}

/** Throws InputError naming the first bad field. */
export function validateDynamicsSpec(spec: DynamicsSpec): void {
  if (spec.fading !== 'none' && spec.fading !== 'rayleigh')
    throw new InputError(`fading must be none|rayleigh, got "${spec.fading}"`);
  const nonNegative = (name: keyof DynamicsSpec, v: number) => {
    if (!(v >= 0) || !Number.isFinite(v)) throw new InputError(`${name} must be a finite number >= 0, got ${v}`);
  };
  nonNegative('shadowing_db', spec.shadowing_db);
  nonNegative('speed_mps', spec.speed_mps);
  nonNegative('speed_jitter', spec.speed_jitter);
  if (spec.speed_mps > 0 && !(spec.cycle_s !== undefined && spec.cycle_s > 0 && Number.isFinite(spec.cycle_s)))
    throw new InputError(
      `cycle_s (emulated seconds per cycle) must be a finite number > 0 when speed_mps > 0, got ${spec.cycle_s}`,
    );
  const p = spec.availability;
  if (!(p > 0 && p <= 1)) throw new InputError(`availability must be in (0, 1], got ${p}`);
  if (p < 1) {
    const on = spec.mean_on_cycles;
    if (!(on >= 1) || !Number.isFinite(on))
      throw new InputError(`mean_on_cycles must be a finite number >= 1, got ${on}`);
    // Runs last whole cycles, so the off-run mean on·(1−p)/p must be >= 1 too.
    if (meanOffCycles(spec) < 1 - 1e-12)
      throw new InputError(
        `mean_on_cycles must be >= p/(1-p) = ${+(p / (1 - p)).toPrecision(6)} for availability ${p} (else off-runs would average under one cycle), got ${on}`,
      );
  }
}

/** Inverse of shannonRateBps: the power gain h whose Shannon rate is `rate_bps`. */
export function gainForRate(rate_bps: number, p: SystemParams): number {
  const noise_w = dbmToWatts(p.noise_dbm_per_hz) * p.bandwidth_hz;
  return (Math.expm1((rate_bps / p.bandwidth_hz) * Math.LN2) * noise_w) / dbmToWatts(p.tx_power_dbm);
}

/** Rayleigh block fading: |h|² ~ Exp(1). 1 − u is in (0, 1], so the log is finite. */
export function rayleighPowerGain(rng: Rng): number {
  return -Math.log(1 - rng.next());
}

/** Area-uniform point in the disc of radius R. */
function pointInDisc(rng: Rng, radius_m: number): [number, number] {
  const r = radius_m * Math.sqrt(rng.next());
  const theta = 2 * Math.PI * rng.next();
  return [r * Math.cos(theta), r * Math.sin(theta)];
}

/** Legs per cycle before the walk gives up (only reached if v·cycle_s is absurdly larger than R). */
const MAX_LEGS_PER_CYCLE = 100_000;

interface Track {
  on: boolean[]; // on[c − 1]: available in cycle c
  x: number[]; // position in cycle c (only with mobility)
  y: number[];
  wx: number; // current waypoint
  wy: number;
}

/** Walk `budget` metres from (x, y) towards the track's waypoints, taking a new one on each arrival. */
function walk(t: Track, x: number, y: number, budget: number, nextWaypoint: () => [number, number]): [number, number] {
  for (let leg = 0; budget > 0 && leg < MAX_LEGS_PER_CYCLE; leg++) {
    const dx = t.wx - x;
    const dy = t.wy - y;
    const dist = Math.hypot(dx, dy);
    if (dist > budget) return [x + (dx * budget) / dist, y + (dy * budget) / dist];
    x = t.wx;
    y = t.wy;
    budget -= dist;
    [t.wx, t.wy] = nextWaypoint();
  }
  return [x, y];
}

export function createDynamics(
  fleet: readonly LearnerProfile[],
  spec: DynamicsSpec,
  params: SystemParams,
  seed: number,
): Dynamics {
  validateDynamicsSpec(spec);
  if (spec.speed_mps > 0)
    for (const l of fleet)
      if (l.distance_m === undefined)
        throw new InputError(
          `learner ${l.id} has no distance_m; mobility (speed_mps > 0) needs every learner's position`,
        );
  return new SeededDynamics(fleet, spec, params, seed);
}

/** The seeded world of a valid spec: per-learner tracks (presence, position) extended lazily, the rest drawn per cycle. */
class SeededDynamics implements Dynamics {
  private readonly moving: boolean;
  private readonly channelVaries: boolean;
  /** per-cycle switch probabilities of the on/off chain: on → off (geometric on-runs of mean mean_on), off → on */
  private readonly pOff: number;
  private readonly pOn: number;
  /** metres walked between consecutive cycles */
  private readonly step_m: number;
  /** each learner's path gain at its profile's distance: the gain whose Shannon rate is its profile's rate */
  private readonly h0: number[];
  private readonly tracks: (Track | undefined)[];

  constructor(
    private readonly fleet: readonly LearnerProfile[],
    readonly spec: DynamicsSpec,
    private readonly params: SystemParams,
    private readonly seed: number,
  ) {
    const p = spec.availability;
    this.moving = spec.speed_mps > 0;
    this.channelVaries = spec.fading !== 'none' || spec.shadowing_db > 0 || this.moving;
    this.pOff = p < 1 ? 1 / spec.mean_on_cycles : 0;
    this.pOn = p < 1 ? 1 / meanOffCycles(spec) : 1;
    this.step_m = this.moving ? spec.speed_mps * spec.cycle_s! : 0;
    this.h0 = fleet.map((l) => gainForRate(l.rate_bps, params));
    this.tracks = new Array(fleet.length);
  }

  state(k: number, cycle: number): LearnerState {
    if (!Number.isInteger(k) || k < 0 || k >= this.fleet.length)
      throw new RangeError(`learner must be an integer in [0, ${this.fleet.length}), got ${k}`);
    if (!Number.isInteger(cycle) || cycle < 1) throw new RangeError(`cycle must be an integer >= 1, got ${cycle}`);
    const l = this.fleet[k];
    const t = (this.tracks[k] ??= this.startTrack(l));
    this.extend(t, l, cycle);
    const { gain, distance_m } = this.channel(k, t, cycle);
    // A static channel keeps the profile's rate bit for bit (no Shannon round trip).
    const rate_bps = this.channelVaries ? shannonRateBps(gain, this.params) : l.rate_bps;
    const out: LearnerState = { available: t.on[cycle - 1], ...this.jittered(l, cycle, l.f_hz, rate_bps), gain };
    if (distance_m !== undefined) out.distance_m = distance_m;
    return out;
  }

  private stream(label: string, cycle: number, l: LearnerProfile): Rng {
    return createRng(deriveSeed(this.seed, label, cycle, l.id));
  }

  private startTrack(l: LearnerProfile): Track {
    const p = this.spec.availability;
    // Cycle 1 starts in the chain's stationary distribution, so P(on) = p in every cycle.
    const on = p === 1 || this.stream(STREAMS.availability, 1, l).next() < p;
    const t: Track = { on: [on], x: [], y: [], wx: 0, wy: 0 };
    if (this.moving) {
      // Stream "cycle 0": the start bearing (the profile fixes only the distance) and the first waypoint.
      const rng = this.stream(STREAMS.mobility, 0, l);
      const theta = 2 * Math.PI * rng.next();
      t.x.push(l.distance_m! * Math.cos(theta));
      t.y.push(l.distance_m! * Math.sin(theta));
      [t.wx, t.wy] = pointInDisc(rng, this.params.radius_m);
    }
    return t;
  }

  /** Presence (and position, when moving) up to `cycle`, one cycle at a time, each from its own stream. */
  private extend(t: Track, l: LearnerProfile, cycle: number): void {
    for (let c = t.on.length + 1; c <= cycle; c++) {
      const wasOn = t.on[c - 2];
      const u = this.spec.availability === 1 ? 1 : this.stream(STREAMS.availability, c, l).next();
      t.on.push(wasOn ? !(u < this.pOff) : u < this.pOn);
      if (!this.moving) continue;
      // Walk v·cycle_s metres from cycle c−1's position, drawing a new waypoint on each arrival.
      const rng = this.stream(STREAMS.mobility, c, l);
      const [x, y] = walk(t, t.x[c - 2], t.y[c - 2], this.step_m, () => pointInDisc(rng, this.params.radius_m));
      t.x.push(x);
      t.y.push(y);
    }
  }

  /** Learner k's channel power gain in `cycle` (path × fading × shadowing), and its distance when known. */
  private channel(k: number, t: Track, cycle: number): { gain: number; distance_m: number | undefined } {
    const { spec, params } = this;
    const l = this.fleet[k];
    let distance_m = l.distance_m;
    let gain = this.h0[k];
    if (this.moving) {
      distance_m = Math.hypot(t.x[cycle - 1], t.y[cycle - 1]);
      gain *= channelGain(distance_m, params) / channelGain(l.distance_m!, params);
    }
    if (spec.fading === 'rayleigh') gain *= rayleighPowerGain(this.stream(STREAMS.fading, cycle, l));
    if (spec.shadowing_db > 0)
      gain *= 10 ** ((spec.shadowing_db * this.stream(STREAMS.shadowing, cycle, l).normal()) / 10);
    return { gain, distance_m };
  }

  /** Speed and rate × exp(σ·N(0,1)) each under --speed-jitter (same stream and draw order as actualProfile). */
  private jittered(
    l: LearnerProfile,
    cycle: number,
    f_hz: number,
    rate_bps: number,
  ): { f_hz: number; rate_bps: number } {
    if (!(this.spec.speed_jitter > 0)) return { f_hz, rate_bps };
    const rng = this.stream(STREAMS.jitter, cycle, l);
    const f = f_hz * Math.exp(this.spec.speed_jitter * rng.normal());
    return { f_hz: f, rate_bps: rate_bps * Math.exp(this.spec.speed_jitter * rng.normal()) };
  }
}
