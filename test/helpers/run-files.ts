/** A run folder's CSV files read through the run-folder schema's readers — the code the report and --resume use. */
import { readFileSync } from 'node:fs';
import { splitCsvLine } from '../../src/run-folder/csv.ts';
import { join } from 'node:path';
import { parseCycles, parseLearners, parseWallPhases } from '../../src/run-folder/read.ts';
import type { CycleRow, LearnerRow, WallPhaseRow } from '../../src/run-folder/schema.ts';

const read = <T>(parse: (text: string, file: string) => T[], dir: string, name: string): T[] => {
  const file = join(dir, name);
  return parse(readFileSync(file, 'utf8'), file);
};

export const readCycles = (dir: string): CycleRow[] => read(parseCycles, dir, 'cycles.csv');
export const readLearners = (dir: string): LearnerRow[] => read(parseLearners, dir, 'learners.csv');
export const readWallPhases = (dir: string): WallPhaseRow[] => read(parseWallPhases, dir, 'wall_phases.csv');

/** cycles.csv without its wall-time column: what a seeded virtual-clock run reproduces exactly. */
export const withoutWall = (rows: CycleRow[]) => rows.map(({ wallTimeS: _wall, ...rest }) => rest);

/** Any CSV we write (aggregate.csv, sweep.csv, …) as objects keyed by its header, through the one CSV reader. */
export function readCsvObjects(path: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const keys = splitCsvLine(head);
  return lines.map((l) => Object.fromEntries(splitCsvLine(l).map((v, i) => [keys[i], v])));
}
