/**
 * Per-learner τ_k (asynchronous MEL, arXiv 1905.01656): result types and the engine shared by the
 * `async` and `energy` schemes. A learner's limits are abstracted as two monotone functions
 * (cap: most samples at τ iterations; fill: most iterations on n samples), so the engine does not
 * care whether only the deadline binds or the deadline and an energy budget together.
 *
 * The engine, given the minimum τ_lo (found by the caller exactly, as optimal.ts does), picks the
 * batches that minimise the spread max τ_k − τ_lo while every learner fills its cycle
 * (τ_k = fill_k(d_k)). Participation rule: every learner that can take one sample at τ_lo takes at
 * least one (if d is smaller than their number, d of them take one each). Without that rule the
 * least spread is reached by sending learners home (a lone learner has spread 0), which throws
 * away compute and is not what "every learner works for the whole cycle" means.
 *
 * Exactness of the spread: fill_k(n) ≤ τ_hi ⇔ n ≥ lo_k(τ_hi) = cap_k(τ_hi + 1) + 1, and
 * fill_k(n) ≥ τ_lo ⇔ n ≤ cap_k(τ_lo). So "some allocation has every τ_k in [τ_lo, τ_hi]" ⇔ every
 * participant's interval [lo_k, cap_k(τ_lo)] is non-empty and Σ lo_k ≤ d ≤ Σ cap_k(τ_lo) (any
 * integer sum in between is reachable by moving single samples). lo_k is non-increasing in τ_hi, so
 * that test is monotone and a binary search on τ_hi finds the least spread exactly, O(K log τ).
 */
import { distributeProportional } from './distribute.ts';
import { nameSome } from './infeasible.ts';
import type { FeasibleAllocation, InfeasibleAllocation } from './types.ts';

export type PerLearnerSchemeName = 'async' | 'energy';
export const PER_LEARNER_SCHEMES: PerLearnerSchemeName[] = ['async', 'energy'];

/** FeasibleAllocation with one τ_k per learner; `tau` is the minimum over learners with d_k > 0. */
export interface PerLearnerAllocation extends Omit<FeasibleAllocation, 'scheme'> {
  scheme: PerLearnerSchemeName;
  /** τ_k: the most iterations learner k fits into the cycle with its d_k; 0 for a learner that sits out. */
  tau_per_learner: number[];
  /** max τ_k − min τ_k over learners with d_k > 0 (gradient staleness). */
  staleness: number;
  /** Energy scheme only: E_k in J under (τ_k, d_k). */
  energy_j?: number[];
}

export interface PerLearnerInfeasible extends Omit<InfeasibleAllocation, 'scheme'> {
  scheme: PerLearnerSchemeName;
}

export type PerLearnerResult = PerLearnerAllocation | PerLearnerInfeasible;

