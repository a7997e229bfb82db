/**
 * Read and validate one run folder written by `npm run experiment` (formats: src/run-folder/).
 * Every problem becomes a ReportInputError naming the file, so the CLI can print one clear line.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ReportInputError } from './errors.ts';
import { parseCycles, parseLearners, parseWallPhases, validateSummary } from '../run-folder/read.ts';
import type { CycleRow, LearnerRow, RunSummaryRead, WallPhaseRow } from '../run-folder/schema.ts';

export interface RunData {
  dir: string;
  config: Record<string, unknown>;
  /** The cycle deadline T from config.json (s). */
  deadlineS: number;
  cycles: CycleRow[];
  learners: LearnerRow[];
  summary: RunSummaryRead;
  /** wall_phases.csv rows; null when the file is absent (virtual clock). */
  wallPhases: WallPhaseRow[] | null;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'missing' : code === 'EISDIR' ? 'is a directory' : `unreadable (${code ?? (e as Error).message})`;
    throw new ReportInputError(`${file}: ${why}`, file);
  }
}

async function readJsonObject(file: string): Promise<Record<string, unknown>> {
  const text = await readText(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ReportInputError(`${file}: malformed JSON (${(e as Error).message})`, file);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ReportInputError(`${file}: expected a JSON object`, file);
  return value as Record<string, unknown>;
}

/** Load every file of a run folder; throws ReportInputError naming the first bad file. */
export async function loadRunFolder(dir: string): Promise<RunData> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new ReportInputError(`${dir}: run folder not found`, dir);
  if (!info.isDirectory()) throw new ReportInputError(`${dir}: not a folder`, dir);
  const file = (name: string) => path.join(dir, name);

  const config = await readJsonObject(file('config.json'));
  const deadlineS = config.T;
  if (typeof deadlineS !== 'number' || !(deadlineS > 0))
    throw new ReportInputError(`${file('config.json')}: "T" (cycle deadline, s) must be a positive number, got ${JSON.stringify(deadlineS)}`, file('config.json'));
  const cycles = parseCycles(await readText(file('cycles.csv')), file('cycles.csv'));
  if (cycles.length === 0) throw new ReportInputError(`${file('cycles.csv')}: no cycle rows`, file('cycles.csv'));
  const learners = parseLearners(await readText(file('learners.csv')), file('learners.csv'));
  const summary = validateSummary(await readJsonObject(file('summary.json')), file('summary.json'));
  // Only real-clock runs write wall_phases.csv.
  const wallText = await readText(file('wall_phases.csv')).catch((e: unknown) => {
    if (e instanceof ReportInputError && e.message.endsWith(': missing')) return null;
    throw e;
  });
  const wallPhases = wallText === null ? null : parseWallPhases(wallText, file('wall_phases.csv'));
  return { dir, config, deadlineS, cycles, learners, summary, wallPhases };
}
