/**
 * Mechanical verdicts on the paper's claims: each rule below is applied as written, with the reason
 * spelled out, so the table cannot be more flattering than the numbers.
 *
 * - a number (τ, cycles to a target): **yes** when every seed (fleet) has a value and the paper's
 *   number lies in our 95 % CI (with one value: equals it); **partly** when it lies in the CI but
 *   some seeds never reached the target, or outside the CI but at least one seed gave exactly the
 *   paper's number; **no** otherwise (including: no seed reached the target at all);
 * - "reaches" / "never reaches": **yes** on every seed, **partly** on some, **no** on none;
 * - a qualitative comparison (fewer cycles, lower τ, equal τ, τ increasing): **yes** when it holds
 *   on every seed/fleet/curve, **partly** when on some (for "fewer cycles": on more seeds than the
 *   opposite), **no** otherwise.
 */
import { describe } from '../stats/index.ts';
import { targetKey, targetLabel, type CampaignSummary } from './aggregate.ts';
import { cyclesText, cyclesWord, meanCi, pValue } from './format.ts';
import { CONTEXT, type PaperClaim, type PanelId } from './paper-claims.ts';

export type Verdict = 'yes' | 'partly' | 'no';

export interface JudgedClaim {
  id: string;
  source: string;
  claim: string;
  paper: string;
  ours: string;
  verdict: Verdict;
  why: string;
  /** known reasons for a difference, when the verdict is not yes */
  context?: string;
}

interface Judgement {
  verdict: Verdict;
  ours: string;
  why: string;
}

const EPS = 1e-9;
const fmt = (x: number, digits = 2) => (Number.isInteger(x) ? String(x) : x.toFixed(digits));

/**
 * A number the paper gives vs our per-unit values (null = never reached within `horizon` cycles).
 * `unit` names what the values are over ("seeds", "fleets").
 */
export function judgeValue(
  values: readonly (number | null)[],
  paper: number,
  unit: string,
  horizon?: number,
): Judgement {
  const n = values.length;
  const got = values.filter((v): v is number => v !== null);
  const never = n - got.length;
  if (got.length === 0)
    return {
      verdict: 'no',
      ours: `never within ${cyclesWord(horizon ?? '?')} (0/${n} ${unit})`,
      why: `not reached on any of ${n} ${unit}; the paper reports ${fmt(paper)}`,
    };
  const s = describe(got);
  const ours =
    horizon !== undefined
      ? cyclesText({ ...s, reached: got.length, seeds: n }, horizon)
      : `${meanCi(s, 2)} over ${n} ${unit} (range ${fmt(Math.min(...got))}–${fmt(Math.max(...got))})`;
  const inCi =
    s.ci95_low !== null && s.ci95_high !== null
      ? paper >= s.ci95_low - EPS && paper <= s.ci95_high + EPS
      : Math.abs(s.mean! - paper) <= EPS;
  const exact = got.filter((v) => Math.abs(v - paper) <= EPS).length;
  const interval =
    s.ci95_low !== null ? `95 % CI [${fmt(s.ci95_low!)}, ${fmt(s.ci95_high!)}]` : `the single value ${fmt(s.mean!)}`;
  if (inCi && never === 0) return { verdict: 'yes', ours, why: `the paper's ${fmt(paper)} lies in our ${interval}` };
  if (inCi)
    return {
      verdict: 'partly',
      ours,
      why: `the paper's ${fmt(paper)} lies in our ${interval} (over the ${got.length} ${unit} that reached it), but ${never} of ${n} ${unit} never reached it within ${cyclesWord(horizon!)}`,
    };
  const side = s.mean! > paper ? 'higher' : 'lower';
  const neverNote = never ? `; ${never} of ${n} ${unit} never reached it within ${cyclesWord(horizon!)}` : '';
  if (exact > 0)
    return {
      verdict: 'partly',
      ours,
      why: `our mean ${fmt(s.mean!)} is ${side} and our ${interval} excludes the paper's ${fmt(paper)}, though ${exact} of ${n} ${unit} gave exactly ${fmt(paper)}${neverNote}`,
    };
  return {
    verdict: 'no',
    ours,
    why: `our ${interval} excludes the paper's ${fmt(paper)} (ours is ${side}) and no single ${unit.replace(/s$/, '')} gave ${fmt(paper)}${neverNote}`,
  };
}

