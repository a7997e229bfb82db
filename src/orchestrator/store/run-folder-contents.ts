/**
 * What a run folder holds: the files a run writes, whether a folder already holds a run (or someone
 * else's files), and what a resumed run may safely touch in it.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.ts';
import { isRunConfig } from '../../run-folder/run-config.ts';

/** The lock a running orchestrator holds on its folder (run-lock.ts). */
export const LOCK_FILE = 'run.lock';

/** Written while a run waits for external learners; it holds the token, and is removed when the run ends. */
export const LEARNER_COMMANDS_FILE = 'learner-commands.txt';

/** What a run writes before its config.json: learner logs, the lock and the learner commands. */
const BEFORE_START_FILES = ['logs', LOCK_FILE, LEARNER_COMMANDS_FILE];

/** What a new run replaces when a run's config.json shows an earlier attempt that completed no cycle. */
export const RUN_FILES = [
  'cycles.csv',
  'learners.csv',
  'wall_phases.csv',
  'summary.json',
  'sessions.json',
  'checkpoints',
];

/** Data rows of cycles.csv (0 when there is no such file): a folder with any holds a run. */
export function committedCycleRows(dir: string): number {
  const path = join(dir, 'cycles.csv');
  if (!existsSync(path)) return 0;
  return (
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0).length - 1
  );
}

/** A new run may start here: the folder holds no run, no foreign files, and at most a run's config.json. */
export function checkNewRunFolder(dir: string): void {
  if (committedCycleRows(dir) > 0)
    throw new InputError(`${dir} already holds a run; choose another --out or continue it with --resume ${dir}`);
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) {
    // Without a run's config.json, files of these names are someone else's: never replace them.
    const theirs = RUN_FILES.filter((f) => existsSync(join(dir, f)));
    if (theirs.length)
      throw new InputError(
        `${dir} holds ${theirs.join(', ')} but no run; refusing to overwrite them — choose another --out`,
      );
    // Nor mix a run into a folder of other files: only what an attempt that never started leaves is ours.
    const others = readdirSync(dir).filter((f) => !BEFORE_START_FILES.includes(f) && !f.startsWith(`${LOCK_FILE}.`));
    if (others.length)
      throw new InputError(
        `${dir} is not empty and holds no run (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}); choose a new or empty folder for --out`,
      );
    return;
  }
  let config: unknown = null;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch {
    // not JSON: certainly not ours
  }
  if (!isRunConfig(config))
    throw new InputError(
      `${configPath} exists and is not a run's config; refusing to overwrite it — choose another --out`,
    );
}

/**
 * A resumed run appends to, replaces and deletes files in its folder: none of them may lead out of
 * it. A symbolic link among them (config.json, the CSVs, checkpoints and what they hold, logs) is
 * refused rather than followed.
 */
export function refuseLinks(dir: string): void {
  const linked = (path: string) => {
    try {
      return lstatSync(path).isSymbolicLink();
    } catch {
      return false; // absent
    }
  };
  const within = (sub: string): string[] => {
    try {
      return readdirSync(join(dir, sub)).map((n) => join(sub, n));
    } catch {
      return [];
    }
  };
  const checkpoints = within('checkpoints').flatMap((scheme) => [scheme, ...within(scheme)]);
  const paths = ['config.json', ...RUN_FILES, 'logs', ...within('logs'), ...checkpoints];
  const link = paths.find((p) => linked(join(dir, p)));
  if (link !== undefined)
    throw new InputError(
      `--resume ${dir}: ${link} is a symbolic link; a resumed run writes only inside its folder — replace the link with a copy`,
    );
}

/** Temp files of writes a killed session never finished (`name.tmp-<pid>`): safe to drop under the lock. */
export function removeStaleTemps(dir: string): void {
  const dirs = [
    dir,
    ...(existsSync(join(dir, 'checkpoints'))
      ? readdirSync(join(dir, 'checkpoints')).map((s) => join(dir, 'checkpoints', s))
      : []),
  ];
  for (const d of dirs) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue; // not a folder
    }
    for (const n of names) if (/\.tmp-\d+$/.test(n)) unlinkSync(join(d, n));
  }
}
