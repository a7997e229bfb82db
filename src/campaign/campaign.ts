/**
 * A campaign: the same experiment once per seed, each seed in its own run folder OUT/seed-S/
 * (a normal run folder: resumable, reportable), then the statistics over seeds in OUT:
 * aggregate.csv, summary.json, charts and report.html. Rerunning the same command continues a
 * killed campaign: complete seeds are skipped, a partial seed resumes from its last cycle.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { InputError } from '../errors.ts';
import { monotonicSeconds } from '../emulation/clock.ts';
import type { ExperimentConfig } from '../orchestrator/config.ts';
import { runExperiment } from '../orchestrator/experiment.ts';
import { writeFileAtomic, writeJsonAtomic } from '../orchestrator/store/run-files.ts';
import { canRenderText, NO_FONT_WARNING, renderChart, type FontOptions } from '../report/render.ts';
import { migrateRunConfig } from '../run-folder/migrate.ts';
import { parseCycles } from '../run-folder/read.ts';
import { formatCsvCell } from '../run-folder/csv.ts';
import { cycleRowCells, CYCLES_HEADER, runTargets, type CycleRow } from '../run-folder/schema.ts';
import type { RunEvent } from '../orchestrator/events.ts';
import {
  aggregateCsv,
  aggregateCycles,
  summarizeCampaign,
  type AggregateRow,
  type CampaignSummary,
  type SeedCycles,
} from './aggregate.ts';
import { accuracyBandSpec, cyclesToTargetSpec } from './charts.ts';
import { buildCampaignHtml, type PageChart } from './html.ts';
import { formatDuration, predictRunSeconds, WorkTracker } from './progress.ts';
import { canonicalJson } from '../util/canonical-json.ts';

export interface CampaignOptions {
  /** the campaign folder */
  out: string;
  seeds: number[];
  /** every seed uses the fleet of seeds[0] (config.fleet_seed) */
  fixedFleet?: boolean;
  /** aggregate charts and report.html in OUT (default true) */
  report?: boolean;
  /** each seed's own charts and report.html (default false) */
  seedReports?: boolean;
  fonts?: FontOptions;
  log?: (line: string) => void;
  /** what each run reports (src/orchestrator/events.ts), with the run's label ("K=20 T=12 seed 3") */
  onEvent?: (event: RunEvent, label: string) => void;
  /** abort = stop the running seed after its learners stopped; completed cycles stay */
  signal?: AbortSignal;
  /** shared with a sweep or `npm run paper`; a campaign of its own otherwise */
  tracker?: WorkTracker;
  /** prefix of this campaign's log lines and tracker keys, e.g. "K=10 T=30" */
  label?: string;
}

export interface CampaignResult {
  out: string;
  seeds: number[];
  /** seeds run from the start, resumed, or skipped as complete */
  ran: number[];
  resumed: number[];
  skipped: number[];
  interrupted: boolean;
  /** null when interrupted */
  summary: CampaignSummary | null;
  aggregate: AggregateRow[];
  files: string[];
  warnings: string[];
}

export const seedFolder = (out: string, seed: number) => path.join(out, `seed-${seed}`);
export const CAMPAIGN_FILE = 'campaign.json';

/** The run configuration of one seed of the campaign. */
export function seedConfig(base: ExperimentConfig, seed: number, fleetSeed: number | null): ExperimentConfig {
  return { ...base, seed, fleet_seed: fleetSeed };
}

/** How to reach and watch the learners, and the accuracy targets counted (computed from the rows): may differ between sessions of one campaign. */
const SESSION_KEYS = new Set([
  'hosts',
  'host',
  'port',
  'heartbeat_s',
  'task_timeout_s',
  'join_timeout_s',
  'compute_slots',
  'targets',
]);

/**
 * The first setting in which `saved` (a config.json or campaign.json) differs from `wanted`, or
 * null. Session keys are free; a larger `cycles` extends the run; a smaller one is a difference.
 */
