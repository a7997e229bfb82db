import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fig1Csv, FIG1_CSV_HEADER, runFig1, FIG1_DEFAULTS } from '../../experiments/fig1.ts';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('Fig. 1 sweep', () => {
  const small = { seeds: 4, ks: [5, 10, 20], tForK: [30], ts: [10, 30, 60], kForT: [10] };

  it('has the paper defaults', () => {
    expect(FIG1_DEFAULTS.ks).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    expect(FIG1_DEFAULTS.ts).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);
    expect(FIG1_DEFAULTS.tForK).toEqual([30, 60]);
    expect(FIG1_DEFAULTS.kForT).toEqual([10, 20]);
    expect(FIG1_DEFAULTS.seeds).toBe(20);
  });

  it('aggregates one row per scheme and point, consistent with the solvers', () => {
    const { tauVsK, tauVsT } = runFig1(small);
    expect(tauVsK).toHaveLength(3 * 3);
    expect(tauVsT).toHaveLength(3 * 3);
    for (const r of [...tauVsK, ...tauVsT]) {
      expect(r.seeds).toBe(4);
      expect(r.tau_min).toBeLessThanOrEqual(r.tau_mean);
      expect(r.tau_mean).toBeLessThanOrEqual(r.tau_max);
      expect(r.feasible_fraction).toBeGreaterThanOrEqual(0);
      expect(r.feasible_fraction).toBeLessThanOrEqual(1);
    }
    const at = (rows: typeof tauVsK, scheme: string, K: number, T: number) =>
      rows.find((r) => r.scheme === scheme && r.K === K && r.T === T)!;
    // Same fleets across T: the optimum's mean τ cannot fall as T grows; it beats ETA.
    expect(at(tauVsT, 'optimal', 10, 30).tau_mean).toBeGreaterThanOrEqual(at(tauVsT, 'optimal', 10, 10).tau_mean);
    expect(at(tauVsT, 'optimal', 10, 60).tau_mean).toBeGreaterThanOrEqual(at(tauVsT, 'optimal', 10, 30).tau_mean);
    expect(at(tauVsK, 'optimal', 20, 30).tau_mean).toBeGreaterThan(at(tauVsK, 'eta', 20, 30).tau_mean);
    // The τ-vs-K point (K=10, T=30) and the τ-vs-T point (K=10, T=30) are the same fleets.
    expect(at(tauVsK, 'analytical', 10, 30)).toEqual(at(tauVsT, 'analytical', 10, 30));
  });

  it('counts infeasible instances as τ = 0', () => {
    const { tauVsT } = runFig1({ seeds: 3, ks: [], tForK: [], ts: [0.05], kForT: [5] });
    for (const r of tauVsT)
      expect(r).toMatchObject({ tau_mean: 0, tau_min: 0, tau_max: 0, feasible_fraction: 0, seeds: 3 });
  });

  it('writes both CSVs with the exact header', async () => {
    expect(FIG1_CSV_HEADER).toBe('scheme,K,T,tau_mean,tau_min,tau_max,feasible_fraction,seeds');
    expect(
      fig1Csv([
        { scheme: 'eta', K: 5, T: 30, tau_mean: 1.23456, tau_min: 1, tau_max: 2, feasible_fraction: 0.5, seeds: 2 },
      ]),
    ).toBe('scheme,K,T,tau_mean,tau_min,tau_max,feasible_fraction,seeds\neta,5,30,1.2346,1,2,0.5,2\n');
    const out = tmpDir('fig1');
    try {
      const code = await new Promise<number>((resolve) =>
        execFile(
          join(ROOT, 'node_modules', '.bin', 'tsx'),
          ['experiments/fig1.ts', '--seeds', '2', '--ks', '5,10', '--ts', '20,40', '--out', out],
          { cwd: ROOT },
          (err) => resolve(err ? ((err as { code?: number }).code ?? 1) : 0),
        ),
      );
      expect(code).toBe(0);
      for (const name of ['tau_vs_K.csv', 'tau_vs_T.csv']) {
        const lines = readFileSync(join(out, name), 'utf8').trim().split('\n');
        expect(lines[0]).toBe(FIG1_CSV_HEADER);
        expect(lines).toHaveLength(1 + 3 * 2 * 2); // schemes × x values × curves
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
