/**
 * A 3-seed campaign on small data through the real runner (learner processes, WebSocket): stopped
 * (AbortSignal) while its second seed runs, then resumed — the finished seed is skipped and its
 * files are untouched — and its aggregate.csv recomputed by hand from the per-seed cycles.csv files.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCampaign, seedFolder, type CampaignResult } from '../../src/campaign/campaign.ts';
import { InputError } from '../../src/errors.ts';
import { ACCURACY_TARGETS } from '../../src/run-folder/schema.ts';
import { readCsvObjects } from '../helpers/run-files.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { tmpDir } from '../helpers/tmp.ts';

const T975_DF2 = 4.302652729749464; // t_{0.975, 2}: three seeds
const base = smallConfig({ train_samples: 1000, test_samples: 300, cycles: 2 });
const SEEDS = [1, 2, 3];
const out = tmpDir('campaign');
const cyclesCsv = (seed: number) => join(seedFolder(out, seed), 'cycles.csv');
const dataRows = (seed: number) => (existsSync(cyclesCsv(seed)) ? readCsvObjects(cyclesCsv(seed)) : []);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('campaign through the real runner', () => {
  let seed1Bytes: Buffer;
  let seed1Mtime: number;

  it('stopped while seed 2 runs: seed 1 is complete, seed 2 keeps its finished cycle, seed 3 never started', async () => {
    const abort = new AbortController();
    const lines: string[] = [];
    const result = await runCampaign(base, {
      out,
      seeds: SEEDS,
      report: false,
      signal: abort.signal,
      log: (line) => lines.push(line),
      onEvent: (e, label) => {
        lines.push(`[${label}] ${e.type}`);
        // The first cycle of seed 2 is on disk: stop the campaign (what Ctrl-C does).
        if (label === 'seed 2' && e.type === 'cycle-done') abort.abort();
      },
    });
    expect(result.interrupted).toBe(true);
    expect(result.ran).toEqual([1, 2]);
    expect(result.summary).toBeNull();
    expect(dataRows(1)).toHaveLength(4); // 2 schemes × 2 cycles
    expect(dataRows(2).length).toBeGreaterThanOrEqual(1);
    expect(dataRows(2).length).toBeLessThan(4);
    expect(existsSync(seedFolder(out, 3))).toBe(false);
    expect(existsSync(join(out, 'aggregate.csv'))).toBe(false);
    seed1Bytes = readFileSync(cyclesCsv(1));
    seed1Mtime = statSync(cyclesCsv(1)).mtimeMs;
  });

  let resumed: CampaignResult;
  let resumeLog: string[];

  it('the same campaign again skips seed 1 (byte-identical, not rerun), resumes seed 2 and runs seed 3', async () => {
    resumeLog = [];
    resumed = await runCampaign(base, {
      out,
      seeds: SEEDS,
      report: true,
      log: (l) => resumeLog.push(l),
      onEvent: (e, label) => resumeLog.push(`[${label}] ${e.type}`),
    });
    expect(resumed.interrupted).toBe(false);
    expect(resumed.skipped).toEqual([1]);
    expect(resumed.resumed).toEqual([2]);
    expect(resumed.ran).toEqual([3]);
    expect(readFileSync(cyclesCsv(1)).equals(seed1Bytes)).toBe(true);
    expect(statSync(cyclesCsv(1)).mtimeMs).toBe(seed1Mtime);
    expect(resumeLog.some((l) => l.startsWith('[seed 1]'))).toBe(false); // no run of seed 1 at all
    expect(resumeLog.some((l) => l.startsWith('[seed 2]') && /resuming/.test(l))).toBe(true);
    for (const seed of SEEDS)
      expect(dataRows(seed).map((r) => `${r.scheme}:${r.cycle}`)).toEqual(['optimal:1', 'optimal:2', 'eta:1', 'eta:2']);
  });

  it('aggregate.csv rows equal the mean, sd and Student-t CI recomputed from the per-seed cycles.csv files', () => {
    const agg = readCsvObjects(join(out, 'aggregate.csv'));
    expect(agg.map((r) => `${r.scheme}:${r.cycle}`)).toEqual(['optimal:1', 'optimal:2', 'eta:1', 'eta:2']);
    const perSeed = SEEDS.map(dataRows);
    for (const a of agg) {
      const rows = perSeed.map((rs) => rs.find((r) => r.scheme === a.scheme && r.cycle === a.cycle)!);
      const acc = rows.map((r) => Number(r.test_accuracy));
      const mean = acc.reduce((s, x) => s + x, 0) / 3;
      const sd = Math.sqrt(acc.reduce((s, x) => s + (x - mean) ** 2, 0) / 2);
      const half = T975_DF2 * (sd / Math.sqrt(3));
      expect(Number(a.n)).toBe(3);
      expect(Number(a.accuracy_mean)).toBeCloseTo(mean, 14);
      expect(Number(a.accuracy_sd)).toBeCloseTo(sd, 14);
      expect(Number(a.accuracy_ci95_low)).toBeCloseTo(mean - half, 12);
      expect(Number(a.accuracy_ci95_high)).toBeCloseTo(mean + half, 12);
      expect(Number(a.loss_mean)).toBeCloseTo(rows.reduce((s, r) => s + Number(r.test_loss), 0) / 3, 12);
      expect(Number(a.emulated_time_mean_s)).toBeCloseTo(
        rows.reduce((s, r) => s + Number(r.emulated_time_s), 0) / 3,
        12,
      );
    }
  });

  it('summary.json, the charts and a self-contained report.html are in the campaign folder', () => {
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.seeds).toEqual(SEEDS);
    expect(summary.targets).toEqual([...ACCURACY_TARGETS]);
    const finals = SEEDS.map((s) =>
      Number(dataRows(s).find((r) => r.scheme === 'optimal' && r.cycle === '2')!.test_accuracy),
    );
    expect(summary.per_scheme.optimal.final_accuracy.per_seed).toEqual(finals);
    expect(summary.paired[0]).toMatchObject({ adaptive: 'optimal', baseline: 'eta' });
    expect(summary.paired[0].final_accuracy.n).toBe(3);
    for (const f of ['accuracy_ci.svg', 'accuracy_ci.png', 'cycles_to_target.svg', 'cycles_to_target.png'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).not.toMatch(/<script|<link/);
  });

  it('a rerun of the finished campaign runs nothing; other settings in the same folder are refused', async () => {
    const lines: string[] = [];
    const again = await runCampaign(base, { out, seeds: SEEDS, report: false, log: (l) => lines.push(l) });
    expect(again).toMatchObject({ ran: [], resumed: [], skipped: SEEDS, interrupted: false });
    expect(lines[0]).toBe(`all ${SEEDS.length} seeds are complete in ${out}: nothing to run`); // no estimate for work that will not run
    expect(readFileSync(cyclesCsv(1)).equals(seed1Bytes)).toBe(true);
    await expect(runCampaign({ ...base, T: 20 }, { out, seeds: SEEDS, log: () => {} })).rejects.toThrow(InputError);
    await expect(runCampaign({ ...base, T: 20 }, { out, seeds: SEEDS, log: () => {} })).rejects.toThrow(
      /other settings \(T is 12 there, 20 here\)/,
    );
  });
});