export function configDifference(
  saved: Record<string, unknown>,
  wanted: Record<string, unknown>,
  ignore: readonly string[] = [],
): string | null {
  for (const key of Object.keys(wanted)) {
    if (SESSION_KEYS.has(key) || ignore.includes(key)) continue;
    if (key === 'cycles' && typeof saved.cycles === 'number' && (wanted.cycles as number) >= saved.cycles) continue;
    if (canonicalJson(saved[key]) !== canonicalJson(wanted[key]))
      return `${key} is ${canonicalJson(saved[key])} there, ${canonicalJson(wanted[key])} here`;
  }
  for (const key of ['fleet_seed'])
    if (!ignore.includes(key) && canonicalJson(saved[key]) !== canonicalJson(wanted[key]))
      return `${key} is ${canonicalJson(saved[key])} there, ${canonicalJson(wanted[key])} here`;
  return null;
}

function readJson(file: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v;
  } catch (e) {
    throw new InputError(`${file}: unreadable (${(e as Error).message})`);
  }
}

export type SeedState = 'new' | 'partial' | 'complete';

/** A seed's rows from its cycles.csv (read with the report's reader), or null when there is none. */
export function readSeedCycles(dir: string): CycleRow[] | null {
  const file = path.join(dir, 'cycles.csv');
  if (!existsSync(file)) return null;
  return parseCycles(readFileSync(file, 'utf8'), file);
}

/** Complete = every scheme has every cycle 1..config.cycles in cycles.csv. */
export function isComplete(rows: readonly CycleRow[], config: Pick<ExperimentConfig, 'schemes' | 'cycles'>): boolean {
  return config.schemes.every((scheme) => {
    const have = new Set(rows.filter((r) => r.scheme === scheme).map((r) => r.cycle));
    for (let c = 1; c <= config.cycles; c++) if (!have.has(c)) return false;
    return true;
  });
}

/**
 * Where a seed's folder stands. A folder holding a run with other settings is refused (InputError
 * naming the setting) rather than mixed into the statistics.
 */
export function seedState(dir: string, config: ExperimentConfig): SeedState {
  const rows = readSeedCycles(dir);
  if (rows === null) return 'new';
  const configFile = path.join(dir, 'config.json');
  if (!existsSync(configFile))
    throw new InputError(
      `${dir} has cycles.csv but no config.json; it is not a run of this campaign — move it away or choose another --out`,
    );
  const diff = configDifference(migrateRunConfig(readJson(configFile)), config as unknown as Record<string, unknown>);
  if (diff)
    throw new InputError(
      `${dir} holds a run with other settings (${diff}); choose another --out for a different campaign`,
    );
  return isComplete(rows, config) ? 'complete' : 'partial';
}

interface CampaignFile {
  kind: 'mel-campaign';
  base: Omit<ExperimentConfig, 'seed'>;
  fixed_fleet: boolean;
  seeds: number[];
}

/** campaign.json: the settings every seed shares. A folder of another campaign is refused. */
function claimFolder(
  out: string,
  base: ExperimentConfig,
  seeds: number[],
  fixedFleet: boolean,
  fleetSeed: number | null,
): void {
  mkdirSync(out, { recursive: true });
  const file = path.join(out, CAMPAIGN_FILE);
  const { seed: _seed, ...shared } = seedConfig(base, seeds[0], fleetSeed);
  if (existsSync(file)) {
    const saved = readJson(file);
    if (saved.kind !== 'mel-campaign') throw new InputError(`${file} is not a campaign file; choose another --out`);
    if (Boolean(saved.fixed_fleet) !== fixedFleet)
      throw new InputError(
        `${out} holds a campaign ${saved.fixed_fleet ? 'with' : 'without'} --fixed-fleet; choose another --out`,
      );
    const diff = configDifference(
      migrateRunConfig((saved.base ?? {}) as Record<string, unknown>),
      shared as Record<string, unknown>,
    );
    if (diff) throw new InputError(`${out} holds a campaign with other settings (${diff}); choose another --out`);
    const known = Array.isArray(saved.seeds) ? (saved.seeds as number[]) : [];
    seeds = [...known, ...seeds.filter((s) => !known.includes(s))];
  } else if (existsSync(out) && existsSync(path.join(out, 'cycles.csv'))) {
    throw new InputError(`${out} is a single run folder, not a campaign; choose another --out`);
  }
  const content: CampaignFile = { kind: 'mel-campaign', base: shared, fixed_fleet: fixedFleet, seeds };
  writeJsonAtomic(file, content);
}

