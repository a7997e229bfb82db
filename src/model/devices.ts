/**
 * Learner device profiles: CPU speed and link rate. Fleets are generated from a seed (paper §V-A:
 * uniform placement in a disc, half fast devices, half slow ones) or described by the user in JSON.
 */
import { InputError } from '../errors.ts';
import { createRng, deriveSeed } from '../util/rng.ts';
import { channelGain, shannonRateBps } from './channel.ts';
import type { SystemParams } from './params.ts';

/** How a learner describes itself (learners file, `npm run learner` flags, the hello): an explicit rate wins over a distance. */
export interface LearnerSpec {
  f_hz: number;
  distance_m?: number;
  rate_bps?: number;
}

/** A learner as the model uses it: its speed and its link rate, resolved. */
export interface LearnerProfile {
  id: number;
  f_hz: number;
  rate_bps: number;
  distance_m?: number;
  /** energy budget per cycle, J, from a learners file's `energy_j` (overrides --energy-j) */
  energy_budget_j?: number;
}

/**
 * K learners; learner i's distance depends only on (seed, i), so growing K keeps the earlier
 * learners where they were. Area-uniform in the disc: r = R·sqrt(u). CPU speeds: the fleet is cut
 * into consecutive equal groups, one per `cpu_hz_choices` entry (first half 2.4 GHz, second half
 * 700 MHz for the paper preset; with odd K the first group gets the extra learner).
 */
export function generateFleet(K: number, seed: number, p: SystemParams): LearnerProfile[] {
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`K must be an integer >= 1, got ${K}`);
  const choices = p.cpu_hz_choices;
  if (choices.length === 0) throw new RangeError('cpu_hz_choices must not be empty');
  const fleet: LearnerProfile[] = new Array(K);
  for (let i = 0; i < K; i++) {
    const u = createRng(deriveSeed(seed, 'fleet-distance', i)).next();
    const distance_m = p.radius_m * Math.sqrt(u);
    const f_hz = choices[Math.floor((i * choices.length) / K)];
    fleet[i] = { id: i, f_hz, distance_m, rate_bps: shannonRateBps(channelGain(distance_m, p), p) };
  }
  return fleet;
}

/** A profile from a user description; an explicit rate wins over the one implied by the distance. */
export function profileFromSpec(spec: LearnerSpec, id: number, p: SystemParams): LearnerProfile {
  if (spec.rate_bps !== undefined) {
    const out: LearnerProfile = { id, f_hz: spec.f_hz, rate_bps: spec.rate_bps };
    if (spec.distance_m !== undefined) out.distance_m = spec.distance_m;
    return out;
  }
  if (spec.distance_m === undefined) throw new RangeError(`learner ${id}: give distance_m or rate_bps`);
  return {
    id,
    f_hz: spec.f_hz,
    distance_m: spec.distance_m,
    rate_bps: shannonRateBps(channelGain(spec.distance_m, p), p),
  };
}

const LEARNER_KEYS = new Set(['f_hz', 'distance_m', 'rate_bps', 'energy_j']);

/**
 * Beyond these bounds a profile describes no device the time model can mean (a 10 THz CPU makes τ
 * practically unbounded; a link of 1e300 m underflows the SNR to a zero rate): refused everywhere
 * a profile enters (learners file, learner flags, the hello).
 */
export const SPEC_LIMITS = { f_hz: 1e13, rate_bps: 1e13, distance_m: 1e7 } as const;

/** What is wrong with a learner's description, or null. */
export function specProblem(spec: LearnerSpec): string | null {
  const bad = (key: keyof typeof SPEC_LIMITS, v: number | undefined, min: number, strict: boolean) =>
    v !== undefined && (!Number.isFinite(v) || (strict ? v <= min : v < min) || v > SPEC_LIMITS[key])
      ? `${key} must be a finite number ${strict ? '>' : '>='} ${min} and <= ${SPEC_LIMITS[key]}, got ${v}`
      : null;
  if (spec.distance_m === undefined && spec.rate_bps === undefined) return 'give distance_m (m) or rate_bps (bit/s)';
  return (
    bad('f_hz', spec.f_hz, 0, true) ??
    bad('rate_bps', spec.rate_bps, 0, true) ??
    bad('distance_m', spec.distance_m, 0, false)
  );
}

