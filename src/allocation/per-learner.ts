/**
 * Per-learner τ_k (asynchronous MEL, after arXiv 1905.01656): the engine shared by the `async` and
 * `energy` schemes. A learner's limits are two monotone functions (cap: most samples at τ
 * iterations; fill: most iterations on n samples), so the engine does not care whether only the
 * deadline binds or the deadline and an energy budget together.
 *
 * Our formulation (the papers publish no code). Given the largest minimum τ* (found by the caller
 * exactly, as optimal.ts does) and a staleness bound s (default: none), learner k with d_k > 0 runs
 *     τ_k = min(fill_k(d_k), τ* + s)                       ("fills its cycle", up to the bound)
 * and the batches maximise the total work W = Σ_k τ_k·d_k (sample-iterations done in the cycle, =
 * d × FedNova's d_k-weighted mean τ) subject to Σ d_k = d and d_k ≤ cap_k(τ*) (so min τ_k = τ*).
 * Participation rule: every learner that can take one sample at τ* takes at least one (when d is at
 * least their number); others sit out.
 *
 * Why this objective: at the synchronous optimum the learners keep up to one iteration of idle
 * time each; moving samples away from a learner lifts its τ_k and uses that time. (Minimising the
 * spread instead gives back the synchronous allocation on Table I fleets: staleness 0, nothing new.)
 *
 * Exact algorithm. Learner k's possible (τ_k, d_k) form levels: at level τ its batch ranges over
 * [cap_k(τ+1) + 1, cap_k(τ)] (the top level τ* + s over [1, cap_k(τ* + s)]) and its work is τ·d_k,
 * linear in d_k. Exchange argument: if two learners sit strictly inside their levels, moving samples
 * to the one with the larger τ does not lower W and keeps both levels, until one reaches an end of
 * its range; so some optimum has every learner but at most one at an end of its range. A dynamic
 * programme over the samples removed from the caps, R = Σ cap_k(τ*) − d, with states "all at ends"
 * and "one learner free" (the free one by a sliding-window maximum) finds it in
 * O(R · Σ_k levels_k). Learners of equal τ_k then share their samples in proportion to their room
 * (W unchanged), like optimal.ts. Third objective: among the batches with the most work, the
 * least staleness — W is non-decreasing in s, so the smallest bound that keeps the most work is
 * found by bisection over s (a few more runs of the programme). Beyond WORK_LIMIT the engine falls back to optimal's batches
 * with filled τ_k and says so (`exact: false`).
 */
import { distributeProportional } from './distribute.ts';
import type { FeasibleAllocation, InfeasibleAllocation } from './types.ts';

/** A FeasibleAllocation of a per-learner scheme; `tau` is min τ_k over learners with d_k > 0. */
export type PerLearnerAllocation = FeasibleAllocation & { work: number; exact: boolean };
export type PerLearnerResult = PerLearnerAllocation | InfeasibleAllocation;

export interface PerLearnerOptions {
  /** Largest allowed max τ_k − min τ_k: τ_k = min(fill_k(d_k), τ* + s). Absent = unbounded. */
  maxStaleness?: number;
  /** Cap on every τ_k (the problem's tau_max). */
  tauMax?: number;
}

/**
 * What the engine needs to know about learner k. Contract (the two must agree exactly):
 * fill(k, n) ≥ τ ⇔ cap(k, τ) ≥ n for n ≥ 1, τ ≥ 1; cap non-increasing in τ, fill in n.
 */
export interface LearnerLimits {
  readonly K: number;
  /** Most samples learner k can take at τ iterations (0: none). */
  cap(k: number, tau: number): number;
  /** Most iterations learner k can run on n ≥ 1 samples (< 1: not even one). */
  fill(k: number, n: number): number;
}

/** Above this many DP cell updates (or states), fall back to the synchronous batches (exact: false). */
export const WORK_LIMIT = 6e7;
const STATE_LIMIT = 2e7;