/** Every seed's rows, complete (throws otherwise), in `seeds` order, cut at config.cycles. */
export function loadCampaignRuns(
  out: string,
  seeds: readonly number[],
  config: Pick<ExperimentConfig, 'schemes' | 'cycles'>,
): SeedCycles[] {
  return seeds.map((seed) => {
    const rows = readSeedCycles(seedFolder(out, seed));
    if (rows === null || !isComplete(rows, config))
      throw new InputError(`${seedFolder(out, seed)}: the run is not complete; rerun the campaign to finish it`);
    return { seed, rows: rows.filter((r) => r.cycle <= config.cycles && config.schemes.includes(r.scheme as never)) };
  });
}

/** The campaign's cycles.csv: every seed's cycle rows in seed order, `seed` first, then the run's columns. */
export function seedCyclesCsv(runs: readonly SeedCycles[]): string {
  const header = ['seed', ...CYCLES_HEADER];
  const lines = runs.flatMap((run) =>
    run.rows.map((r) => [run.seed, ...CYCLES_HEADER.map((h) => cycleRowCells(r)[h])].map(formatCsvCell).join(',')),
  );
  return [header.join(','), ...lines].join('\n') + '\n';
}

async function writeChart(
  dir: string,
  name: string,
  spec: TopLevelSpec,
  fonts: FontOptions,
): Promise<{ svg: string; files: string[] }> {
  const { svg, png } = await renderChart(spec, fonts);
  const files = [path.join(dir, `${name}.svg`), path.join(dir, `${name}.png`)];
  writeFileSync(files[0], svg);
  writeFileSync(files[1], png);
  return { svg, files };
}

/**
 * aggregate.csv, cycles.csv (every seed's rows, with a seed column), summary.json and (report) the
 * charts and report.html of a complete campaign; into `outDir` (default: the campaign folder).
 */
export async function writeCampaignOutputs(
  out: string,
  base: ExperimentConfig,
  seeds: number[],
  opts: { fixedFleet: boolean; report: boolean; fonts?: FontOptions; outDir?: string; warnings?: string[] },
): Promise<{ summary: CampaignSummary; aggregate: AggregateRow[]; files: string[]; warnings: string[] }> {
  const runs = loadCampaignRuns(out, seeds, base);
  const aggregate = aggregateCycles(runs, base.schemes);
  const summary = summarizeCampaign(runs, base.schemes, runTargets(base));
  const dir = opts.outDir ?? out;
  mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, 'aggregate.csv'), path.join(dir, 'cycles.csv'), path.join(dir, 'summary.json')];
  writeFileAtomic(files[0], aggregateCsv(aggregate));
  writeFileAtomic(files[1], seedCyclesCsv(runs));
  writeJsonAtomic(files[2], {
    ...summary,
    fixed_fleet: opts.fixedFleet,
    fleet_seed: opts.fixedFleet ? seeds[0] : null,
    cycles: base.cycles,
  });
  const warnings: string[] = [...(opts.warnings ?? [])];
  if (opts.report) {
    const fonts = opts.fonts ?? {};
    if (!canRenderText(fonts)) warnings.push(NO_FONT_WARNING);
    const charts: PageChart[] = [];
    const specs = [
      {
        name: 'accuracy_ci',
        title: 'Test accuracy over seeds',
        caption: `Mean test accuracy after each global cycle over ${seeds.length} seeds; the band is the 95 % Student-t confidence interval of the mean; dashed rules at the accuracy targets.`,
        spec: accuracyBandSpec(aggregate, seeds.length, summary.targets),
      },
      {
        name: 'cycles_to_target',
        title: 'Cycles to target per seed',
        caption:
          'Global cycles each seed needed to reach each accuracy target; seeds that did not reach it within the run are drawn at "never" and left out of the mean and CI.',
        spec: cyclesToTargetSpec(summary),
      },
    ];
    for (const c of specs) {
      const written = await writeChart(dir, c.name, c.spec, fonts);
      files.push(...written.files);
      charts.push({
        title: c.title,
        caption: c.caption,
        svg: written.svg,
        files: written.files.map((f) => path.basename(f)),
      });
    }
    const seedReports = new Map<number, string>();
    for (const seed of seeds)
      if (existsSync(path.join(seedFolder(out, seed), 'report.html')))
        seedReports.set(seed, path.relative(dir, path.join(seedFolder(out, seed), 'report.html')));
    const html = buildCampaignHtml({
      name: path.basename(path.resolve(out)),
      config: { ...base, ...enginesUsed(out, seeds) } as unknown as Record<string, unknown>,
      fixedFleet: opts.fixedFleet,
      summary,
      charts,
      seedReports,
      warnings,
    });
    const htmlFile = path.join(dir, 'report.html');
    writeFileSync(htmlFile, html);
    files.push(htmlFile);
  }
  return { summary, aggregate, files, warnings };
}

