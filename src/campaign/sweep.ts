/**
 * A sweep: one campaign per (K, T) cell of a grid, each in OUT/K<K>-T<T>/ (a campaign folder),
 * then sweep.csv with one row per cell × scheme and charts of τ, final accuracy and cycles-to-target
 * against T and against K. Rerunning continues: finished cells are not rerun, a partial cell
 * continues its campaign.
 */
import type { RunEvent } from '../orchestrator/events.ts';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { InputError } from '../errors.ts';
import type { ExperimentConfig } from '../orchestrator/config.ts';
import { writeFileAtomic } from '../orchestrator/store/run-files.ts';
import { runTargets } from '../run-folder/schema.ts';
import { escapeHtml } from '../report/html.ts';
import { canRenderText, NO_FONT_WARNING, renderChart, type FontOptions } from '../report/render.ts';
import { orderSchemes, schemeLabel } from '../report/schemes.ts';
import { summarizeCampaign, targetColumn, targetKey, targetLabel, type CampaignSummary } from './aggregate.ts';
import {
  loadCampaignRuns,
  planCampaign,
  runCampaign,
  seedFolder,
  seedState,
  writeCampaignOutputs,
} from './campaign.ts';
import { sweepSpec, type SweepPoint } from './charts.ts';
import { cyclesText, meanCi } from './format.ts';
import { figures, htmlTable, page, type PageChart } from './html.ts';
import { formatDuration, WorkTracker } from './progress.ts';

export interface SweepOptions {
  out: string;
  Ks: number[];
  Ts: number[];
  seeds: number[];
  fixedFleet?: boolean;
  /** charts of the sweep and of every cell's campaign (default true) */
  report?: boolean;
  fonts?: FontOptions;
  log?: (line: string) => void;
  /** what each run reports, with its label */
  onEvent?: (event: RunEvent, label: string) => void;
  signal?: AbortSignal;
}

export interface SweepCell {
  K: number;
  T: number;
  dir: string;
  /** ran (some seed was run or resumed) or skipped (finished before this command) */
  status: 'ran' | 'skipped';
  summary: CampaignSummary;
}

export interface SweepResult {
  out: string;
  cells: SweepCell[];
  interrupted: boolean;
  files: string[];
  warnings: string[];
}

export const cellFolder = (out: string, K: number, T: number) => path.join(out, `K${K}-T${T}`);
const cellLabel = (K: number, T: number) => `K=${K} T=${T}`;

/** A cell is finished when every seed's run is complete and its campaign wrote summary.json. */
function cellFinished(dir: string, plan: { seed: number; config: ExperimentConfig }[]): boolean {
  if (!existsSync(path.join(dir, 'summary.json'))) return false;
  return plan.every((p) => seedState(seedFolder(dir, p.seed), p.config) === 'complete');
}

export type SweepRow = Record<string, string | number | null>;

export function sweepHeader(targets: readonly number[]): string[] {
  return [
    'K',
    'T',
    'scheme',
    'seeds',
    'tau_mean',
    'tau_ci95_low',
    'tau_ci95_high',
    'final_accuracy_mean',
    'final_accuracy_ci95_low',
    'final_accuracy_ci95_high',
    ...targets.flatMap((t) => {
      const c = `cycles_to_${targetColumn(t)}`;
      return [`${c}_mean`, `${c}_ci95_low`, `${c}_ci95_high`, `${c}_reached`, `${c}_never`];
    }),
  ];
}

/** One row per cell × scheme: τ, final accuracy (fraction) and cycles to each target, mean and 95 % CI over the seeds. */
export function sweepRows(cells: readonly { K: number; T: number; summary: CampaignSummary }[]): SweepRow[] {
  return cells.flatMap(({ K, T, summary }) =>
    orderSchemes(summary.schemes).map((scheme) => {
      const s = summary.per_scheme[scheme];
      const row: SweepRow = {
        K,
        T,
        scheme,
        seeds: summary.seeds.length,
        tau_mean: s.tau.mean,
        tau_ci95_low: s.tau.ci95_low,
        tau_ci95_high: s.tau.ci95_high,
        final_accuracy_mean: s.final_accuracy.mean,
        final_accuracy_ci95_low: s.final_accuracy.ci95_low,
        final_accuracy_ci95_high: s.final_accuracy.ci95_high,
      };
      for (const t of summary.targets) {
        const c = s.cycles_to_target[targetKey(t)];
        const col = `cycles_to_${targetColumn(t)}`;
        Object.assign(row, {
          [`${col}_mean`]: c.mean,
          [`${col}_ci95_low`]: c.ci95_low,
          [`${col}_ci95_high`]: c.ci95_high,
          [`${col}_reached`]: c.reached,
          [`${col}_never`]: c.never,
        });
      }
      return row;
    }),
  );
}

