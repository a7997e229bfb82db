/** Human-readable rendering of an AllocationReport: one table per scheme, then τ per scheme. */
import { phaseTimes } from '../model/coefficients.ts';
import type { SystemParams } from '../model/params.ts';
import type { AllocationReport } from './report.ts';
import type { SchemeName } from './types.ts';

const HEADER = [
  'learner',
  'f (GHz)',
  'dist (m)',
  'rate (Mbit/s)',
  'd_k',
  'τ_k',
  't_S (s)',
  'τ·t_C (s)',
  't_R (s)',
  't_k (s)',
  'slack (s)',
  'E_k (J)',
];

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padStart(widths[c])).join('  ')).join('\n');
}

const fixed = (x: number, digits: number) => x.toFixed(digits);

export function formatAllocationReport(report: AllocationReport, params: SystemParams): string {
  const out: string[] = [`K=${report.K} learners, T=${report.T} s, d=${report.d} samples, scenario=${report.scenario}`];
  const summary: string[] = [];
  for (const [scheme, a] of Object.entries(report.allocations) as [
    SchemeName,
    NonNullable<AllocationReport['allocations'][SchemeName]>,
  ][]) {
    out.push('', `== ${scheme} ==`);
    if (!a.feasible) {
      out.push(`infeasible: ${a.reason}`);
      summary.push(`${scheme}: infeasible`);
      continue;
    }
    const rows = [HEADER];
    report.learners.forEach((l, k) => {
      const ph = phaseTimes(
        { id: l.id, f_hz: l.f_hz, rate_bps: l.rate_bps },
        params,
        report.scenario,
        a.tau_per_learner[k],
        a.batch[k],
      );
      rows.push([
        String(l.id),
        fixed(l.f_hz / 1e9, 2),
        l.distance_m === null ? '-' : fixed(l.distance_m, 1),
        fixed(l.rate_bps / 1e6, 1),
        String(a.batch[k]),
        String(a.tau_per_learner[k]),
        fixed(ph.t_send_s, 3),
        fixed(ph.t_compute_s, 3),
        fixed(ph.t_return_s, 3),
        fixed(a.time_s[k], 3),
        fixed(report.T - a.time_s[k], 3),
        fixed(report.energy_j[scheme]?.[k] ?? 0, 3),
      ]);
    });
    out.push(table(rows));
    const share = report.communication_share[scheme];
    const relaxed = a.tau_relaxed !== undefined ? ` (relaxed τ* = ${a.tau_relaxed.toFixed(3)})` : '';
    const spread = a.staleness > 0 ? ` (min τ_k; max ${a.tau + a.staleness}, staleness ${a.staleness})` : '';
    out.push(`τ = ${a.tau}${spread}${relaxed}`);
    const energy = report.energy_j[scheme];
    if (energy)
      out.push(
        `energy: ${energy.reduce((x, y) => x + y, 0).toFixed(2)} J per cycle over all learners, ${Math.max(...energy).toFixed(2)} J at most per learner`,
      );
    if (share)
      out.push(
        `communication: ${(share.mean * 100).toFixed(2)} % of T on average, ${(share.max * 100).toFixed(2)} % at most`,
      );
    summary.push(`${scheme}: τ=${a.tau}${a.staleness > 0 ? `..${a.tau + a.staleness}` : ''}`);
  }
  out.push('', `τ per scheme — ${summary.join(', ')}`);
  return out.join('\n');
}
