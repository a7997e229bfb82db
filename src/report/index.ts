/**
 * Entry points of the report package: render every chart and report.html for a run folder,
 * and the Fig. 1 charts for the τ-vs-K/T tables. File I/O lives here; the rest is pure.
 */
import { access, constants, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { ReportInputError } from './errors.ts';
import { parseFig1 } from '../run-folder/read.ts';
import { accuracyTargetText, type CycleRow, type RunSummaryRead } from '../run-folder/schema.ts';
import { groupThousands, roundNumber } from './format.ts';
import { headline } from './headline.ts';
import { buildReportHtml, type ReportChart } from './html.ts';
import { canRenderText, NO_FONT_WARNING, renderChart, type FontOptions } from './render.ts';
import { testSamples } from './run-facts.ts';
import { loadRunFolder, type RunData } from './run-folder.ts';
import { accuracySpec, accuracyTimeSpec, lossSpec, tauSpec } from './spec-cycles.ts';
import { orderSchemes, schemeLabel } from './schemes.ts';
import { fig1Spec } from './spec-fig1.ts';
import { energyBars, energySpec } from './spec-energy.ts';
import { defaultTimelineCycle, timelineSpec, type PlannedKill } from './spec-timeline.ts';
import { analyseWallPhases, wallPhasesSpec, type WallAnalysis } from './wall-phases.ts';

export { ReportInputError } from './errors.ts';
export { canRenderText, NO_FONT_WARNING } from './render.ts';
export type { FontOptions } from './render.ts';

export interface RunReportOptions extends FontOptions {
  /** Global cycle shown in the timeline (default: the last one in learners.csv). */
  cycle?: number;
  /** Where the charts and report.html go (created if needed); default: the run folder itself. */
  outDir?: string;
  /** Accuracy targets (fractions) of the rules, the summary table and the headline; default: the run's own. */
  targets?: number[];
}

/** Write `<name>.svg` and `<name>.png` into dir; returns the SVG text and both paths. */
async function writeChart(dir: string, name: string, spec: TopLevelSpec, fonts: FontOptions, maxPngWidthPx?: number) {
  const { svg, png } = await renderChart(spec, fonts, maxPngWidthPx);
  const files = [path.join(dir, `${name}.svg`), path.join(dir, `${name}.png`)];
  await writeFile(files[0], svg);
  await writeFile(files[1], png);
  return { svg, files };
}

/** A chart of the report: its file name, its section in report.html and its spec. */
interface ChartPlan {
  name: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
  maxPngWidthPx?: number;
}

export async function renderRunReport(
  runDir: string,
  opts: RunReportOptions = {},
): Promise<{ files: string[]; warnings: string[]; summary: RunSummaryRead }> {
  const run = await loadRunFolder(runDir, opts.targets);
  const cycle = timelineCycle(runDir, run, opts.cycle);
  const fonts: FontOptions = { fontFiles: opts.fontFiles, systemFonts: opts.systemFonts };
  await checkFontFiles(fonts);
  const outDir = opts.outDir ?? runDir;
  await ensureWritableDir(outDir);
  const warnings = canRenderText(fonts) ? [] : [NO_FONT_WARNING];
  const { files, reportCharts } = await writeCharts(outDir, runCharts(run, cycle), fonts);
  const realClock = run.wallPhases ? await writeRealClock(outDir, run, run.wallPhases, fonts) : undefined;
  if (realClock) files.push(...realClock.files);
  const html = buildReportHtml({
    runName: path.basename(path.resolve(runDir)),
    config: run.config,
    summary: run.summary,
    learners: run.learners,
    charts: reportCharts,
    realClock: realClock && { analysis: realClock.analysis, chart: realClock.chart },
    warnings,
    targets: run.targets,
    headline: headline(run.cycles, run.targets),
    inProgress: run.inProgress ? inProgressText(runDir, run.config, run.cycles) : undefined,
  });
  const htmlFile = path.join(outDir, 'report.html');
  await writeFile(htmlFile, html);
  files.push(htmlFile);
  return { files, warnings, summary: run.summary };
}

/** The cycle the timeline shows (--cycle, else the last one), refused when learners.csv has no rows for it. */
function timelineCycle(runDir: string, run: RunData, requested: number | undefined): number {
  const learnersFile = path.join(runDir, 'learners.csv');
  const available = [...new Set(run.learners.map((r) => r.cycle))].sort((a, b) => a - b);
  const cycle = requested ?? defaultTimelineCycle(run.learners);
  if (cycle === null)
    throw new ReportInputError(`${learnersFile}: no learner rows, so there is no cycle to draw`, learnersFile);
  if (!available.includes(cycle))
    throw new ReportInputError(
      `${learnersFile}: no rows for cycle ${cycle} (cycles present: ${available[0]}–${available[available.length - 1]})`,
      learnersFile,
    );
  return cycle;
}

/** The charts of a run, in report order; the energy chart only when learners.csv has energy (newer runs). */
function runCharts(run: RunData, cycle: number): ChartPlan[] {
  const charts: ChartPlan[] = [
    {
      name: 'accuracy',
      title: 'Test accuracy',
      caption: `Test accuracy on ${testSetText(run.config)} after each global cycle; dashed rules at ${run.targets.map(accuracyTargetText).join(' and ')}.`,
      spec: accuracySpec(run.cycles, run.targets),
    },
    {
      name: 'accuracy_time',
      title: 'Test accuracy over emulated time',
      caption: accuracyTimeCaption(run.cycles, run.deadlineS),
      spec: accuracyTimeSpec(run.cycles, run.targets),
    },
    {
      name: 'loss',
      title: 'Test loss',
      caption: 'Cross-entropy on the test set after each global cycle.',
      spec: lossSpec(run.cycles),
    },
    {
      name: 'tau',
      title: 'Local iterations',
      caption: 'Local iterations τ each scheme allocated per global cycle.',
      spec: tauSpec(run.cycles),
    },
    {
      name: 'timeline',
      title: `Timeline of cycle ${cycle}`,
      caption: timelineCaption(cycle, run.deadlineS, run.config),
      spec: timelineSpec(run.learners, run.cycles, cycle, run.deadlineS, plannedKills(run.config)),
      maxPngWidthPx: TIMELINE_MAX_PNG_WIDTH_PX,
    },
  ];
  const bars = energyBars(run.learners);
  if (bars.length > 0) charts.push(energyChart(bars, runBudgetJ(run.config)));
  return charts;
}

function energyChart(bars: ReturnType<typeof energyBars>, budget: number | null): ChartPlan {
  return {
    name: 'energy',
    title: 'Energy per learner',
    caption:
      'Mean joules each learner spent per global cycle under each scheme (learners.csv energy_j: compute plus radio); a learner that sat out spends 0.' +
      (budget === null ? '' : ` Dashed rule: the energy budget ${roundNumber(budget)} J per learner and cycle.`),
    spec: energySpec(bars, budget),
  };
}

/** Render and write every chart, in order; their sections of report.html and the files written. */
async function writeCharts(outDir: string, charts: readonly ChartPlan[], fonts: FontOptions) {
  const files: string[] = [];
  const reportCharts: ReportChart[] = [];
  for (const c of charts) {
    const written = await writeChart(outDir, c.name, c.spec, fonts, c.maxPngWidthPx);
    files.push(...written.files);
    reportCharts.push({
      title: c.title,
      caption: c.caption,
      svg: written.svg,
      files: written.files.map((f) => path.basename(f)),
    });
  }
  return { files, reportCharts };
}

/** Real-clock runs (wall_phases.csv): compare wall with emulated time and write its chart. */
async function writeRealClock(
  outDir: string,
  run: RunData,
  wallPhases: NonNullable<RunData['wallPhases']>,
  fonts: FontOptions,
): Promise<{ analysis: WallAnalysis; chart: ReportChart; files: string[] }> {
  const timeScale = typeof run.config.time_scale === 'number' && run.config.time_scale > 0 ? run.config.time_scale : 1;
  const analysis = analyseWallPhases(wallPhases, run.learners, timeScale);
  const written = await writeChart(outDir, 'wall_phases', wallPhasesSpec(analysis), fonts);
  const caption =
    'Each learner-phase of every cycle: measured wall time divided by its emulated time × time scale (log scale); dots right of the dashed rule ran slower than emulated.';
  return {
    analysis,
    chart: {
      title: 'Real clock: wall versus emulated time',
      caption,
      svg: written.svg,
      files: written.files.map((f) => path.basename(f)),
    },
    files: written.files,
  };
}

/** What a report of a run without summary.json covers. */
export function inProgressText(runDir: string, config: Record<string, unknown>, cycles: CycleRow[]): string {
  const planned = typeof config.cycles === 'number' ? ` of ${config.cycles}` : '';
  const done = orderSchemes(cycles.map((c) => c.scheme)).map(
    (s) => `${schemeLabel(s)} ${Math.max(...cycles.filter((c) => c.scheme === s).map((c) => c.cycle))}${planned}`,
  );
  return (
    `No summary.json yet: the run is still going (or was killed before it could write one; continue it with npm run experiment -- --resume ${runDir}). ` +
    `This report covers the cycles completed so far: ${done.join(', ')}; the summary is computed from cycles.csv and learners.csv.`
  );
}

/** config.json `energy.budget_j` (a number), else null. */
function runBudgetJ(config: Record<string, unknown>): number | null {
  const energy = config.energy as { budget_j?: unknown } | null | undefined;
  return typeof energy?.budget_j === 'number' ? energy.budget_j : null;
}

/** Long learner labels must not make the timeline PNG a 3000 px strip of white. */
export const TIMELINE_MAX_PNG_WIDTH_PX = 1400;

/** config.json `faults.kill` ({learner, cycle}[]), ignoring anything malformed. */
function plannedKills(config: Record<string, unknown>): PlannedKill[] {
  const faults = config.faults as { kill?: unknown } | null | undefined;
  if (!faults || !Array.isArray(faults.kill)) return [];
  return faults.kill.filter((k): k is PlannedKill => typeof k?.learner === 'number' && typeof k?.cycle === 'number');
}

export function timelineCaption(cycle: number, deadlineS: number, config: Record<string, unknown>): string {
  const jitter = typeof config.speed_jitter === 'number' && config.speed_jitter > 0;
  return (
    `Emulated time of each learner in global cycle ${cycle}: receive, compute τ local iterations, send back; red dashed rule = deadline T = ${deadlineS} s.` +
    (jitter
      ? ' With --speed-jitter, the f_k on each row is the speed that learner really had in this cycle, not its profile.'
      : '')
  );
}

/** Says how long each scheme ran on the emulated clock, and whether that differs from cycles × T. */
export function accuracyTimeCaption(cycles: CycleRow[], deadlineS: number): string {
  const ends = orderSchemes(cycles.map((c) => c.scheme)).map((s) => {
    const last = cycles.filter((c) => c.scheme === s).reduce((a, b) => (b.cycle > a.cycle ? b : a));
    return { s, cycle: last.cycle, timeS: last.emulatedTimeS };
  });
  const longer = ends.some((e) => e.timeS > e.cycle * deadlineS + 1e-9);
  return (
    `Test accuracy against the emulated clock at the end of each global cycle; emulated time used: ` +
    ends.map((e) => `${schemeLabel(e.s)} ${roundNumber(e.timeS)} s in ${e.cycle} cycles`).join(', ') +
    (longer
      ? ` — some cycles lasted longer than T = ${roundNumber(deadlineS)} s (--late wait), so compare the schemes on this axis, not per cycle.`
      : ` (every cycle lasted T = ${roundNumber(deadlineS)} s).`)
  );
}

/** "the 2,000 MNIST test images" from config.json `test_samples` (older runs: "the MNIST test set"). */
export function testSetText(config: Record<string, unknown>): string {
  const n = testSamples(config);
  return n === undefined ? 'the MNIST test set' : `the ${groupThousands(n)} MNIST test images`;
}

/** Fail before rendering anything, with the folder's name, if the output cannot be written. */
async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ReportInputError(`${dir}: cannot write the report there (${code})`, dir);
  }
}

