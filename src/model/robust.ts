/**
 * Lower quantiles for planning against a changing world (the pure half of the `robust` scheme):
 * plan each learner at a speed and a rate it reaches with probability 1 − ε, either from the known
 * dynamics distributions or from its measured history.
 *
 * Rate: R = shannonRateBps(h_path·X)·J with X = Rayleigh Exp(1) × 10^(N(0,σ_dB²)/10) and jitter
 * J = exp(σ_j·N(0,1)), all independent (as in dynamics.ts). With one random factor the quantile is
 * closed form (Shannon is increasing in the gain). Otherwise it is found by NUMERIC INVERSION, not
 * Monte Carlo: the CDF is one factor's closed-form CDF (Rayleigh's 1 − e^−x, or the jitter's Φ)
 * averaged over the other factors by trapezoid quadrature, the closed-form factor chosen so that the
 * integrand is at least ~10 grid steps wide (the rule then converges geometrically for these
 * smooth Gaussian/Gumbel-weighted integrands); then regula falsi (Illinois) in ln q. Accuracy: the
 * CDF at the returned quantile is within ~1e-9 of ε (the truncated Exp(1) tail below e^−23 holds
 * 1e-10); the two quadratures agree to that level and simulation agrees within sampling error (tests).
 * The quantile depends only on (rate_bps, spec, ε) and the integration is not free: cache it.
 * Mobility is not in the quantile: pass the no-fading rate at the distance you plan for (e.g. the
 * worst distance reachable in a cycle) as `rate_bps`.
 */
import { InputError } from '../errors.ts';
import { shannonRateBps } from './channel.ts';
import { gainForRate, type DynamicsSpec } from './dynamics.ts';
import type { SystemParams } from './params.ts';

/** c[0]·xⁿ + c[1]·xⁿ⁻¹ + … + c[n], highest power first. */
function horner(c: readonly number[], x: number): number {
  return c.reduce((acc, ci) => acc * x + ci, 0);
}

/** Standard normal CDF Φ (Hart 1968 as given by West 2005): absolute error < 2e-15, relative 1e-8 at −8σ. */
export function normalCdf(x: number): number {
  const a = Math.abs(x);
  let c: number;
  if (a > 37) c = 0;
  else if (a < 7.07106781186547) {
    const e = Math.exp((-a * a) / 2);
    const n = horner(
      [
        3.52624965998911e-2, 0.700383064443688, 6.37396220353165, 33.912866078383, 112.079291497871, 221.213596169931,
        220.206867912376,
      ],
      a,
    );
    const d = horner(
      [
        8.83883476483184e-2, 1.75566716318264, 16.064177579207, 86.7807322029461, 296.564248779674, 637.333633378831,
        793.826512519948, 440.413735824752,
      ],
      a,
    );
    c = (e * n) / d;
  } else {
    let b = a + 0.65;
    b = a + 4 / b;
    b = a + 3 / b;
    b = a + 2 / b;
    b = a + 1 / b;
    c = Math.exp((-a * a) / 2) / b / 2.506628274631;
  }
  return x > 0 ? 1 - c : c;
}

/** Φ⁻¹(p) (Acklam's rational approximation, 1e-9, polished by one Halley step on normalCdf). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs p in (0, 1), got ${p}`);
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  let x: number;
  if (p < 0.02425) x = tail(Math.sqrt(-2 * Math.log(p)));
  else if (p > 1 - 0.02425) x = -tail(Math.sqrt(-2 * Math.log1p(-p)));
  else {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const u = (normalCdf(x) - p) * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

function checkEpsilon(epsilon: number): void {
  if (!(epsilon > 0 && epsilon < 1)) throw new InputError(`epsilon must be in (0, 1), got ${epsilon}`);
}

/**
 * Per-factor ε so that independent factors all reach their quantile with probability 1 − ε:
 * 1 − (1 − ε)^(1/n). E.g. plan speed and rate each at ε/2-ish so that P(miss) ≤ ε for the learner.
 */
export function independentEpsilon(epsilon: number, factors: number): number {
  checkEpsilon(epsilon);
  if (!Number.isInteger(factors) || factors < 1)
    throw new RangeError(`factors must be an integer >= 1, got ${factors}`);
  return -Math.expm1(Math.log1p(-epsilon) / factors);
}

/** ε-quantile of the CPU speed under log-normal jitter: f·exp(σ·z_ε) (closed form). */
export function speedQuantileHz(f_hz: number, spec: Pick<DynamicsSpec, 'speed_jitter'>, epsilon: number): number {
  checkEpsilon(epsilon);
  return spec.speed_jitter > 0 ? f_hz * Math.exp(spec.speed_jitter * normalQuantile(epsilon)) : f_hz;
}

const STEP = 0.1; // quadrature step in every integration variable
const Z_MAX = 8.5; // Gaussian tails beyond ±8.5 hold 2e-17
const W_MIN = -23; // ln E for E ~ Exp(1): P(E < e^-23) = 1e-10
const W_MAX = 3.7; // P(E > e^3.7) = e^-40

interface Node {
  x: number;
  w: number;
}