export interface CycleFill {
  batch: number[];
  tau_per_learner: number[];
  tau: number;
  staleness: number;
  work: number;
  exact: boolean;
}

export function validateOptions(o: PerLearnerOptions): number {
  const s = o.maxStaleness ?? Infinity;
  if (s !== Infinity && !(Number.isInteger(s) && s >= 0))
    throw new RangeError(`maxStaleness must be an integer >= 0, got ${s}`);
  if (o.tauMax !== undefined && !(Number.isInteger(o.tauMax) && o.tauMax >= 1))
    throw new RangeError(`tau_max must be an integer >= 1, got ${o.tauMax}`);
  return s;
}

/** One level of one learner, in "samples removed from cap_k(τ*)" x = cap* − d_k: x ∈ [xa, xb], work τ·(cap* − x). */
interface Level {
  tau: number;
  xa: number;
  xb: number;
}

/**
 * Learner k's non-empty levels from τ* up to `top`, clipped to x ∈ [0, R] and d_k ≥ minBatch.
 * Levels are visited through fill: the level of n samples is fill(n); the next one up starts at
 * cap(τ + 1). Only batches ≥ cap* − R can occur (the others cannot take the rest), which bounds the walk.
 */
function levelsOf(
  L: LearnerLimits,
  k: number,
  capStar: number,
  tauStar: number,
  top: number,
  R: number,
  minBatch: number,
): Level[] {
  const out: Level[] = [];
  const nMin = Math.max(minBatch, capStar - R);
  let n = capStar;
  while (n >= nMin && n >= 1) {
    const tau = Math.min(L.fill(k, n), top);
    const lo = tau >= top ? 1 : L.cap(k, tau + 1) + 1;
    const from = Math.max(lo, nMin);
    if (tau < tauStar)
      throw new Error(`learner ${k}: fill(${n}) = ${tau} below τ* = ${tauStar} (bug: cap and fill disagree)`);
    out.push({ tau, xa: capStar - n, xb: capStar - from });
    n = from - 1;
  }
  return out;
}

/** One learner's step of the DP: its choice of removed samples x at each total X, per table. */
interface StepChoices {
  f: Int32Array;
  g: Int32Array;
  /** 1 where g's best came from the free learner (interior of a level, taken from f) */
  gFromF: Uint8Array;
}

const NEG = -Infinity;

/** The exact dynamic programme of the header. Returns d_k per learner, or null when too large. */
function maxWorkBatches(
  members: number[],
  capStar: number[],
  levels: Level[][],
  R: number,
  zeroAllowed: boolean,
): number[] | null {
  const width = R + 1;
  let cells = 0;
  for (const lv of levels) cells += (2 * lv.length + 1) * width;
  if (cells > WORK_LIMIT || members.length * width > STATE_LIMIT) return null;
  let f = new Float64Array(width).fill(NEG);
  let g = new Float64Array(width).fill(NEG);
  f[0] = 0;
  g[0] = 0;
  const choices: StepChoices[] = [];
  const deque = new Int32Array(width);
  for (let j = 0; j < members.length; j++) {
    const step: StepChoices = { f: new Int32Array(width), g: new Int32Array(width), gFromF: new Uint8Array(width) };
    const nf = new Float64Array(width).fill(NEG);
    const ng = new Float64Array(width).fill(NEG);
    stepAtLevelEnds(f, g, nf, ng, step, levelEnds(levels[j], capStar[j], R, zeroAllowed));
    for (const lv of levels[j]) if (lv.xb - lv.xa >= 2) stepInsideLevel(f, ng, step, lv, capStar[j], deque);
    choices.push(step);
    f = nf;
    g = ng;
  }
  if (g[R] === NEG) throw new Error(`no batches remove exactly R=${R} samples (bug: τ* must have Σcap ≥ d)`);
  return reconstructBatches(choices, capStar, R);
}

