/** A 2-cell sweep through the real runner; the rerun skips both finished cells and touches none of their runs. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seedFolder } from '../../src/campaign/campaign.ts';
import { cellFolder, runSweep, sweepHeader } from '../../src/campaign/sweep.ts';
import { ACCURACY_TARGETS } from '../../src/run-folder/schema.ts';
import { readCsvObjects } from '../helpers/run-files.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { tmpDir } from '../helpers/tmp.ts';

const base = smallConfig({ train_samples: 1000, test_samples: 300, cycles: 2 });
const out = tmpDir('sweep');
const cycles = (T: number) => join(seedFolder(cellFolder(out, 3, T), 1), 'cycles.csv');

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('sweep', () => {
  it('runs every cell, writes one sweep.csv row per cell × scheme, and a rerun skips the finished cells', async () => {
    const first = await runSweep(base, { out, Ks: [3], Ts: [12, 20], seeds: [1], report: false, log: () => {} });
    expect(first.interrupted).toBe(false);
    expect(first.cells.map((c) => `${c.K}/${c.T}:${c.status}`)).toEqual(['3/12:ran', '3/20:ran']);
    const before = [12, 20].map((T) => readFileSync(cycles(T)));

    const lines: string[] = [];
    const again = await runSweep(base, {
      out,
      Ks: [3],
      Ts: [12, 20],
      seeds: [1],
      report: true,
      log: (l) => lines.push(l),
    });
    expect(again.cells.map((c) => c.status)).toEqual(['skipped', 'skipped']);
    expect(lines.filter((l) => /finished in .*, skipped/.test(l))).toHaveLength(2);
    expect(lines.some((l) => l.startsWith('['))).toBe(false); // no run's own log line: nothing ran
    [12, 20].forEach((T, i) => expect(readFileSync(cycles(T)).equals(before[i])).toBe(true));

    const rows = readCsvObjects(join(out, 'sweep.csv'));
    expect(Object.keys(rows[0])).toEqual(sweepHeader(ACCURACY_TARGETS));
    expect(rows.map((r) => `${r.K}/${r.T}/${r.scheme}`)).toEqual([
      '3/12/optimal',
      '3/12/eta',
      '3/20/optimal',
      '3/20/eta',
    ]);
    for (const r of rows) {
      // One seed: the mean is that seed's value and there is no interval.
      const run = readCsvObjects(cycles(Number(r.T))).filter((c) => c.scheme === r.scheme);
      expect(Number(r.final_accuracy_mean)).toBe(Number(run.find((c) => c.cycle === '2')!.test_accuracy));
      expect(Number(r.tau_mean)).toBe(Number(run[0].tau));
      expect(r.final_accuracy_ci95_low).toBe('');
      expect(Number(r.cycles_to_97_reached) + Number(r.cycles_to_97_never)).toBe(1);
    }
    // τ grows with T for both schemes (more time per cycle)
    const tau = (T: string, s: string) => Number(rows.find((r) => r.T === T && r.scheme === s)!.tau_mean);
    expect(tau('20', 'optimal')).toBeGreaterThan(tau('12', 'optimal'));
    for (const axis of ['T', 'K'])
      for (const m of ['tau', 'accuracy', 'cycles'])
        expect(existsSync(join(out, `sweep_${m}_vs_${axis}.png`)), `${m} vs ${axis}`).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('K3-T12/report.html');
    expect(existsSync(join(cellFolder(out, 3, 12), 'report.html'))).toBe(true); // rendered on the rerun, nothing retrained
  });
});
