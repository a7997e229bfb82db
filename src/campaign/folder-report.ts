/**
 * `npm run report` on any folder the emulator writes: what kind of folder it is (run, campaign,
 * sweep, or one that has its own report), and the campaign and sweep reports re-rendered from the
 * seeds' cycles.csv — over the seeds complete so far, so a campaign in progress can be looked at.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import type { ExperimentConfig } from '../orchestrator/config.ts';
import type { FontOptions } from '../report/render.ts';
import { runTargets } from '../run-folder/schema.ts';
import { summarizeCampaign, type CampaignSummary } from './aggregate.ts';
import {
  CAMPAIGN_FILE,
  isComplete,
  loadCampaignRuns,
  readSeedCycles,
  seedFolder,
  writeCampaignOutputs,
} from './campaign.ts';
import { writeSweepOutputs, type SweepCell } from './sweep.ts';

export type FolderKind = { kind: 'run' | 'campaign' | 'sweep' } | { kind: 'other'; message: string };

const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
const has = (dir: string, name: string) => existsSync(path.join(dir, name));
const CELL = /^K(\d+)-T(\d+(?:\.\d+)?)$/;

/** Sweep cells: K<K>-T<T>/ folders holding a campaign. */
function cellDirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((e) => CELL.test(e) && has(path.join(dir, e), CAMPAIGN_FILE))
    .map((e) => path.join(dir, e));
}

/** What `dir` is; for a folder the report cannot draw, one line saying what it is and what to run instead. */
export function folderKind(dir: string): FolderKind {
  if (!existsSync(dir)) return { kind: 'other', message: `${dir}: folder not found` };
  if (!isDir(dir))
    return { kind: 'other', message: `${dir}: not a folder; give the folder a run, campaign or sweep wrote` };
  if (has(dir, CAMPAIGN_FILE)) return { kind: 'campaign' };
  if (has(dir, 'config.json')) {
    if (!has(dir, 'cycles.csv'))
      return {
        kind: 'other',
        message: `${dir}: a run folder whose run has not started its first cycle yet (no cycles.csv); try again after its first cycle`,
      };
    return { kind: 'run' };
  }
  if (cellDirs(dir).length > 0) return { kind: 'sweep' };
  const budgets = readdirSync(dir).filter((e) => /^E[\d.]+$/.test(e) && isDir(path.join(dir, e)));
  if (budgets.length > 0 || has(dir, 'energy_sweep.csv'))
    return {
      kind: 'other',
      message: `${dir}: an energy sweep (energy_sweep.csv); each budget is a sweep with its own report: npm run report -- ${path.join(dir, budgets[0] ?? 'E<budget>')}`,
    };
  if (has(dir, 'claims.md'))
    return {
      kind: 'other',
      message: `${dir}: a \`npm run paper\` folder; claims.md is its report, and each panel is a campaign: npm run report -- ${path.join(dir, 'fig2-K20-T12')}`,
    };
  if (has(dir, 'tau_vs_K.csv'))
    return {
      kind: 'other',
      message: `${dir}: a \`npm run fig1\` folder; tau_vs_K.png and tau_vs_T.png are its charts (rerun npm run fig1 -- --out ${dir} to redraw them)`,
    };
  return {
    kind: 'other',
    message: `${dir}: not a run, campaign or sweep folder (no config.json, ${CAMPAIGN_FILE} or K<K>-T<T>/ cells); give the folder \`npm run experiment\` or \`npm run sweep\` printed`,
  };
}

export interface FolderReportOptions {
  outDir?: string;
  fonts?: FontOptions;
  /** accuracy targets (fractions); default: the campaign's own */
  targets?: number[];
}

interface CampaignFolder {
  base: ExperimentConfig;
  seeds: number[];
  fixedFleet: boolean;
  /** seeds whose run is complete, in campaign order */
  complete: number[];
}

/** campaign.json and which seeds are complete; a campaign with none complete yet is refused, naming the seed to look at instead. */
function readCampaignFolder(dir: string, targets: number[] | undefined): CampaignFolder {
  const file = path.join(dir, CAMPAIGN_FILE);
  let saved: { kind?: unknown; base?: unknown; seeds?: unknown; fixed_fleet?: unknown };
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file}: unreadable (${(e as Error).message})`);
  }
  if (
    saved?.kind !== 'mel-campaign' ||
    !Array.isArray(saved.seeds) ||
    typeof saved.base !== 'object' ||
    saved.base === null
  )
    throw new InputError(`${file}: not a campaign file (expected kind "mel-campaign", base and seeds)`);
  const seeds = saved.seeds as number[];
  const base = { ...(saved.base as ExperimentConfig), seed: seeds[0], ...(targets ? { targets } : {}) };
  const complete = seeds.filter((s) => {
    const rows = readSeedCycles(seedFolder(dir, s));
    return rows !== null && isComplete(rows, base);
  });
  if (complete.length === 0)
    throw new InputError(
      `${dir}: a campaign with no complete seed yet; look at the running one with: npm run report -- ${seedFolder(dir, seeds[0])}`,
    );
  return { base, seeds, fixedFleet: Boolean(saved.fixed_fleet), complete };
}

const leftOut = (dir: string, c: CampaignFolder) => {
  const missing = c.seeds.filter((s) => !c.complete.includes(s));
  return missing.length
    ? [
        `${dir}: seed${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not complete yet (campaign in progress?), left out of these statistics`,
      ]
    : [];
};

/** The campaign's aggregate.csv, cycles.csv, summary.json, charts and report.html, over its complete seeds. */
export async function renderCampaignFolder(
  dir: string,
  opts: FolderReportOptions = {},
): Promise<{ files: string[]; warnings: string[]; summary: CampaignSummary }> {
  const c = readCampaignFolder(dir, opts.targets);
  const written = await writeCampaignOutputs(dir, c.base, c.complete, {
    fixedFleet: c.fixedFleet,
    report: true,
    fonts: opts.fonts,
    outDir: opts.outDir,
    warnings: leftOut(dir, c),
  });
  return { files: written.files, warnings: written.warnings, summary: written.summary };
}

/** The sweep's sweep.csv, charts and report.html, from its cells' complete seeds (cells without one are left out). */
export async function renderSweepFolder(
  dir: string,
  opts: FolderReportOptions = {},
): Promise<{ files: string[]; warnings: string[]; cells: SweepCell[] }> {
  const warnings: string[] = [];
  const cells: SweepCell[] = [];
  let first: CampaignFolder | undefined;
  for (const cellDir of cellDirs(dir)) {
    const c = (() => {
      try {
        return readCampaignFolder(cellDir, opts.targets);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        warnings.push(`${cellDir}: no complete seed yet, left out`);
        return null;
      }
    })();
    if (!c) continue;
    first ??= c;
    warnings.push(...leftOut(cellDir, c));
    const runs = loadCampaignRuns(cellDir, c.complete, c.base);
    cells.push({
      K: c.base.K,
      T: c.base.T,
      dir: cellDir,
      status: 'skipped',
      summary: summarizeCampaign(runs, c.base.schemes, runTargets(c.base)),
    });
  }
  if (!first) throw new InputError(`${dir}: a sweep with no cell that has a complete seed yet; try again later`);
  cells.sort((a, b) => a.K - b.K || a.T - b.T);
  const files = await writeSweepOutputs(dir, first.base, cells, first.seeds, {
    report: true,
    fonts: opts.fonts,
    warnings,
    outDir: opts.outDir,
  });
  return { files, warnings, cells };
}