/** The removals a learner can take at the ends of its levels (and sitting out, when allowed), with their work. */
function levelEnds(levels: Level[], cap: number, R: number, zeroAllowed: boolean): { x: number; value: number }[] {
  const ends: { x: number; value: number }[] = [];
  for (const lv of levels) {
    ends.push({ x: lv.xa, value: lv.tau * (cap - lv.xa) });
    if (lv.xb !== lv.xa) ends.push({ x: lv.xb, value: lv.tau * (cap - lv.xb) });
  }
  if (zeroAllowed && cap <= R) ends.push({ x: cap, value: 0 });
  return ends;
}

/** Both tables, the learner at a level end: a knapsack step over the end points. */
function stepAtLevelEnds(
  f: Float64Array,
  g: Float64Array,
  nf: Float64Array,
  ng: Float64Array,
  step: StepChoices,
  ends: { x: number; value: number }[],
): void {
  for (const e of ends) {
    for (let X = e.x; X < f.length; X++) {
      const vf = f[X - e.x];
      if (vf !== NEG && vf + e.value > nf[X]) {
        nf[X] = vf + e.value;
        step.f[X] = e.x;
      }
      const vg = g[X - e.x];
      if (vg !== NEG && vg + e.value > ng[X]) {
        ng[X] = vg + e.value;
        step.g[X] = e.x;
        step.gFromF[X] = 0;
      }
    }
  }
}

/**
 * The free learner anywhere inside a level, from the "all at ends" table:
 * max over x ∈ [xa, xb] of f[X − x] + τ(cap − x) = τ(cap − X) + max over y ∈ [X − xb, X − xa] of f[y] + τy,
 * a sliding-window maximum (monotone deque).
 */
function stepInsideLevel(
  f: Float64Array,
  ng: Float64Array,
  step: StepChoices,
  lv: Level,
  cap: number,
  deque: Int32Array,
): void {
  const t = lv.tau;
  let head = 0;
  let tail = 0;
  let next = 0; // next y to enter the window
  for (let X = lv.xa; X < f.length; X++) {
    for (; next <= X - lv.xa; next++) {
      if (f[next] === NEG) continue;
      const h = f[next] + t * next;
      while (tail > head && f[deque[tail - 1]] + t * deque[tail - 1] <= h) tail--;
      deque[tail++] = next;
    }
    while (tail > head && deque[head] < X - lv.xb) head++;
    if (tail === head) continue;
    const y = deque[head];
    const v = f[y] + t * y + t * (cap - X);
    if (v > ng[X]) {
      ng[X] = v;
      step.g[X] = X - y;
      step.gFromF[X] = 1;
    }
  }
}

/** Walk the choices back from X = R: each learner's batch is its cap less what it gave up. */
function reconstructBatches(choices: StepChoices[], capStar: number[], R: number): number[] {
  const batch = new Array<number>(choices.length);
  let X = R;
  let inG = true;
  for (let j = choices.length - 1; j >= 0; j--) {
    let x: number;
    if (inG) {
      x = choices[j].g[X];
      if (choices[j].gFromF[X]) inG = false;
    } else x = choices[j].f[X];
    batch[j] = capStar[j] - x;
    X -= x;
  }
  if (X !== 0) throw new Error('per-learner DP reconstruction lost samples (bug)');
  return batch;
}

/**
 * Fill every participant's cycle with the most work. tauStar must be the largest τ with
 * Σ_k cap_k(τ) ≥ d (capped by tauMax when given).
 */