/** "reaches the target" (expected true) or "never reaches it" (expected false), seed by seed. */
export function judgeReaches(perSeed: readonly (number | null)[], expected: boolean, horizon: number): Judgement {
  const n = perSeed.length;
  const reached = perSeed.filter((v) => v !== null) as number[];
  const ours = reached.length
    ? `reached on ${reached.length}/${n} seeds within ${cyclesWord(horizon!)} (after ${fmt(Math.min(...reached))}–${fmt(Math.max(...reached))} cycles)`
    : `reached on 0/${n} seeds within ${cyclesWord(horizon!)}`;
  const holds = expected ? reached.length : n - reached.length;
  const verdict: Verdict = holds === n ? 'yes' : holds > 0 ? 'partly' : 'no';
  const what = expected ? 'reached it' : 'stayed below it';
  return { verdict, ours, why: `${holds} of ${n} seeds ${what} within ${cyclesWord(horizon!)}` };
}

/** Adaptive needs fewer cycles than ETA: the paired signs (censored pairs count when their sign is known). */
export function judgeFewer(summary: CampaignSummary, adaptive: string, target: number): Judgement {
  const pair = summary.paired.find((p) => p.adaptive === adaptive);
  if (!pair) return { verdict: 'no', ours: '—', why: `no paired comparison of ${adaptive} and ETA was run` };
  const c = pair.cycles_to_target[targetKey(target)];
  const n = c.per_seed.length;
  const fewer = c.sign_test.n_negative;
  const more = c.sign_test.n_positive;
  const ours =
    `fewer on ${fewer}/${n} seeds, more on ${more}, equal on ${c.sign_test.n_ties}` +
    `${c.sign_unknown ? `, neither reached on ${c.sign_unknown}` : ''}; sign test p = ${pValue(c.sign_test.p_value)}` +
    (c.complete_pairs
      ? `; difference ${meanCi(c.difference, 2)} cycles over ${c.complete_pairs} seeds where both reached`
      : '');
  const verdict: Verdict = fewer === n ? 'yes' : fewer > 0 && fewer > more ? 'partly' : 'no';
  return {
    verdict,
    ours,
    why: `adaptive reached ${targetLabel(target)} in fewer cycles than ETA on ${fewer} of ${n} seeds (a seed where only adaptive reached it counts as fewer)`,
  };
}

/** "holds on every case" → yes, "on some" → partly, "on none" → no. */
function judgeCount(holds: number, total: number, what: string, ours: string): Judgement {
  const verdict: Verdict = holds === total ? 'yes' : holds > 0 ? 'partly' : 'no';
  return { verdict, ours, why: `${what}: holds in ${holds} of ${total}` };
}

/** τ of one scheme at (K, T), one value per fleet (fleet i = seed base + i), infeasible = 0. */
export interface Fig1Point {
  scheme: string;
  K: number;
  T: number;
  per_fleet: number[];
}

export interface Fig1Evidence {
  fleets: number;
  /** the τ-vs-K grid (x = K, curves = T) and τ-vs-T grid (x = T, curves = K) */
  vsK: Fig1Point[];
  vsT: Fig1Point[];
}

