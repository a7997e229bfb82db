/**
 * Brute force for the per-learner schemes (async, energy), written independently of the solvers:
 * every composition of d into K parts, every learner filling its cycle by linear scan.
 */
import type { Coefficients } from '../../src/model/coefficients.ts';

/** On time, by the project's definition, written out independently of the solvers' helpers. */
export function onTime(c: Coefficients, tau: number, d_k: number, T_s: number): boolean {
  if (d_k === 0) return true;
  if (c.c0_s >= T_s) return false;
  return c.c2_s_per_sample_iter * tau * d_k + c.c1_s_per_sample * d_k + c.c0_s <= T_s * (1 + 1e-9);
}

/** Learner k may run τ iterations on n ≥ 1 samples (time and, for the energy scheme, budget). */
export type Allowed = (k: number, tau: number, n: number) => boolean;

export interface BruteBest {
  minTau: number;
  spread: number;
  /** How many compositions reach (minTau, spread): the solver's batch must be one of them. */
  ties: number;
}

/**
 * Lexicographic best over all compositions: max min τ_k, then min spread. τ_k is the largest
 * τ ≤ tauLimit with allowed(k, τ, d_k); compositions with some participant at τ_k = 0 are invalid.
 * `rule`: the participation rule of per-learner.ts (|{d_k > 0}| = min(#{k : allowed(k, m, 1)}, d)
 * with m the minimum τ_k). `maxStaleness` restricts to spread ≤ s. null: nothing valid.
 */
export function bruteForce(K: number, d: number, allowed: Allowed, tauLimit: number, rule: boolean, maxStaleness = Infinity): BruteBest | null {
  const fillTab = Array.from({ length: K }, (_, k) =>
    Array.from({ length: d + 1 }, (_, n) => {
      if (n === 0) return 0;
      let tau = 0;
      while (tau < tauLimit && allowed(k, tau + 1, n)) tau++;
      return tau;
    }),
  );
  const single = (k: number, m: number) => allowed(k, m, 1);
  let best: BruteBest | null = null;
  const parts = new Array<number>(K).fill(0);
  const visit = () => {
    let min = Infinity;
    let max = -Infinity;
    let active = 0;
    for (let k = 0; k < K; k++) {
      if (parts[k] === 0) continue;
      const t = fillTab[k][parts[k]];
      if (t < 1) return;
      active++;
      min = Math.min(min, t);
      max = Math.max(max, t);
    }
    if (max - min > maxStaleness) return;
    if (rule) {
      let able = 0;
      for (let k = 0; k < K; k++) if (single(k, min)) able++;
      if (active !== Math.min(able, d)) return;
    }
    const spread = max - min;
    if (best === null || min > best.minTau || (min === best.minTau && spread < best.spread)) best = { minTau: min, spread, ties: 1 };
    else if (min === best.minTau && spread === best.spread) best.ties++;
  };
  const walk = (k: number, left: number): void => {
    if (k === K - 1) {
      parts[k] = left;
      visit();
      return;
    }
    for (let n = 0; n <= left; n++) {
      parts[k] = n;
      walk(k + 1, left - n);
    }
  };
  walk(0, d);
  return best;
}

/** The filled τ for n samples by linear scan (0 if not even τ = 1). */
export function fillByScan(allowed: (tau: number) => boolean, tauLimit: number): number {
  let tau = 0;
  while (tau < tauLimit && allowed(tau + 1)) tau++;
  return tau;
}
