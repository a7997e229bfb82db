/**
 * Read and validate one run folder written by `npm run experiment`. Every problem becomes a
 * ReportInputError naming the file, so the CLI can print one clear line.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FieldReader, parseCsv } from './csv.ts';
import { ReportInputError } from './errors.ts';

export const CYCLES_HEADER = [
  'scheme', 'cycle', 'tau', 'test_accuracy', 'test_loss', 'emulated_time_s', 'max_learner_time_s', 'late_learners', 'wall_time_s',
] as const;
export const LEARNERS_HEADER = [
  'scheme', 'cycle', 'learner', 'f_hz', 'rate_bps', 'batch', 't_send_s', 't_compute_s', 't_return_s', 't_total_s', 'late',
] as const;

/** wall_phases.csv (real clock only); must equal the writer's WALL_HEADER (src/orchestrator/run-files.ts). */
export const WALL_PHASES_HEADER = ['scheme', 'cycle', 'learner', 'wall_send_s', 'wall_compute_s', 'wall_return_s', 'train_wall_s', 'overrun_s'] as const;

/** The paper's Fig. 2 accuracy levels (fractions): cycles to reach them are the headline metric. */
export const ACCURACY_TARGETS = [0.9667, 0.97] as const;

export interface CycleRow {
  scheme: string;
  cycle: number;
  tau: number;
  testAccuracy: number; // fraction in [0, 1]
  testLoss: number;
  emulatedTimeS: number;
  maxLearnerTimeS: number;
  lateLearners: number;
  wallTimeS: number;
}

export type LearnerStatus = 'on-time' | 'late' | 'missing';

export interface LearnerRow {
  scheme: string;
  cycle: number;
  learner: number;
  fHz: number;
  rateBps: number;
  batch: number; // samples; 0 = sat the cycle out
  tSendS: number | null; // null only for missing learners / learners that sat out
  tComputeS: number | null; // all τ local iterations
  tReturnS: number | null;
  tTotalS: number | null;
  status: LearnerStatus;
}

/** Measured wall time of one learner's cycle (real clock); the emulated times are in its LearnerRow. */
export interface WallPhaseRow {
  scheme: string;
  cycle: number;
  learner: number;
  wallSendS: number;
  /** training plus the padding that holds it to its emulated speed */
  wallComputeS: number;
  wallReturnS: number;
  /** training alone; null when not reported */
  trainWallS: number | null;
  /** real training beyond its (scaled) emulated budget; 0 when the host kept up */
  overrunS: number | null;
}

export interface SchemeSummary {
  final_accuracy: number;
  best_accuracy?: number;
  cycles_to_96_67: number | null;
  cycles_to_97: number | null;
  mean_tau: number;
  late_learner_cycles: number;
  missing_learner_cycles: number;
}

export interface RunSummary {
  schemes: Record<string, SchemeSummary>;
  [other: string]: unknown;
}

export interface RunData {
  dir: string;
  config: Record<string, unknown>;
  /** The cycle deadline T from config.json (s). */
  deadlineS: number;
  cycles: CycleRow[];
  learners: LearnerRow[];
  summary: RunSummary;
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

export function parseCycles(text: string, file: string): CycleRow[] {
  return parseCsv(text, file, CYCLES_HEADER).map((rec) => {
    const r = new FieldReader(file, rec);
    return {
      scheme: r.text('scheme'),
      cycle: r.integer('cycle', 1),
      tau: r.integer('tau', 0),
      testAccuracy: r.number('test_accuracy', 0, 1),
      testLoss: r.number('test_loss', 0),
      emulatedTimeS: r.number('emulated_time_s', 0),
      maxLearnerTimeS: r.number('max_learner_time_s', 0),
      lateLearners: r.integer('late_learners', 0),
      wallTimeS: r.number('wall_time_s', 0),
    };
  });
}

export function parseLearners(text: string, file: string): LearnerRow[] {
  return parseCsv(text, file, LEARNERS_HEADER).map((rec) => {
    const r = new FieldReader(file, rec);
    const late = r.oneOf('late', ['0', '1', 'missing'] as const);
    const batch = r.integer('batch', 0);
    // Only a learner that never reported (or had nothing to do) may lack its times.
    const mayBeEmpty = late === 'missing' || batch === 0;
    const time = (c: string) => (mayBeEmpty ? r.optionalNumber(c, 0) : r.number(c, 0));
    return {
      scheme: r.text('scheme'),
      cycle: r.integer('cycle', 1),
      learner: r.integer('learner', 0),
      fHz: r.number('f_hz', 0),
      rateBps: r.number('rate_bps', 0),
      batch,
      tSendS: time('t_send_s'),
      tComputeS: time('t_compute_s'),
      tReturnS: time('t_return_s'),
      tTotalS: time('t_total_s'),
      status: late === '1' ? 'late' : late === 'missing' ? 'missing' : 'on-time',
    };
  });
}

export function parseWallPhases(text: string, file: string): WallPhaseRow[] {
  return parseCsv(text, file, WALL_PHASES_HEADER).map((rec) => {
    const r = new FieldReader(file, rec);
    return {
      scheme: r.text('scheme'),
      cycle: r.integer('cycle', 1),
      learner: r.integer('learner', 0),
      wallSendS: r.number('wall_send_s', 0),
      wallComputeS: r.number('wall_compute_s', 0),
      wallReturnS: r.number('wall_return_s', 0),
      trainWallS: r.optionalNumber('train_wall_s', 0),
      overrunS: r.optionalNumber('overrun_s', 0),
    };
  });
}

const SUMMARY_NUMBERS = ['final_accuracy', 'mean_tau', 'late_learner_cycles', 'missing_learner_cycles'] as const;
const SUMMARY_NULLABLE = ['cycles_to_96_67', 'cycles_to_97'] as const;

export function validateSummary(value: Record<string, unknown>, file: string): RunSummary {
  const schemes = value.schemes;
  if (schemes === null || typeof schemes !== 'object' || Array.isArray(schemes))
    throw new ReportInputError(`${file}: "schemes" must be an object keyed by scheme name`, file);
  for (const [name, s] of Object.entries(schemes as Record<string, unknown>)) {
    if (s === null || typeof s !== 'object') throw new ReportInputError(`${file}: schemes.${name} must be an object`, file);
    const o = s as Record<string, unknown>;
    for (const k of SUMMARY_NUMBERS)
      if (typeof o[k] !== 'number') throw new ReportInputError(`${file}: schemes.${name}.${k} must be a number, got ${JSON.stringify(o[k])}`, file);
    for (const k of SUMMARY_NULLABLE)
      if (o[k] !== null && typeof o[k] !== 'number')
        throw new ReportInputError(`${file}: schemes.${name}.${k} must be a number or null, got ${JSON.stringify(o[k])}`, file);
    if (o.best_accuracy !== undefined && typeof o.best_accuracy !== 'number')
      throw new ReportInputError(`${file}: schemes.${name}.best_accuracy must be a number`, file);
  }
  return value as RunSummary;
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