/** Trapezoid nodes for E[f(Z)], Z ~ N(0,1), weights normalised to 1. */
function gaussNodes(step: number): Node[] {
  const out: Node[] = [];
  const n = Math.ceil(Z_MAX / step);
  for (let i = -n; i <= n; i++) out.push({ x: i * step, w: Math.exp(-((i * step) ** 2) / 2) });
  return normalise(out);
}

function normalise(nodes: Node[]): Node[] {
  const total = nodes.reduce((s, n) => s + n.w, 0);
  return nodes.map((n) => ({ x: n.x, w: n.w / total }));
}

/** How the rate CDF is integrated; exposed for the tests that cross-check the two. */
export type RateCdfMethod = 'auto' | 'condition-on-jitter' | 'condition-on-channel';

/**
 * P(R ≤ q) for a learner whose no-fading rate is `rate_bps`. 'condition-on-jitter' averages the
 * channel's closed-form CDF over the jitter; 'condition-on-channel' averages the jitter's Φ over the
 * channel. 'auto' takes the one whose integrand is the wider (smoother) on the grid.
 */
export function rateCdf(
  q_bps: number,
  rate_bps: number,
  spec: DynamicsSpec,
  params: SystemParams,
  method: RateCdfMethod = 'auto',
): number {
  return rateCdfFunction(rate_bps, spec, params, method)(Math.log(q_bps));
}

/** ln q ↦ P(R ≤ q); all q-independent work is done once here. */
function rateCdfFunction(
  rate_bps: number,
  spec: DynamicsSpec,
  params: SystemParams,
  method: RateCdfMethod,
): (lnq: number) => number {
  const h = gainForRate(rate_bps, params);
  const rayleigh = spec.fading === 'rayleigh';
  const c = (spec.shadowing_db * Math.LN10) / 10; // shadowing σ in nepers of gain
  const sj = spec.speed_jitter;
  const W = params.bandwidth_hz;
  const snr0 = Math.expm1((rate_bps / W) * Math.LN2);
  // Widths in ln-gain units: the channel's spread (sd of ln Exp(1) is π/√6) and the jitter's
  // (σ_j divided by d ln r / d ln h at the profile point).
  const channelSpread = Math.hypot(rayleigh ? Math.PI / Math.sqrt(6) : 0, c);
  const jitterSpread = (sj * (1 + snr0) * Math.log1p(snr0)) / snr0;
  const closedJitter = method === 'condition-on-channel' || (method === 'auto' && jitterSpread >= channelSpread);

  if (sj === 0 || !closedJitter) {
    // F_X(x) = P(fading × shadowing ≤ x), closed form in the fading (or the shadowing alone).
    // Shadowing nodes at step 0.1/c in z, i.e. 0.1 in ln X, the unit of the fading CDF's width.
    const shadows =
      rayleigh && c > 0
        ? gaussNodes(Math.min(STEP, STEP / c)).map((n) => ({ s: Math.exp(c * n.x), w: n.w }))
        : [{ s: 1, w: 1 }];
    const channelCdf = (x: number): number => {
      if (!rayleigh) return c > 0 ? normalCdf(Math.log(x) / c) : x >= 1 ? 1 : 0;
      let sum = 0;
      for (const n of shadows) sum -= n.w * Math.expm1(-x / n.s);
      return sum;
    };
    const xOf = (lnr: number) => gainForRate(Math.exp(lnr), params) / h;
    if (sj === 0) return (lnq) => channelCdf(xOf(lnq));
    const gauss = gaussNodes(STEP);
    return (lnq) => {
      let sum = 0;
      for (const n of gauss) sum += n.w * channelCdf(xOf(lnq - sj * n.x));
      return sum;
    };
  }
  // Closed form in the jitter: P(R ≤ q) = E[Φ((ln q − ln r(h·X))/σ_j)] over the channel. The
  // trapezoid nodes of ln E (step δ) and of the shadowing (step δ/c in z, i.e. δ in ln X) are
  // regrouped by their sum ln X = ln E + c·z on one δ-grid: the same sum, far fewer Φ calls.
  const delta = Math.min(STEP, c > 0 ? STEP * c : STEP, STEP * jitterSpread);
  const fades: number[] = []; // weights of ln E = W_MIN + i·δ
  if (rayleigh)
    for (let i = 0; W_MIN + i * delta <= W_MAX; i++) {
      const w = W_MIN + i * delta;
      fades.push(Math.exp(w - Math.exp(w)));
    }
  else fades.push(1);
  const nz = c > 0 ? Math.ceil((Z_MAX * c) / delta) : 0;
  const shadows = Array.from({ length: 2 * nz + 1 }, (_, j) => Math.exp(-((((j - nz) * delta) / (c || 1)) ** 2) / 2));
  const mass = new Float64Array(fades.length + 2 * nz);
  for (let i = 0; i < fades.length; i++) for (let j = 0; j < shadows.length; j++) mass[i + j] += fades[i] * shadows[j];
  const w0 = rayleigh ? W_MIN : 0; // ln X of mass[nz]
  const total = mass.reduce((a, m) => a + m, 0);
  const lnRates: number[] = [];
  const weights: number[] = [];
  mass.forEach((m, i) => {
    if (m / total < 1e-300) return;
    lnRates.push(Math.log(shannonRateBps(h * Math.exp(w0 + (i - nz) * delta), params)));
    weights.push(m / total);
  });
  return (lnq) => {
    let sum = 0;
    for (let i = 0; i < lnRates.length; i++) sum += weights[i] * normalCdf((lnq - lnRates[i]) / sj);
    return sum;
  };
}