export function sweepCsv(rows: readonly SweepRow[], targets: readonly number[]): string {
  const header = sweepHeader(targets);
  return (
    [
      header.join(','),
      ...rows.map((r) => header.map((h) => (r[h] === null || r[h] === undefined ? '' : String(r[h]))).join(',')),
    ].join('\n') + '\n'
  );
}

/** The sweep charts: τ, final accuracy and cycles to each target, against T (a panel per K) and against K (a panel per T). */
export function sweepCharts(
  cells: readonly { K: number; T: number; summary: CampaignSummary }[],
): { name: string; title: string; caption: string; spec: TopLevelSpec }[] {
  const targets = cells[0].summary.targets;
  const points = (metric: 'tau' | 'final_accuracy' | 'cycles'): SweepPoint[] =>
    cells.flatMap(({ K, T, summary }) =>
      summary.schemes.flatMap((scheme) => {
        const s = summary.per_scheme[scheme];
        if (metric === 'cycles')
          return targets.map((t) => {
            const c = s.cycles_to_target[targetKey(t)];
            return { scheme, K, T, group: targetLabel(t), mean: c.mean, low: c.ci95_low, high: c.ci95_high };
          });
        const x = metric === 'tau' ? s.tau : s.final_accuracy;
        const k = metric === 'tau' ? 1 : 100;
        const scale = (v: number | null) => (v === null ? null : v * k);
        return [{ scheme, K, T, group: '', mean: scale(x.mean), low: scale(x.ci95_low), high: scale(x.ci95_high) }];
      }),
    );
  const metrics = [
    {
      key: 'tau',
      points: points('tau'),
      title: 'Local iterations τ',
      yTitle: 'τ',
      what: "local iterations τ of each scheme (mean over the seeds' fleets)",
    },
    {
      key: 'accuracy',
      points: points('final_accuracy'),
      title: 'Final test accuracy',
      yTitle: 'final test accuracy (%)',
      what: 'test accuracy after the last cycle',
    },
    {
      key: 'cycles',
      points: points('cycles'),
      title: 'Cycles to reach each accuracy target',
      yTitle: 'global cycles',
      what: 'cycles to reach each target, over the seeds that reached it (see sweep.csv for how many never did)',
    },
  ];
  return metrics.flatMap((m) =>
    (['T', 'K'] as const).map((axis) => ({
      name: `sweep_${m.key}_vs_${axis}`,
      title: `${m.title} vs ${axis}`,
      caption: `${m.what}, against ${axis === 'T' ? 'T (a panel per K)' : 'K (a panel per T)'}; bars are 95 % confidence intervals over seeds.`,
      spec: sweepSpec(m.points, axis, { title: `${m.title} vs ${axis}`, yTitle: m.yTitle, groupTitle: 'target' }),
    })),
  );
}

function sweepHtml(
  out: string,
  base: ExperimentConfig,
  cells: SweepCell[],
  charts: PageChart[],
  warnings: string[],
  seeds: number[],
): string {
  const targets = cells[0].summary.targets;
  const rows = cells.flatMap((c) =>
    orderSchemes(c.summary.schemes).map((scheme) => {
      const s = c.summary.per_scheme[scheme];
      return [
        `<a href="${escapeHtml(path.relative(out, path.join(c.dir, 'report.html')))}">${escapeHtml(cellLabel(c.K, c.T))}</a>`,
        escapeHtml(schemeLabel(scheme)),
        escapeHtml(meanCi(s.tau, 1)),
        escapeHtml(meanCi(s.final_accuracy, 2, 100, ' %')),
        ...targets.map((t) => escapeHtml(cyclesText(s.cycles_to_target[targetKey(t)], s.cycles))),
      ];
    }),
  );
  const table = htmlTable(
    ['cell', 'scheme', 'τ', 'final accuracy', ...targets.map((t) => `cycles to ${targetLabel(t)}`)],
    rows,
    true,
  );
  const facts = [
    `K: ${[...new Set(cells.map((c) => c.K))].join(', ')}`,
    `T: ${[...new Set(cells.map((c) => c.T))].join(', ')} s`,
    `seeds: ${seeds.join(', ')}`,
    `cycles: ${base.cycles}`,
    `schemes: ${base.schemes.join(', ')}`,
    `d: ${base.train_samples}`,
    `test images: ${base.test_samples}`,
  ];
  return page(`MEL sweep report — ${path.basename(path.resolve(out))}`, facts, warnings, [
    { heading: 'Cells (mean ± half-width [95 % CI] over seeds)', html: table },
    { heading: 'Charts', html: figures(charts) },
  ]);
}

