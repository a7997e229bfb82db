/**
 * Read and validate one run folder written by `npm run experiment` (formats: src/run-folder/).
 * Every problem becomes a ReportInputError naming the file, so the CLI can print one clear line.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ReportInputError } from './errors.ts';
import { parseCycles, parseLearners, parseWallPhases, validateSummary } from '../run-folder/read.ts';
import {
  cyclesToKey,
  runTargets,
  timeToKey,
  type CycleRow,
  type LearnerRow,
  type RunSummaryRead,
  type SchemeSummary,
  type WallPhaseRow,
} from '../run-folder/schema.ts';
import { summarizeScheme } from '../run-folder/summary.ts';

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
  /** No summary.json yet (the run is still going, or was killed hard): the summary is computed from the CSV rows so far. */
  inProgress: boolean;
  /** The accuracy targets shown: the report's --targets, else the run's own (config.json `targets`). */
  targets: number[];
}

/** A file that is not there reads as null; any other problem is thrown on. */
const orNullIfMissing = (e: unknown): null => {
  if (e instanceof ReportInputError && e.message.endsWith(': missing')) return null;
  throw e;
};

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'missing'
        : code === 'EISDIR'
          ? 'is a directory'
          : `unreadable (${code ?? (e as Error).message})`;
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
export async function loadRunFolder(dir: string, requestedTargets?: number[]): Promise<RunData> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new ReportInputError(`${dir}: run folder not found`, dir);
  if (!info.isDirectory()) throw new ReportInputError(`${dir}: not a folder`, dir);
  const file = (name: string) => path.join(dir, name);

  const config = await readJsonObject(file('config.json'));
  const deadlineS = config.T;
  if (typeof deadlineS !== 'number' || !(deadlineS > 0))
    throw new ReportInputError(
      `${file('config.json')}: "T" (cycle deadline, s) must be a positive number, got ${JSON.stringify(deadlineS)}`,
      file('config.json'),
    );
  const cycles = parseCycles(await readText(file('cycles.csv')), file('cycles.csv'));
  if (cycles.length === 0)
    throw new ReportInputError(
      `${file('cycles.csv')}: no cycle rows yet (the run has not completed a cycle); try again after its first cycle`,
      file('cycles.csv'),
    );
  const learners = parseLearners(await readText(file('learners.csv')), file('learners.csv'));
  const targets = requestedTargets ?? runTargets(config);
  const computed = summarizeRows(config, cycles, learners, targets);
  const saved = await readJsonObject(file('summary.json')).catch(orNullIfMissing);
  const summary =
    saved === null
      ? { schemes: computed }
      : withTargets(validateSummary(saved, file('summary.json'), runTargets(config)), computed, targets);
  // Only real-clock runs write wall_phases.csv.
  const wallText = await readText(file('wall_phases.csv')).catch(orNullIfMissing);
  const wallPhases = wallText === null ? null : parseWallPhases(wallText, file('wall_phases.csv'));
  return { dir, config, deadlineS, cycles, learners, summary, wallPhases, inProgress: saved === null, targets };
}

/** Each scheme's summary from the CSV rows (as the run computes summary.json), for config.json's schemes, else those in the rows. */
function summarizeRows(
  config: Record<string, unknown>,
  cycles: CycleRow[],
  learners: LearnerRow[],
  targets: number[],
): Record<string, SchemeSummary> {
  const listed = Array.isArray(config.schemes) ? config.schemes.map(String) : [];
  const schemes = listed.length ? listed : [...new Set(cycles.map((c) => c.scheme))];
  const budget = (config.energy as { budget_j?: unknown } | undefined)?.budget_j;
  return Object.fromEntries(
    schemes.map((s) => [
      s,
      summarizeScheme(
        cycles.filter((r) => r.scheme === s),
        learners.filter((r) => r.scheme === s),
        typeof budget === 'number' ? budget : null,
        targets,
      ),
    ]),
  );
}

/** summary.json as written, plus the cycles (and time) to any target it does not hold (report --targets), from the rows. */
function withTargets(
  summary: RunSummaryRead,
  computed: Record<string, SchemeSummary>,
  targets: number[],
): RunSummaryRead {
  const schemes = Object.fromEntries(
    Object.entries(summary.schemes).map(([name, s]) => {
      const extra = Object.fromEntries(
        targets
          .flatMap((t) => [cyclesToKey(t), timeToKey(t)])
          .filter((k) => !(k in s) && computed[name] && k in computed[name])
          .map((k) => [k, computed[name][k as `cycles_to_${string}`]]),
      );
      return [name, { ...s, ...extra }];
    }),
  );
  return { ...summary, schemes };
}