/**
 * The q in (0, ∞) with cdf(ln q) = ε: bracket, then the Illinois variant of regula falsi in ln q
 * (superlinear, never leaves the bracket) until the CDF is within 1e-13 of ε or the bracket is 1e-12 wide.
 */
function invert(cdfOfLn: (lnq: number) => number, epsilon: number, lnGuess: number): number {
  const f = (t: number) => cdfOfLn(t) - epsilon;
  let lo = lnGuess - 1;
  let hi = lnGuess + 1;
  let flo = f(lo);
  let fhi = f(hi);
  for (let step = 1; flo >= 0; step *= 2) (hi = lo), (fhi = flo), (lo -= step), (flo = f(lo));
  for (let step = 1; fhi < 0; step *= 2) (lo = hi), (flo = fhi), (hi += step), (fhi = f(hi));
  let side = 0;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const t = (lo * fhi - hi * flo) / (fhi - flo);
    const ft = f(t);
    if (Math.abs(ft) < 1e-13) return Math.exp(t);
    if (ft < 0) {
      (lo = t), (flo = ft);
      if (side === -1) fhi /= 2; // the same end moved twice: halve the other's weight
      side = -1;
    } else {
      (hi = t), (fhi = ft);
      if (side === 1) flo /= 2;
      side = 1;
    }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * ε-quantile of the true link rate of a learner whose no-fading rate is `rate_bps` (its profile
 * rate, or the rate at the planned distance): P(R < q) = ε under fading, shadowing and jitter.
 */
export function rateQuantileBps(rate_bps: number, spec: DynamicsSpec, params: SystemParams, epsilon: number): number {
  checkEpsilon(epsilon);
  if (!(rate_bps > 0) || !Number.isFinite(rate_bps))
    throw new RangeError(`rate_bps must be finite and > 0, got ${rate_bps}`);
  const rayleigh = spec.fading === 'rayleigh';
  const shadowed = spec.shadowing_db > 0;
  const jittered = spec.speed_jitter > 0;
  // One random factor: closed forms (Shannon is increasing in the gain).
  if (!rayleigh && !shadowed)
    return jittered ? rate_bps * Math.exp(spec.speed_jitter * normalQuantile(epsilon)) : rate_bps;
  const h = gainForRate(rate_bps, params);
  if (!jittered && !shadowed) return shannonRateBps(h * -Math.log1p(-epsilon), params);
  if (!jittered && !rayleigh)
    return shannonRateBps(h * 10 ** ((spec.shadowing_db * normalQuantile(epsilon)) / 10), params);
  return invert(rateCdfFunction(rate_bps, spec, params, 'auto'), epsilon, Math.log(rate_bps));
}

export interface HistoryQuantileOptions {
  window?: number; // use only the most recent `window` measurements (default 20)
  min_samples?: number; // below this, fit a log-normal instead (default ⌈1/ε⌉)
}

/**
 * Lower ε-quantile of a learner's recent measurements (rates or speeds, > 0), oldest first.
 * - n ≥ min_samples (default ⌈1/ε⌉, the fewest for which the ε-quantile is not simply the minimum
 *   of the sample): the empirical quantile, the ⌈ε·n⌉-th smallest value;
 * - 2 ≤ n < min_samples: a log-normal fit, exp(mean ln x + sd ln x · z_ε), but never above the
 *   smallest measurement (few samples understate the spread);
 * - n < 2: undefined: nothing to go on; the caller falls back to the model quantile or the profile.
 */
export function historyQuantile(
  history: readonly number[],
  epsilon: number,
  options: HistoryQuantileOptions = {},
): number | undefined {
  checkEpsilon(epsilon);
  const window = options.window ?? 20;
  const minSamples = options.min_samples ?? Math.ceil(1 / epsilon - 1e-9);
  if (!(window >= 1)) throw new RangeError(`window must be >= 1, got ${window}`);
  if (!Number.isInteger(minSamples) || minSamples < 2)
    throw new RangeError(`min_samples must be an integer >= 2, got ${minSamples}`);
  const recent = history.slice(-window);
  for (const v of recent)
    if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`history values must be finite and > 0, got ${v}`);
  const n = recent.length;
  if (n < 2) return undefined;
  const sorted = [...recent].sort((x, y) => x - y);
  if (n >= minSamples) return sorted[Math.max(1, Math.ceil(epsilon * n - 1e-9)) - 1];
  const logs = recent.map(Math.log);
  const mean = logs.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(logs.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return Math.min(sorted[0], Math.exp(mean + sd * normalQuantile(epsilon)));
}
