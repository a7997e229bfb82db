/**
 * Special functions and the distributions the seed statistics need: log-gamma, log-beta, the
 * regularized incomplete beta, Student t (CDF, two-sided p, quantile) and the binomial.
 * Pure, standard library only. Measured against 50-digit mpmath: the t tail probability is good to
 * ~1e-14 relative for df ≤ 1000, degrading to ~2e-11 at df = 1e6 (the continued fraction is
 * ill-conditioned for huge a near its switch point) — far below what a handful of seeds can resolve.
 */

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * lnΓ(x) − Stirling's approximation, by its asymptotic series; valid (error < 1e-16) for x ≥ 10.
 * Keeping it separate lets lnBeta cancel the huge (x − ½)ln x − x terms analytically.
 */
function stirlingCorrection(x: number): number {
  const x2 = 1 / (x * x);
  return (
    (1 / x) *
    (1 / 12 +
      x2 * (-1 / 360 + x2 * (1 / 1260 + x2 * (-1 / 1680 + x2 * (1 / 1188 + x2 * (-691 / 360360 + x2 * (1 / 156)))))))
  );
}

/** ln Γ(x) for x > 0. Below 10 we shift up with Γ(x) = Γ(x + n)/(x(x+1)…(x+n−1)) so one series serves all x. */
export function logGamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`logGamma needs a finite x > 0, got ${x}`);
  let shift = 0;
  let prod = 1;
  while (x < 10) {
    prod *= x;
    x += 1;
    shift++;
  }
  const lg = (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + stirlingCorrection(x);
  return shift ? lg - Math.log(prod) : lg;
}

/**
 * ln B(a, b) = lnΓ(a) + lnΓ(b) − lnΓ(a + b), arranged (as in R's lbeta) so that for large
 * arguments the O(a ln a) terms cancel before rounding: with df = 1e6 the naive form loses ~1e-9.
 */
export function logBeta(a: number, b: number): number {
  if (!(a > 0) || !(b > 0) || !Number.isFinite(a) || !Number.isFinite(b))
    throw new RangeError(`logBeta needs finite a, b > 0, got ${a}, ${b}`);
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  const s = p + q;
  if (p >= 10) {
    const corr = stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(s);
    return -0.5 * Math.log(q) + LN_SQRT_2PI + corr + (p - 0.5) * Math.log(p / s) + q * Math.log1p(-p / s);
  }
  if (q >= 10) {
    const corr = stirlingCorrection(q) - stirlingCorrection(s);
    return logGamma(p) + corr + p - p * Math.log(s) + (q - 0.5) * Math.log1p(-p / s);
  }
  return logGamma(p) + logGamma(q) - logGamma(s);
}

/** Continued fraction for I_x(a, b) (Numerical Recipes betacf, modified Lentz); converges fast for x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const FPMIN = 1e-300;
  const EPS = 1e-15;
  // Iterations grow like √max(a, b) near the switch point; this cap is far above that.
  const maxIter = 1000 + Math.ceil(20 * Math.sqrt(Math.max(a, b)));
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= maxIter; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPS) return h;
  }
  throw new Error(`incomplete beta continued fraction did not converge (x=${x}, a=${a}, b=${b})`);
}

/**
 * I_x(a, b) given x, y = 1 − x and their logs. Callers that know y or the logs more accurately than
 * 1 − x (the t distribution with t² ≪ df, or t so large that x underflows) pass them directly.
 */
function incompleteBetaPair(x: number, y: number, lnX: number, lnY: number, a: number, b: number): number {
  if (lnX === -Infinity) return 0;
  if (lnY === -Infinity) return 1;
  // x^a y^b / B(a,b) in logs, so a, b in the hundreds of thousands neither overflow nor underflow early.
  const front = Math.exp(a * lnX + b * lnY - logBeta(a, b));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(y, b, a)) / b;
}

/** Regularized incomplete beta I_x(a, b) = B(x; a, b)/B(a, b), for x ∈ [0, 1], a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incomplete beta needs x in [0, 1], got ${x}`);
  if (!(a > 0) || !(b > 0) || !Number.isFinite(a) || !Number.isFinite(b))
    throw new RangeError(`incomplete beta needs finite a, b > 0, got ${a}, ${b}`);
  return incompleteBetaPair(x, 1 - x, Math.log(x), Math.log1p(-x), a, b);
}

function checkDf(df: number): void {
  if (!(df > 0) || !Number.isFinite(df)) throw new RangeError(`Student t needs finite df > 0, got ${df}`);
}

/**
 * x = df/(df + t²) and y = t²/(df + t²) with their logs, via ln r = ln(df/t²): neither t² overflowing
 * (t = 1e300 for df = 1 and p = 1e-300) nor 1 − x cancelling (t² ≪ df) costs precision.
 */
