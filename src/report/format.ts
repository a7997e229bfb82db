/**
 * Number formatting for humans: rounded, grouped, with units. Deterministic (no locale
 * lookup), so the same run folder always gives the same report bytes.
 */

/** 60000 → "60,000"; keeps a fractional part as given. */
export function groupThousands(n: number): string {
  const [int, frac] = String(n).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** `digits` significant digits, trailing zeros dropped, thousands grouped: 223.3625 → "223.4". */
export function roundNumber(n: number, digits = 4): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return groupThousands(n);
  const r = Number(n.toPrecision(digits));
  // toPrecision switches to exponent notation below 1e-6 and above 1e21; keep that as is.
  return /e/.test(String(r)) ? String(r) : groupThousands(r);
}

/** CPU speed in GHz, the paper's unit: 2.4e9 → "2.4", 7e8 → "0.7". */
export function ghz(hz: number): string {
  return roundNumber(hz / 1e9, 3);
}

/** A frequency with the unit that keeps it short: 5e6 → "5 MHz", 2.4e9 → "2.4 GHz". */
export function formatHz(hz: number): string {
  const [scale, unit] = hz >= 1e9 ? [1e9, 'GHz'] : hz >= 1e6 ? [1e6, 'MHz'] : hz >= 1e3 ? [1e3, 'kHz'] : [1, 'Hz'];
  return `${roundNumber(hz / scale)} ${unit}`;
}

/** Link rate in Mbit/s: 198584121.5 → "198.6". */
export function mbps(bps: number): string {
  return roundNumber(bps / 1e6);
}

export function percent(fraction: number, decimals = 2): string {
  return `${(fraction * 100).toFixed(decimals)} %`;
}