/** The engine(s) the seeds' runs used (their config.json records it): { engine_used } or nothing when unknown. */
function enginesUsed(out: string, seeds: readonly number[]): { engine_used?: string } {
  const used = new Set<string>();
  for (const seed of seeds) {
    try {
      const e = JSON.parse(readFileSync(path.join(seedFolder(out, seed), 'config.json'), 'utf8')).engine_used;
      if (typeof e === 'string') used.add(e);
    } catch {
      // a seed not run yet: nothing to say about it
    }
  }
  return used.size ? { engine_used: [...used].join(', ') } : {};
}

/** Predicted wall time of each seed's run (also checks every seed's fleet is feasible, naming the seed). */
export async function planCampaign(
  base: ExperimentConfig,
  seeds: number[],
  fixedFleet: boolean,
): Promise<{ seed: number; config: ExperimentConfig; predictedS: number }[]> {
  const fleetSeed = fixedFleet ? seeds[0] : null;
  const plan: { seed: number; config: ExperimentConfig; predictedS: number }[] = [];
  for (const seed of seeds) {
    const config = seedConfig(base, seed, fleetSeed);
    try {
      plan.push({ seed, config, predictedS: await predictRunSeconds(config) });
    } catch (e) {
      if (e instanceof InputError)
        throw new InputError(`seed ${seed}${fleetSeed !== null ? ` (fleet of seed ${fleetSeed})` : ''}: ${e.message}`);
      throw e;
    }
  }
  return plan;
}

export async function runCampaign(base: ExperimentConfig, opts: CampaignOptions): Promise<CampaignResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const seeds = opts.seeds;
  const fixedFleet = Boolean(opts.fixedFleet);
  checkCampaignSeeds(base, seeds);
  const label = opts.label ? `${opts.label} ` : '';
  const plan = await planCampaign(base, seeds, fixedFleet);
  claimFolder(opts.out, base, seeds, fixedFleet, fixedFleet ? seeds[0] : null);
  const tracker = opts.tracker ?? new WorkTracker();
  // Complete seeds are skipped: they cost nothing, and a campaign with nothing left estimates nothing.
  const states = new Map(plan.map((p) => [p.seed, seedState(seedFolder(opts.out, p.seed), p.config)]));
  for (const p of plan) tracker.plan(seedKey(label, p.seed), states.get(p.seed) === 'complete' ? 0 : p.predictedS);
  // A shared tracker (sweep, paper) reports the plan of the whole work itself.
  if (!opts.tracker) {
    const complete = plan.filter((p) => states.get(p.seed) === 'complete').length;
    log(planLine(label, seeds.length, complete, opts.out, tracker));
  }
  const result: CampaignResult = {
    out: opts.out,
    seeds,
    ran: [],
    resumed: [],
    skipped: [],
    interrupted: false,
    summary: null,
    aggregate: [],
    files: [],
    warnings: [],
  };
  const ctx: SeedRunContext = { opts, label, log, tracker, result };
  for (const { seed, config } of plan) {
    if (opts.signal?.aborted) {
      result.interrupted = true;
      return result;
    }
    if (!(await runSeed(ctx, seed, config, states.get(seed)!))) return result;
  }
  const written = await writeCampaignOutputs(opts.out, base, seeds, {
    fixedFleet,
    report: opts.report ?? true,
    fonts: opts.fonts,
  });
  Object.assign(result, { summary: written.summary, aggregate: written.aggregate, files: written.files });
  result.warnings.push(...written.warnings);
  return result;
}