function tBetaArgs(t: number, df: number): { x: number; y: number; lnX: number; lnY: number } {
  const lnR = Math.log(df) - 2 * Math.log(Math.abs(t));
  let lnX: number;
  let lnY: number;
  if (lnR > 0) {
    const l = Math.log1p(Math.exp(-lnR));
    lnX = -l;
    lnY = -lnR - l;
  } else {
    const l = Math.log1p(Math.exp(lnR));
    lnX = lnR - l;
    lnY = -l;
  }
  return { x: Math.exp(lnX), y: Math.exp(lnY), lnX, lnY };
}

/** P(T > |t|) for T ~ t(df): ½ I_x(df/2, ½). Accurate in the far tail, where 1 − CDF would round to 0. */
function tUpperTail(t: number, df: number): number {
  if (t === 0) return 0.5;
  if (Math.abs(t) === Infinity) return 0;
  const { x, y, lnX, lnY } = tBetaArgs(t, df);
  return 0.5 * incompleteBetaPair(x, y, lnX, lnY, df / 2, 0.5);
}

/** P(0 < T < |t|) = ½ I_y(½, df/2). Accurate near t = 0, where ½ − tail would cancel. */
function tCentral(t: number, df: number): number {
  if (t === 0) return 0;
  if (Math.abs(t) === Infinity) return 0.5;
  const { x, y, lnX, lnY } = tBetaArgs(t, df);
  return 0.5 * incompleteBetaPair(y, x, lnY, lnX, 0.5, df / 2);
}

/** Student t CDF P(T ≤ t), df > 0 (not necessarily an integer). */
export function studentTCdf(t: number, df: number): number {
  checkDf(df);
  if (Number.isNaN(t)) throw new RangeError('studentTCdf: t is NaN');
  const tail = tUpperTail(t, df);
  return t > 0 ? 1 - tail : tail;
}

/** Two-sided p-value P(|T| ≥ |t|) = I_{df/(df+t²)}(df/2, ½), clamped to [0, 1]. */
export function studentTTwoSidedP(t: number, df: number): number {
  checkDf(df);
  if (Number.isNaN(t)) throw new RangeError('studentTTwoSidedP: t is NaN');
  return Math.min(1, Math.max(0, 2 * tUpperTail(t, df)));
}