export interface PerLearnerOptions {
  /** Largest allowed max τ_k − min τ_k; the minimum τ is lowered until it can be met. */
  maxStaleness?: number;
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

/** The learners that take part at minimum τ_lo and their room there. */
interface Stage {
  tauLo: number;
  members: number[];
  capLo: Float64Array; // cap_k(τ_lo) for members
  fill1: Float64Array; // fill_k(1) ≥ τ_lo for members: the τ of a learner given a single sample
  maxFill1: number;
}

function stageAt(L: LearnerLimits, tauLo: number): Stage {
  const members: number[] = [];
  for (let k = 0; k < L.K; k++) if (L.cap(k, tauLo) >= 1) members.push(k);
  const capLo = new Float64Array(members.length);
  const fill1 = new Float64Array(members.length);
  let maxFill1 = tauLo;
  members.forEach((k, i) => {
    capLo[i] = L.cap(k, tauLo);
    fill1[i] = L.fill(k, 1);
    if (fill1[i] > maxFill1) maxFill1 = fill1[i];
  });
  return { tauLo, members, capLo, fill1, maxFill1 };
}

/** lo_k(τ_hi): fewest samples that keep learner k at ≤ τ_hi iterations. */
function lowerBound(L: LearnerLimits, k: number, tauHi: number): number {
  return L.cap(k, tauHi + 1) + 1;
}

/** Can every participant's τ_k lie in [τ_lo, τ_hi]? (See the header for why this test is exact.) */
function windowFits(L: LearnerLimits, st: Stage, d: number, tauHi: number): boolean {
  const n = st.members.length;
  if (d < n) {
    // d learners take one sample each: enough of them must have fill_k(1) ≤ τ_hi.
    let count = 0;
    for (let i = 0; i < n; i++) if (st.fill1[i] <= tauHi) count++;
    return count >= d;
  }
  let sumLo = 0;
  let sumCap = 0;
  for (let i = 0; i < n; i++) {
    const lo = lowerBound(L, st.members[i], tauHi);
    if (lo > st.capLo[i]) return false; // one more sample drops it below τ_lo, one fewer lifts it above τ_hi
    sumLo += lo;
    sumCap += st.capLo[i];
  }
  return sumLo <= d && d <= sumCap;
}

/** Smallest τ_hi in [τ_lo, limit] with windowFits, given that it holds at `limit`. */
function leastTauHi(L: LearnerLimits, st: Stage, d: number, limit: number): number {
  let lo = st.tauLo - 1; // windowFits(lo) treated as false
  let hi = limit;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (windowFits(L, st, d, mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Batches with every τ_k in [τ_lo, τ_hi]; requires windowFits(τ_hi). */
function buildBatch(L: LearnerLimits, st: Stage, d: number, tauHi: number): number[] {
  const batch = new Array<number>(L.K).fill(0);
  const n = st.members.length;
  if (d < n) {
    // The d eligible learners with the most iterations (most work done); ties to the lower index.
    const eligible = st.members.map((k, i) => ({ k, f: st.fill1[i] })).filter((e) => e.f <= tauHi);
    eligible.sort((a, b) => b.f - a.f || a.k - b.k);
    for (let i = 0; i < d; i++) batch[eligible[i].k] = 1;
    return batch;
  }
  const room = new Array<number>(n);
  let placed = 0;
  st.members.forEach((k, i) => {
    const lo = lowerBound(L, k, tauHi);
    batch[k] = lo;
    placed += lo;
    room[i] = st.capLo[i] - lo;
  });
  // The rest in proportion to each learner's room, like optimal.ts (balanced relative slack).
  const extra = distributeProportional(room, d - placed);
  st.members.forEach((k, i) => (batch[k] += extra[i]));
  return batch;
}

export interface CycleFill {
  batch: number[];
  tau_per_learner: number[];
  tau: number;
  staleness: number;
}

/** No minimum τ from τ* down to 1 allows the requested staleness; learners most in the way first. */
export interface StalenessBlocked {
  blocked: true;
  binding: number[];
  reason: string;
}

/**
 * Fill every participant's cycle with the least spread. tauStar must be the largest τ with
 * Σ_k cap_k(τ) ≥ d (so a window exists at it). With maxStaleness s the minimum is lowered from τ*
 * until a window [τ_lo, τ_lo + s] fits. That test is not monotone in τ_lo (the window slides), so
 * the search scans downwards — exact: the first τ_lo that fits is the largest, and the allocation
 * built there has its minimum exactly at τ_lo (a larger actual minimum m would have made the
 * window at m fit, and m was tried or provably skipped before). See nextTauLo for the skips.
 */
export function fillCycles(L: LearnerLimits, d: number, tauStar: number, maxStaleness = Infinity): CycleFill | StalenessBlocked {
  // fill_k(1) of every learner, largest first: k takes part at τ_lo iff fill_k(1) ≥ τ_lo.
  const fills1: number[] = [];
  for (let k = 0; k < L.K; k++) {
    const f = L.fill(k, 1);
    if (f >= 1) fills1.push(f);
  }
  fills1.sort((x, y) => y - x);
  for (let tauLo = tauStar; tauLo >= 1; ) {
    const st = stageAt(L, tauLo);
    const limit = Math.min(st.maxFill1, tauLo + maxStaleness);
    if (!windowFits(L, st, d, limit)) {
      if (maxStaleness === Infinity) throw new Error(`no window at τ*=${tauStar} (bug: τ* must have Σcap ≥ d)`);
      tauLo = nextTauLo(L, st, d, maxStaleness, fills1);
      continue;
    }
    const tauHi = leastTauHi(L, st, d, limit);
    const batch = buildBatch(L, st, d, tauHi);
    const tau_per_learner = batch.map((n, k) => (n > 0 ? L.fill(k, n) : 0));
    let min = Infinity;
    let max = -Infinity;
    batch.forEach((n, k) => {
      if (n === 0) return;
      min = Math.min(min, tau_per_learner[k]);
      max = Math.max(max, tau_per_learner[k]);
    });
    if (min !== tauLo || max !== tauHi) throw new Error(`per-learner fill missed its window [${tauLo}, ${tauHi}]: got [${min}, ${max}] (bug)`);
    return { batch, tau_per_learner, tau: min, staleness: max - min };
  }
  return stalenessBlocked(L, d, tauStar, maxStaleness);
}

/**
 * The next minimum worth trying below st.tauLo, whose window [τ_lo, τ_lo + s] failed. Every τ skipped
 * provably fails too, so the scan stays exact while usually visiting a handful of τ instead of τ*:
 *  - d < #participants: the test only counts fill_k(1) values inside the window, and the largest
 *    τ_lo that fits is itself such a value, so jump to the next one below;
 *  - otherwise every participant must take a sample (d ≥ their number), and that stays so until
 *    there are more participants than d, i.e. down to the (d+1)-th largest fill_k(1) =: τ_join:
 *    - Σ lo_k > d: lowering τ_lo only raises every lo_k (narrower top) and adds participants, so
 *      it keeps failing down to τ_join;
 *    - a participant's interval is empty (no batch puts its τ_k in the window): it stays a
 *      participant and outside every window down to its next filled value fill_k(cap_k(τ_lo) + 1),
 *      or to τ_join, whichever comes first.
 */
function nextTauLo(L: LearnerLimits, st: Stage, d: number, s: number, fills1: number[]): number {
  const n = st.members.length;
  if (d < n) return fills1.find((f) => f < st.tauLo) ?? 0;
  const tauJoin = fills1.length > d ? fills1[d] : 0; // < τ_lo since at most d learners take part at τ_lo
  let sumLo = 0;
  let emptyNext = Infinity; // any one empty learner proves the failure, so the lowest next value counts
  st.members.forEach((k, i) => {
    const lo = lowerBound(L, k, st.tauLo + s);
    sumLo += lo;
    if (lo > st.capLo[i]) emptyNext = Math.min(emptyNext, L.fill(k, st.capLo[i] + 1));
  });
  if (sumLo > d) return tauJoin;
  if (emptyNext === Infinity) throw new Error('window failed with Σ lo ≤ d and no empty interval (bug)');
  return Math.max(tauJoin, emptyNext);
}

function stalenessBlocked(L: LearnerLimits, d: number, tauStar: number, s: number): StalenessBlocked {
  const st = stageAt(L, tauStar);
  const tauHi = tauStar + s;
  const head = `no minimum τ from ${tauStar} down to 1 keeps the staleness ≤ ${s}`;
  const n = st.members.length;
  if (d < n) {
    // Too few learners whose single-sample τ stays within the window: the others run too far ahead.
    const ahead = st.members.map((k, i) => ({ k, f: st.fill1[i] })).filter((e) => e.f > tauHi);
    ahead.sort((a, b) => b.f - a.f || a.k - b.k);
    const binding = ahead.map((e) => e.k);
    const names = ahead.map((e) => `${e.k} (τ=${e.f} on one sample)`);
    return { blocked: true, binding, reason: `${head}: at τ=${tauStar} fewer than d=${d} learners stay within τ=${tauHi} on one sample; ahead: ${nameSome(names)}` };
  }
  const empty: number[] = [];
  const need: { k: number; lo: number }[] = [];
  let needed = 0;
  st.members.forEach((k, i) => {
    const lo = lowerBound(L, k, tauHi);
    needed += lo;
    if (lo > st.capLo[i]) empty.push(k);
    else if (lo > 1) need.push({ k, lo });
  });
  // Fast learners need many samples to be held down to τ* + s: the hungriest bind most.
  need.sort((a, b) => b.lo - a.lo || a.k - b.k);
  const emptyPart = empty.length > 0 ? `; no batch size puts learner${empty.length > 1 ? 's' : ''} ${nameSome(empty.map(String))} inside [${tauStar}, ${tauHi}]` : '';
  const needPart = need.length > 0 ? `; the hungriest: ${nameSome(need.map((e) => `${e.k} (≥ ${e.lo} samples)`))}` : '';
  return {
    blocked: true,
    binding: [...empty, ...need.map((e) => e.k)],
    reason: `${head}: at τ=${tauStar} keeping every learner within τ=${tauHi} takes ${needed} samples (d=${d})${emptyPart}${needPart}`,
  };
}
export function validateOptions(o: PerLearnerOptions): number {
  const s = o.maxStaleness ?? Infinity;
  if (s !== Infinity && !(Number.isInteger(s) && s >= 0)) throw new RangeError(`maxStaleness must be an integer >= 0, got ${s}`);
  return s;
}
