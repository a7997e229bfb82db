/** How schemes are named, ordered and coloured in every chart and table (same colour everywhere). */

const KNOWN: Record<string, { label: string; color: string }> = {
  optimal: { label: 'adaptive (optimal)', color: '#1f77b4' },
  analytical: { label: 'adaptive (analytical)', color: '#2ca02c' },
  eta: { label: 'ETA', color: '#d62728' },
  async: { label: 'async (per-learner τ_k)', color: '#9467bd' },
  energy: { label: 'energy-constrained', color: '#ff7f0e' },
  robust: { label: 'robust', color: '#8c564b' },
};
// For scheme names we do not know yet (colour-blind-safe-ish, distinct from the above).
const EXTRA_COLORS = ['#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export function schemeLabel(scheme: string): string {
  return KNOWN[scheme]?.label ?? scheme;
}

/**
 * Schemes in the order they first appear: the run's files list them in its --schemes order, and
 * tables, legends and charts follow the order the user asked for.
 */
export function orderSchemes(schemes: Iterable<string>): string[] {
  return [...new Set(schemes)];
}

/** A vega-lite colour scale mapping display labels to fixed colours. */
export function schemeColorScale(schemes: string[]): { domain: string[]; range: string[] } {
  let extra = 0;
  const ordered = orderSchemes(schemes);
  return {
    domain: ordered.map(schemeLabel),
    range: ordered.map((s) => KNOWN[s]?.color ?? EXTRA_COLORS[extra++ % EXTRA_COLORS.length]),
  };
}