/** Student t density; used as the Newton derivative of the quantile. */
export function studentTPdf(t: number, df: number): number {
  checkDf(df);
  return Math.exp(-logBeta(df / 2, 0.5) - 0.5 * Math.log(df) - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * The t > 0 with mass(t) = target, where mass is the upper tail (decreasing, sign −1) or the central
 * mass P(0 < T < t) (increasing, sign +1). Newton in u = ln t on ln mass(e^u), safeguarded by
 * bisection: in these coordinates the Cauchy tail (df = 1) is a straight line and the normal-like tail
 * is convex, so Newton converges in a few steps for targets from 0.49 down to 1e-300.
 */
function solveTMass(mass: (t: number, df: number) => number, sign: 1 | -1, target: number, df: number): number {
  const lnTarget = Math.log(target);
  const g = (u: number): number => sign * (Math.log(mass(Math.exp(u), df)) - lnTarget); // increasing in u
  // Bracket [lo, hi] with g(lo) < 0 < g(hi), growing the step so t = 1e300 takes ~10 steps.
  let lo = 0;
  let hi = 0;
  let step = 1;
  const LN_MAX = Math.log(Number.MAX_VALUE);
  const LN_MIN = Math.log(Number.MIN_VALUE);
  if (g(0) < 0) {
    hi = step;
    while (g(hi) < 0) {
      // df ≪ 1 can put the quantile beyond the largest double: say so rather than return a bracket end.
      if (hi >= LN_MAX) return Infinity;
      lo = hi;
      step *= 2;
      hi = Math.min(hi + step, LN_MAX);
    }
  } else {
    lo = -step;
    while (g(lo) > 0) {
      if (lo <= LN_MIN) return 0; // below the smallest double
      hi = lo;
      step *= 2;
      lo = Math.max(lo - step, LN_MIN);
    }
  }
  return solveBracketed(g, mass, df, lo, hi);
}

/** Safeguarded Newton on g(u) = ±(ln mass(e^u) − ln target), increasing, in [lo, hi] with g(lo) < 0 < g(hi); returns t = e^u. */
function solveBracketed(
  g: (u: number) => number,
  mass: (t: number, df: number) => number,
  df: number,
  lo: number,
  hi: number,
): number {
  let u = (lo + hi) / 2;
  for (let iter = 0; iter < 200; iter++) {
    const gu = g(u);
    if (gu === 0) break;
    if (gu < 0) lo = u;
    else hi = u;
    const t = Math.exp(u);
    // g'(u) = f(t)·t / mass(t) for either mass (the sign in g makes both increasing)
    const slope = (studentTPdf(t, df) * t) / mass(t, df);
    const newton = u - gu / slope;
    const next = Number.isFinite(newton) && newton > lo && newton < hi ? newton : (lo + hi) / 2;
    const tol = 1e-15 * Math.max(1, Math.abs(u));
    const done = Math.abs(next - u) <= tol || hi - lo <= tol;
    u = next;
    if (done) break;
  }
  return Math.exp(u);
}

/** Student t quantile (inverse CDF): the t with P(T ≤ t) = p, p ∈ (0, 1), df > 0. */
export function studentTQuantile(p: number, df: number): number {
  checkDf(df);
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile needs p in (0, 1), got ${p}`);
  if (p === 0.5) return 0;
  // Near the median solve on the central mass |p − ½| (exact in floating point for p ∈ [¼, 1]);
  // in the tails on min(p, 1 − p), so p = 1e-300 keeps its precision.
  const s = p < 0.5 ? -1 : 1;
  if (p >= 0.25 && p <= 0.75) return s * solveTMass(tCentral, 1, Math.abs(p - 0.5), df);
  return s * solveTMass(tUpperTail, -1, p < 0.5 ? p : 1 - p, df);
}

/** Two-sided critical value t* with P(|T| ≤ t*) = level, e.g. level 0.95, df 4 → 2.776. */
export function studentTCritical(level: number, df: number): number {
  checkDf(df);
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
  // (1 − level)/2 directly, not (1 + level)/2 then 1 − p: keeps precision for level → 1.
  return level <= 0.5 ? solveTMass(tCentral, 1, level / 2, df) : solveTMass(tUpperTail, -1, (1 - level) / 2, df);
}

function checkBinomial(n: number, p: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomial n must be a non-negative integer, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial p must be in [0, 1], got ${p}`);
}

/** ln C(n, k) for integers 0 ≤ k ≤ n. */
export function logChoose(n: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 0 || k > n)
    throw new RangeError(`logChoose needs integers 0 ≤ k ≤ n, got n=${n}, k=${k}`);
  if (k === 0 || k === n) return 0;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** ln P(X = k), X ~ Bin(n, p); −Infinity outside the support. */
function binomialLogPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return -Infinity;
  // p = 0 or 1: 0·ln 0 must count as 0, not NaN.
  const a = k === 0 ? 0 : k * Math.log(p);
  const b = n - k === 0 ? 0 : (n - k) * Math.log1p(-p);
  return logChoose(n, k) + a + b;
}

/** P(X = k), X ~ Bin(n, p), computed in log space (n up to many thousands). Non-integer k → 0. */
export function binomialPmf(k: number, n: number, p: number): number {
  checkBinomial(n, p);
  if (!Number.isInteger(k)) return 0;
  return Math.exp(binomialLogPmf(k, n, p));
}

/** P(X ≤ k), X ~ Bin(n, p): log-sum-exp over the pmf, so 2^−n terms with n in the thousands do not underflow early. */
export function binomialCdf(k: number, n: number, p: number): number {
  checkBinomial(n, p);
  if (Number.isNaN(k)) throw new RangeError('binomialCdf: k is NaN');
  const kk = Math.floor(k);
  if (kk < 0) return 0;
  if (kk >= n) return 1;
  const logs: number[] = [];
  let max = -Infinity;
  for (let i = 0; i <= kk; i++) {
    const l = binomialLogPmf(i, n, p);
    logs.push(l);
    if (l > max) max = l;
  }
  if (max === -Infinity) return 0;
  let sum = 0;
  for (const l of logs) sum += Math.exp(l - max);
  return Math.min(1, Math.exp(max + Math.log(sum)));
}