function fig1Point(e: Fig1Evidence, scheme: string, K: number, T: number): Fig1Point | undefined {
  return [...e.vsK, ...e.vsT].find((p) => p.scheme === scheme && p.K === K && p.T === T);
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

function judgeFig1(claim: PaperClaim, e: Fig1Evidence): Judgement {
  switch (claim.kind) {
    case 'tau': {
      const p = fig1Point(e, claim.scheme, claim.K, claim.T);
      if (!p)
        return { verdict: 'no', ours: '—', why: `K = ${claim.K}, T = ${claim.T} s is not in the Fig. 1 grid that ran` };
      return judgeValue(p.per_fleet, claim.value, 'fleets');
    }
    case 'analytical_equals_optimal': {
      let equal = 0;
      let total = 0;
      let gap = 0;
      for (const a of [...e.vsK, ...e.vsT].filter((p) => p.scheme === 'analytical')) {
        const o = fig1Point(e, 'optimal', a.K, a.T);
        if (!o) continue;
        a.per_fleet.forEach((t, i) => {
          total++;
          if (t === o.per_fleet[i]) equal++;
          gap = Math.max(gap, Math.abs(t - o.per_fleet[i]));
        });
      }
      if (total === 0) return { verdict: 'no', ours: '—', why: 'analytical and optimal were not both run' };
      return judgeCount(
        equal,
        total,
        'analytical τ = optimal τ, instance by instance (K, T, fleet)',
        `equal in ${equal}/${total} instances${gap ? ` (largest gap ${gap})` : ''}`,
      );
    }
    case 'tau_increases': {
      const points = claim.axis === 'K' ? e.vsK : e.vsT;
      const curveKey = (p: Fig1Point) => `${p.scheme} ${claim.axis === 'K' ? `T=${p.T}` : `K=${p.K}`}`;
      const curves = new Map<string, Fig1Point[]>();
      for (const p of points) curves.set(curveKey(p), [...(curves.get(curveKey(p)) ?? []), p]);
      const bad: string[] = [];
      for (const [name, ps] of curves) {
        const ys = ps.sort((a, b) => a[claim.axis] - b[claim.axis]).map((p) => mean(p.per_fleet));
        const ok = ys.every((y, i) => i === 0 || y >= ys[i - 1] - EPS) && ys[ys.length - 1] > ys[0];
        if (!ok) bad.push(name);
      }
      const holds = curves.size - bad.length;
      return judgeCount(
        holds,
        curves.size,
        `mean τ over ${e.fleets} fleets never decreases and ends higher, per curve`,
        `${holds}/${curves.size} curves increase${bad.length ? ` (not: ${bad.join('; ')})` : ''}`,
      );
    }
    case 'eta_below_adaptive': {
      const grid = claim.axis === 'K' ? e.vsK : e.vsT;
      const xs = [...new Set(grid.map((p) => p[claim.axis]))].sort((a, b) => a - b);
      let holds = 0;
      let total = 0;
      const gaps: number[] = [];
      for (const x of xs) {
        const at = (side: { K?: number; T?: number }) => ({ K: side.K ?? x, T: side.T ?? x });
        const etaAt = at(claim.eta);
        const adAt = at(claim.adaptive);
        const eta = fig1Point(e, 'eta', etaAt.K, etaAt.T);
        const ad = fig1Point(e, 'optimal', adAt.K, adAt.T);
        if (!eta || !ad) continue;
        eta.per_fleet.forEach((t, i) => {
          total++;
          if (t < ad.per_fleet[i]) holds++;
        });
        gaps.push(mean(ad.per_fleet) - mean(eta.per_fleet));
      }
      if (total === 0)
        return { verdict: 'no', ours: '—', why: 'the grid that ran does not hold both sides of the comparison' };
      const ours = `ETA τ below adaptive τ in ${holds}/${total} (${claim.axis}, fleet) cases; mean gap ${fmt(Math.min(...gaps))}–${fmt(Math.max(...gaps))}`;
      return judgeCount(holds, total, `ETA τ < adaptive τ, fleet by fleet at every ${claim.axis}`, ours);
    }
    default:
      throw new Error(`not a Fig. 1 claim: ${claim.kind}`);
  }
}

function paperValue(claim: PaperClaim): string {
  switch (claim.kind) {
    case 'tau':
      return `τ = ${claim.value}`;
    case 'cycles_to_target':
      return `${claim.value} cycles`;
    case 'reaches':
      return claim.reaches ? 'reached' : 'not reached';
    case 'adaptive_fewer_cycles':
      return 'fewer cycles';
    case 'analytical_equals_optimal':
      return 'identical';
    case 'tau_increases':
      return 'increasing';
    case 'eta_below_adaptive':
      return 'lower';
  }
}

/** Judge every claim on our evidence. `adaptive` is the adaptive scheme the Fig. 2 campaigns ran (optimal or analytical). */
export function judgeClaims(
  claims: readonly PaperClaim[],
  evidence: { fig1: Fig1Evidence | null; panels: Partial<Record<PanelId, CampaignSummary>>; adaptive: string },
): JudgedClaim[] {
  return claims.map((claim) => {
    let j: Judgement;
    let context: string;
    if (claim.kind === 'cycles_to_target' || claim.kind === 'reaches' || claim.kind === 'adaptive_fewer_cycles') {
      context = CONTEXT.fig2;
      const summary = evidence.panels[claim.panel];
      if (!summary) j = { verdict: 'no', ours: '—', why: `panel ${claim.panel} was not run` };
      else if (claim.kind === 'adaptive_fewer_cycles') j = judgeFewer(summary, evidence.adaptive, claim.target);
      else {
        const scheme = claim.scheme === 'adaptive' ? evidence.adaptive : 'eta';
        const s = summary.per_scheme[scheme];
        if (!s) j = { verdict: 'no', ours: '—', why: `scheme ${scheme} was not run` };
        else {
          const perSeed = s.cycles_to_target[targetKey(claim.target)].per_seed;
          j =
            claim.kind === 'reaches'
              ? judgeReaches(perSeed, claim.reaches, s.cycles)
              : judgeValue(perSeed, claim.value, 'seeds', s.cycles);
        }
      }
    } else {
      context = CONTEXT.fig1;
      j = evidence.fig1 ? judgeFig1(claim, evidence.fig1) : { verdict: 'no', ours: '—', why: 'Fig. 1 was not run' };
    }
    return {
      id: claim.id,
      source: claim.source,
      claim: claim.text,
      paper: paperValue(claim),
      ours: j.ours,
      verdict: j.verdict,
      why: j.why,
      ...(j.verdict === 'yes' ? {} : { context }),
    };
  });
}
