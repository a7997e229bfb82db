/**
 * `npm run report` on every kind of folder: a run in progress, a campaign (over its complete
 * seeds), a sweep, several runs overlaid; one line for a folder it cannot draw. And the headline.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderKind, renderCampaignFolder, renderSweepFolder } from '../../src/campaign/folder-report.ts';
import { seedCyclesCsv } from '../../src/campaign/campaign.ts';
import { headline } from '../../src/report/headline.ts';
import { overlayCsv, renderOverlay, runNames } from '../../src/report/overlay.ts';
import { loadRunFolder } from '../../src/report/run-folder.ts';
import { parseCycles } from '../../src/run-folder/read.ts';
import type { CycleRow } from '../../src/run-folder/schema.ts';
import { removeTempDirs, writeFixtureRun } from './fixture.ts';
import { tmpDir } from '../helpers/tmp.ts';

const RESULTS = join(import.meta.dirname, '../../results');
const tmp = tmpDir('folders');
afterAll(() => {
  removeTempDirs();
  rmSync(tmp, { recursive: true, force: true });
});

const row = (scheme: string, cycle: number, testAccuracy: number): CycleRow =>
  ({
    scheme,
    cycle,
    tau: 1,
    testAccuracy,
    testLoss: 0.1,
    emulatedTimeS: 12 * cycle,
    maxLearnerTimeS: 11,
    lateLearners: 0,
    wallTimeS: 1,
  }) as CycleRow;

describe('headline', () => {
  it('names the highest target any scheme reached, and who did not reach it', () => {
    // The run's order (--schemes optimal,eta); whoever reached the target leads, fastest first.
    const rows = [
      row('optimal', 1, 0.95),
      row('optimal', 2, 0.971),
      row('optimal', 3, 0.975),
      row('eta', 1, 0.9),
      row('eta', 2, 0.968),
    ];
    expect(headline(rows, [0.9667, 0.97])).toBe(
      'adaptive (optimal) reached 97 % in 2 cycles; ETA did not in 2 cycles.',
    );
    expect(headline(rows, [0.9667])).toBe(
      'adaptive (optimal) reached 96.67 % in 2 cycles; ETA reached it in 2 cycles.',
    );
    expect(headline([...rows.slice(3), ...rows.slice(0, 3)], [0.9667, 0.97])).toBe(
      'adaptive (optimal) reached 97 % in 2 cycles; ETA did not in 2 cycles.',
    );
    expect(headline([row('eta', 1, 0.9)], [0.97])).toBe('No scheme reached 97 %: ETA 90.00 % after 1 cycle.');
    expect(headline([], [0.97])).toBeNull();
  });
});

describe('folderKind', () => {
  it('tells runs, campaigns and sweeps apart, and says what to run for anything else', () => {
    expect(folderKind(join(RESULTS, 'reference-K20-T12')).kind).toBe('run');
    expect(folderKind(join(RESULTS, 'async/K20-T12-fedavg')).kind).toBe('campaign');
    const kinds = (d: string) => (folderKind(d) as { message?: string }).message;
    expect(kinds(join(RESULTS, 'paper'))).toMatch(
      /a `npm run paper` folder; claims\.md is its report, and each panel is a campaign: npm run report -- .*fig2-K20-T12$/,
    );
    expect(kinds(join(RESULTS, 'fig1'))).toMatch(/a `npm run fig1` folder/);
    expect(kinds(join(RESULTS, 'async'))).toMatch(/not a run, campaign or sweep folder/);
    expect(kinds(join(tmp, 'nope'))).toMatch(/folder not found$/);
    mkdirSync(join(tmp, 'starting'));
    writeFileSync(join(tmp, 'starting', 'config.json'), '{}');
    expect(kinds(join(tmp, 'starting'))).toMatch(/has not started its first cycle yet/);
  });
});

describe('campaign and sweep folders', () => {
  it('a campaign: its report over the complete seeds, cycles.csv with a seed column; an incomplete seed is left out with a warning', async () => {
    const camp = join(tmp, 'camp');
    cpSync(join(RESULTS, 'async/K20-T12-fedavg'), camp, { recursive: true });
    const cycles = join(camp, 'seed-3', 'cycles.csv');
    writeFileSync(cycles, readFileSync(cycles, 'utf8').trim().split('\n').slice(0, -1).join('\n') + '\n'); // seed 3 lost its last cycle
    const r = await renderCampaignFolder(camp, { outDir: join(tmp, 'camp-report') });
    expect(r.summary.seeds).toEqual([1, 2]);
    expect(r.warnings.join('\n')).toMatch(/seed 3 not complete yet \(campaign in progress\?\), left out/);
    const csv = readFileSync(join(tmp, 'camp-report', 'cycles.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe(
      'seed,scheme,cycle,tau,test_accuracy,test_loss,emulated_time_s,max_learner_time_s,late_learners,wall_time_s,updates_aggregated,tasked_learners,unavailable_learners',
    );
    expect(csv).toHaveLength(1 + 2 * 30);
    expect(csv[1]).toBe(`1,${readFileSync(join(camp, 'seed-1', 'cycles.csv'), 'utf8').split('\n')[1]}`);
    expect(readFileSync(join(tmp, 'camp-report', 'report.html'), 'utf8')).toMatch(/seed 3 not complete yet/);
  }, 300_000);

  it("seedCyclesCsv round-trips every seed's rows", () => {
    const text = readFileSync(join(RESULTS, 'async/K20-T12-fedavg/seed-2/cycles.csv'), 'utf8');
    const csv = seedCyclesCsv([{ seed: 2, rows: parseCycles(text, 'c') }]);
    expect(
      csv
        .split('\n')
        .slice(1)
        .map((l) => l.replace(/^2,/, ''))
        .join('\n'),
    ).toBe(text.split('\n').slice(1).join('\n'));
  });

  it('a sweep: its cells (K<K>-T<T>/ campaigns) give sweep.csv and the report', async () => {
    const sweep = join(tmp, 'sweep');
    mkdirSync(sweep);
    symlinkSync(join(RESULTS, 'async/K20-T12-fedavg'), join(sweep, 'K20-T12'));
    symlinkSync(join(RESULTS, 'async/K10-T30-fedavg'), join(sweep, 'K10-T30'));
    expect(folderKind(sweep).kind).toBe('sweep');
    const r = await renderSweepFolder(sweep, { outDir: join(tmp, 'sweep-report') });
    expect(r.cells.map((c) => `${c.K}-${c.T}`)).toEqual(['10-30', '20-12']);
    const csv = readFileSync(join(tmp, 'sweep-report', 'sweep.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv).toHaveLength(1 + 2 * 3);
    expect(readFileSync(join(tmp, 'sweep-report', 'report.html'), 'utf8')).toMatch(/K=10 T=30/);
  }, 300_000);
});

describe('several runs overlaid', () => {
  it('names runs apart, one CSV with a run column, one chart; refuses --out onto a run folder', async () => {
    expect(runNames(['a/seed-1', 'b/seed-1', 'c/x'])).toEqual(['a/seed-1', 'b/seed-1', 'x']);
    const a = await writeFixtureRun({});
    const b = await writeFixtureRun({ 'summary.json': null });
    const runs = [
      { name: 'a', data: await loadRunFolder(a) },
      { name: 'b', data: await loadRunFolder(b) },
    ];
    const csv = overlayCsv(runs).trim().split('\n');
    expect(csv[0].startsWith('run,scheme,cycle,')).toBe(true);
    expect(csv.filter((l) => l.startsWith('b,'))).toHaveLength(6);
    await expect(renderOverlay([a, b], { outDir: b })).rejects.toThrow(/is one of the run folders/);
    const r = await renderOverlay([a, b], { outDir: join(tmp, 'overlay') });
    expect(r.files.map((f) => f.slice(join(tmp, 'overlay').length + 1))).toEqual([
      'cycles.csv',
      'accuracy.svg',
      'accuracy.png',
      'report.html',
    ]);
    const html = readFileSync(join(tmp, 'overlay', 'report.html'), 'utf8');
    expect(html).toMatch(/\(in progress\)/);
    expect(html).toMatch(/adaptive \(optimal\) reached 97 % in 3 cycles; ETA did not in 3 cycles/);
  }, 300_000);
});