function checkCampaignSeeds(base: ExperimentConfig, seeds: readonly number[]): void {
  if (seeds.length === 0) throw new InputError('a campaign needs at least one seed');
  if (new Set(seeds).size !== seeds.length) throw new InputError('a campaign lists each seed once');
  if (base.external) throw new InputError('a campaign spawns its learners: --external cannot be combined with --seeds');
}

/** A seed's name in log lines, events and tracker keys, e.g. "K=10 T=30 seed 3". */
const seedKey = (label: string, seed: number) => `${label}seed ${seed}`;

/** The campaign's opening log line: how many seeds, how many already complete, how long the rest should take. */
function planLine(label: string, seeds: number, complete: number, out: string, tracker: WorkTracker): string {
  if (complete === seeds) return `${label}all ${seeds} seeds are complete in ${out}: nothing to run`;
  return (
    `${label}${seeds} seed${seeds > 1 ? 's' : ''} planned${complete ? ` (${complete} complete, skipped)` : ''}; ` +
    `estimated total ≈ ${formatDuration(tracker.remainingS())} (prior estimate, refined after the first seed)`
  );
}

interface SeedRunContext {
  opts: CampaignOptions;
  label: string;
  log: (line: string) => void;
  tracker: WorkTracker;
  /** what the campaign did so far: each seed is added to it */
  result: CampaignResult;
}

/** Run, resume or skip one seed and record it in ctx.result; false when its run was interrupted. */
async function runSeed(ctx: SeedRunContext, seed: number, config: ExperimentConfig, state: SeedState) {
  const { opts, label, log, tracker, result } = ctx;
  const dir = seedFolder(opts.out, seed);
  const key = seedKey(label, seed);
  if (state === 'complete') {
    result.skipped.push(seed);
    tracker.finish(key, 0, false);
    log(`${key}: complete in ${dir}, skipped · ${tracker.status()}`);
    return true;
  }
  log(`${key}: ${state === 'partial' ? 'resuming' : 'starting'} in ${dir}`);
  const started = monotonicSeconds();
  const run = await runExperiment(config, {
    out: dir,
    resume: state === 'partial',
    log: (line) => log(`[${key}] ${line}`),
    onEvent: opts.onEvent && ((e) => opts.onEvent!(e, key)),
    signal: opts.signal,
  });
  (state === 'partial' ? result.resumed : result.ran).push(seed);
  if (run.interrupted) {
    result.interrupted = true;
    log(`${key}: interrupted; completed cycles are kept in ${dir}`);
    return false;
  }
  tracker.finish(key, monotonicSeconds() - started, state === 'new');
  if (opts.seedReports) await renderSeedReport(dir, seed, opts.fonts, result.warnings);
  log(`${key}: done · ${tracker.status()}`);
  return true;
}

/** A seed's own report; a failure is a warning, not the end of the campaign. */
async function renderSeedReport(dir: string, seed: number, fonts: FontOptions | undefined, warnings: string[]) {
  try {
    const { renderRunReport } = await import('../report/index.ts');
    await renderRunReport(dir, { fontFiles: fonts?.fontFiles, systemFonts: fonts?.systemFonts });
  } catch (e) {
    warnings.push(`seed ${seed}: report not rendered (${(e as Error).message})`);
  }
}