/**
 * Parse a JSON array of learners `{"f_hz":..,"distance_m":..}` or `{"f_hz":..,"rate_bps":..}`.
 * Throws InputError naming the first bad entry and what a valid one looks like.
 */
export function parseLearnersJson(text: string, p: SystemParams): LearnerProfile[] {
  return parseLearnerEntries(text).map(({ spec, energy_budget_j }, i) => {
    const profile = profileFromSpec(spec, i, p);
    return energy_budget_j === undefined ? profile : { ...profile, energy_budget_j };
  });
}

/** The learners file's profiles as written (a learner host announces these), each entry checked. */
export function parseLearnerSpecs(text: string): LearnerSpec[] {
  return parseLearnerEntries(text).map((e) => e.spec);
}

/** Each entry of a learners file: its profile and its energy budget per cycle (J), if it has one. */
function parseLearnerEntries(text: string): { spec: LearnerSpec; energy_budget_j?: number }[] {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, '')); // a UTF-8 BOM, as editors write it (traces take it too)
  } catch (e) {
    throw new InputError(`learners file is not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(data) || data.length === 0)
    throw new InputError(
      'learners file must hold a non-empty JSON array of {"f_hz":..,"distance_m":..} or {"f_hz":..,"rate_bps":..}',
    );
  return data.map((entry: unknown, i: number) => {
    const where = `learners file entry ${i}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw new InputError(`${where} must be an object like {"f_hz":2.4e9,"distance_m":30}`);
    const obj = entry as Record<string, unknown>;
    for (const key of Object.keys(obj))
      if (!LEARNER_KEYS.has(key))
        throw new InputError(`${where}: unknown field "${key}" (valid: f_hz, distance_m, rate_bps, energy_j)`);
    const num = (key: string): number | undefined => {
      const v = obj[key];
      if (v !== undefined && typeof v !== 'number')
        throw new InputError(`${where}: ${key} must be a number, got ${JSON.stringify(v)}`);
      return v;
    };
    const f_hz = num('f_hz');
    if (f_hz === undefined) throw new InputError(`${where}: missing f_hz (CPU speed in Hz, > 0)`);
    const spec: LearnerSpec = { f_hz };
    const distance_m = num('distance_m');
    const rate_bps = num('rate_bps');
    if (distance_m !== undefined) spec.distance_m = distance_m;
    if (rate_bps !== undefined) spec.rate_bps = rate_bps;
    const problem = specProblem(spec);
    if (problem) throw new InputError(`${where}: ${problem}`);
    const budget = num('energy_j');
    if (budget !== undefined && !(Number.isFinite(budget) && budget > 0))
      throw new InputError(`${where}: energy_j (budget per cycle, J) must be a finite number > 0, got ${budget}`);
    return budget === undefined ? { spec } : { spec, energy_budget_j: budget };
  });
}

/**
 * Reject fleets the time model cannot use: a zero or non-finite rate (e.g. the SNR underflowed
 * to 0 with extreme power/noise settings) would make every time infinite.
 */
export function assertUsableFleet(fleet: LearnerProfile[]): void {
  for (const l of fleet) {
    // The same limits a learner's hello must meet: a run never builds a fleet its handshake refuses.
    if (!(l.rate_bps > 0 && l.rate_bps <= SPEC_LIMITS.rate_bps))
      throw new InputError(
        `learner ${l.id} has link rate ${l.rate_bps} bit/s; it must be > 0 and <= ${SPEC_LIMITS.rate_bps} (check --bandwidth-hz, --tx-power-dbm, --noise-dbm-per-hz, --pathloss-*, or the --learners file)`,
      );
    if (!(l.f_hz > 0 && l.f_hz <= SPEC_LIMITS.f_hz))
      throw new InputError(
        `learner ${l.id} has CPU speed ${l.f_hz} Hz; it must be > 0 and <= ${SPEC_LIMITS.f_hz} (check --cpu-hz or the --learners file)`,
      );
  }
}
