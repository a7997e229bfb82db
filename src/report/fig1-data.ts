/** Read the τ-vs-K and τ-vs-T tables written by the Fig. 1 experiment (experiments/fig1.ts). */
import { FieldReader, parseCsv } from './csv.ts';

export const FIG1_HEADER = ['scheme', 'K', 'T', 'tau_mean', 'tau_min', 'tau_max', 'feasible_fraction', 'seeds'] as const;

export interface Fig1Row {
  scheme: string;
  K: number;
  T: number; // s
  /** null when no seed was feasible at this point (nothing to plot). */
  tauMean: number | null;
  tauMin: number | null;
  tauMax: number | null;
  feasibleFraction: number;
  seeds: number;
}

export function parseFig1(text: string, file: string): Fig1Row[] {
  return parseCsv(text, file, FIG1_HEADER).map((rec) => {
    const r = new FieldReader(file, rec);
    const feasibleFraction = r.number('feasible_fraction', 0, 1);
    // An all-infeasible point has no τ to average; anything else must have one.
    const tau = (c: string) => (feasibleFraction === 0 ? r.optionalNumber(c, 0) : r.number(c, 0));
    return {
      scheme: r.text('scheme'),
      K: r.integer('K', 1),
      T: r.number('T', 0),
      tauMean: tau('tau_mean'),
      tauMin: tau('tau_min'),
      tauMax: tau('tau_max'),
      feasibleFraction,
      seeds: r.integer('seeds', 1),
    };
  });
}