/** resvg ignores font files it cannot read, so check them ourselves. */
async function checkFontFiles(fonts: FontOptions): Promise<void> {
  for (const f of fonts.fontFiles ?? []) {
    const info = await stat(f).catch(() => null);
    if (!info?.isFile()) throw new ReportInputError(`${f}: font file not found`, f);
  }
}

async function readFig1(file: string) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ReportInputError(`${file}: ${code === 'ENOENT' ? 'missing' : `unreadable (${code})`}`, file);
  }
  return parseFig1(text, file);
}

/** Render tau_vs_K.svg/png and tau_vs_T.svg/png from the CSVs of the same name in outDir. */
export async function renderFig1Charts(outDir: string, fonts: FontOptions = {}): Promise<string[]> {
  // This signature has no room for warnings, so say it on stderr.
  await checkFontFiles(fonts);
  if (!canRenderText(fonts)) process.stderr.write(`warning: ${NO_FONT_WARNING}\n`);
  const files: string[] = [];
  for (const axis of ['K', 'T'] as const) {
    const rows = await readFig1(path.join(outDir, `tau_vs_${axis}.csv`));
    files.push(...(await writeChart(outDir, `tau_vs_${axis}`, fig1Spec(rows, axis), fonts)).files);
  }
  return files;
}