export function fillCycles(L: LearnerLimits, d: number, tauStar: number, options: PerLearnerOptions = {}): CycleFill {
  const s = validateOptions(options);
  const members: number[] = [];
  const capStar: number[] = [];
  for (let k = 0; k < L.K; k++) {
    const c = L.cap(k, tauStar);
    if (c >= 1) {
      members.push(k);
      capStar.push(Math.min(c, d)); // more than d never helps, and keeps the sums exact
    }
  }
  const total = capStar.reduce((a, b) => a + b, 0);
  const R = total - d;
  if (R < 0) throw new Error(`Σcap(τ*=${tauStar}) = ${total} < d = ${d} (bug)`);
  const zeroAllowed = d < members.length;
  const tauMax = options.tauMax ?? Infinity;
  // The most any member can run (on one sample): a looser bound changes nothing.
  let reach = tauStar;
  for (const k of members) reach = Math.max(reach, Math.min(L.fill(k, 1), tauMax));
  const topFor = (bound: number) => Math.min(tauStar + bound, reach);
  const solveAt = (top: number) => {
    const levels = members.map((k, j) => levelsOf(L, k, capStar[j], tauStar, top, R, 1));
    return maxWorkBatches(members, capStar, levels, R, zeroAllowed);
  };
  const build = (memberBatch: number[], top: number, exact: boolean) => assemble(L, members, memberBatch, top, exact);

  const widest = topFor(s);
  const best = solveAt(widest);
  if (best === null) return build(distributeProportional(capStar, d), widest, false);
  // Third objective: among the batches with the most work, the least staleness. The most work
  // W(s) is non-decreasing in s, so the smallest s with W(s) = W(widest) is found by bisection.
  const full = build(best, widest, true);
  let lo = -1; // W(top = τ* + lo) < full.work treated as known
  let hi = widest - tauStar;
  let answer = full;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const b = solveAt(topFor(mid));
    const got = b === null ? null : build(b, topFor(mid), true);
    if (got !== null && got.work === full.work) {
      hi = mid;
      answer = got;
    } else lo = mid;
  }
  return answer;
}

/** The full result from the members' batches: learners of equal τ_k share their samples, then τ_k, min, spread, work. */
function assemble(L: LearnerLimits, members: number[], memberBatch: number[], top: number, exact: boolean): CycleFill {
  const batch = new Array<number>(L.K).fill(0);
  members.forEach((k, j) => (batch[k] = memberBatch[j]));
  const tauOf = (k: number, n: number) => (n > 0 ? Math.min(L.fill(k, n), top) : 0);
  if (exact) shareWithinLevels(L, batch, tauOf, top);
  const tau_per_learner = batch.map((n, k) => tauOf(k, n));
  let min = Infinity;
  let max = -Infinity;
  let work = 0;
  batch.forEach((n, k) => {
    if (n === 0) return;
    min = Math.min(min, tau_per_learner[k]);
    max = Math.max(max, tau_per_learner[k]);
    work += n * tau_per_learner[k];
  });
  return { batch, tau_per_learner, tau: min, staleness: max - min, work, exact };
}

/**
 * Learners at the same τ_k share their samples in proportion to their room within that level:
 * W is unchanged and nobody is pushed to the edge of its level for no reason.
 */
function shareWithinLevels(
  L: LearnerLimits,
  batch: number[],
  tauOf: (k: number, n: number) => number,
  top: number,
): void {
  const groups = new Map<number, number[]>();
  batch.forEach((n, k) => {
    if (n === 0) return;
    const t = tauOf(k, n);
    groups.set(t, [...(groups.get(t) ?? []), k]);
  });
  for (const [tau, ks] of groups) {
    if (ks.length < 2) continue;
    const lo = ks.map((k) => (tau >= top ? 1 : L.cap(k, tau + 1) + 1));
    const hi = ks.map((k) => L.cap(k, tau));
    const sum = ks.reduce((a, k) => a + batch[k], 0);
    const base = lo.reduce((a, b) => a + b, 0);
    const extra = distributeProportional(
      ks.map((_, i) => hi[i] - lo[i]),
      sum - base,
    );
    ks.forEach((k, i) => (batch[k] = lo[i] + extra[i]));
  }
}