export async function runSweep(base: ExperimentConfig, opts: SweepOptions): Promise<SweepResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  if (opts.Ks.length === 0 || opts.Ts.length === 0) throw new InputError('a sweep needs at least one K and one T');
  const fixedFleet = Boolean(opts.fixedFleet);
  const report = opts.report ?? true;
  const grid = opts.Ks.flatMap((K) => opts.Ts.map((T) => ({ K, T, config: { ...base, K, T } as ExperimentConfig })));
  // Every cell's every seed must be feasible before anything runs.
  const tracker = new WorkTracker();
  const plans: Awaited<ReturnType<typeof planCampaign>>[] = [];
  for (const cell of grid) {
    try {
      const plan = await planCampaign(cell.config, opts.seeds, fixedFleet);
      for (const p of plan) tracker.plan(`${cellLabel(cell.K, cell.T)} seed ${p.seed}`, p.predictedS);
      plans.push(plan);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`cell ${cellLabel(cell.K, cell.T)}: ${e.message}`);
      throw e;
    }
  }
  log(
    `sweep of ${grid.length} cells × ${opts.seeds.length} seeds = ${tracker.total()} runs; estimated total ≈ ${formatDuration(tracker.remainingS())} (prior estimate, refined as runs finish)`,
  );

  const result: SweepResult = { out: opts.out, cells: [], interrupted: false, files: [], warnings: [] };
  for (const [i, cell] of grid.entries()) {
    const dir = cellFolder(opts.out, cell.K, cell.T);
    const label = cellLabel(cell.K, cell.T);
    if (cellFinished(dir, plans[i])) {
      for (const p of plans[i]) tracker.finish(`${label} seed ${p.seed}`, 0, false);
      const summary = summarizeCampaign(
        loadCampaignRuns(dir, opts.seeds, cell.config),
        cell.config.schemes,
        runTargets(cell.config),
      );
      // A cell finished without charts (--no-report then) gets them now: the sweep report links to it.
      if (report && !existsSync(path.join(dir, 'report.html')))
        await writeCampaignOutputs(dir, cell.config, opts.seeds, { fixedFleet, report, fonts: opts.fonts });
      result.cells.push({ K: cell.K, T: cell.T, dir, status: 'skipped', summary });
      log(`cell ${i + 1}/${grid.length} ${label}: finished in ${dir}, skipped · ${tracker.status()}`);
      continue;
    }
    log(`cell ${i + 1}/${grid.length} ${label}: ${dir}`);
    const campaign = await runCampaign(cell.config, {
      out: dir,
      seeds: opts.seeds,
      fixedFleet,
      report,
      seedReports: false,
      fonts: opts.fonts,
      log,
      onEvent: opts.onEvent,
      signal: opts.signal,
      tracker,
      label,
    });
    result.warnings.push(...campaign.warnings.filter((w) => !result.warnings.includes(w)));
    if (campaign.interrupted) {
      result.interrupted = true;
      return result;
    }
    result.cells.push({ K: cell.K, T: cell.T, dir, status: 'ran', summary: campaign.summary! });
    log(`cell ${i + 1}/${grid.length} ${label}: done · ${tracker.status()}`);
  }

  result.files.push(
    ...(await writeSweepOutputs(opts.out, base, result.cells, opts.seeds, {
      report,
      fonts: opts.fonts,
      warnings: result.warnings,
    })),
  );
  return result;
}

/** sweep.csv and (report) the sweep charts and report.html, into `outDir` (default: the sweep folder); returns the files. */
export async function writeSweepOutputs(
  out: string,
  base: ExperimentConfig,
  cells: SweepCell[],
  seeds: number[],
  opts: { report: boolean; fonts?: FontOptions; warnings: string[]; outDir?: string },
): Promise<string[]> {
  const dir = opts.outDir ?? out;
  mkdirSync(dir, { recursive: true });
  const targets = cells[0].summary.targets;
  const csvFile = path.join(dir, 'sweep.csv');
  writeFileAtomic(csvFile, sweepCsv(sweepRows(cells), targets));
  const written = [csvFile];
  if (!opts.report) return written;
  const fonts = opts.fonts ?? {};
  if (!canRenderText(fonts) && !opts.warnings.includes(NO_FONT_WARNING)) opts.warnings.push(NO_FONT_WARNING);
  const charts: PageChart[] = [];
  for (const c of sweepCharts(cells)) {
    const { svg, png } = await renderChart(c.spec, fonts);
    const files = [path.join(dir, `${c.name}.svg`), path.join(dir, `${c.name}.png`)];
    writeFileSync(files[0], svg);
    writeFileSync(files[1], png);
    written.push(...files);
    charts.push({ title: c.title, caption: c.caption, svg, files: files.map((f) => path.basename(f)) });
  }
  const htmlFile = path.join(dir, 'report.html');
  writeFileSync(htmlFile, sweepHtml(dir, base, cells, charts, opts.warnings, seeds));
  written.push(htmlFile);
  return written;
}
