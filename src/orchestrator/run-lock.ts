/**
 * The run folder before anything starts: it must be creatable and writable, must not hold a
 * finished cycle of another run (or someone else's config.json), and is locked for this process —
 * two orchestrators appending to the same folder would write every remaining cycle twice.
 * The lock file names its holder's pid; a lock whose pid is dead (a SIGKILLed run) is stale and
 * taken over.
 */
import {
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import type { ExperimentConfig } from './config.ts';
import { EVENTS_FILE } from '../run-folder/schema.ts';

export const LOCK_FILE = 'run.lock';

interface LockHolder {
  pid: number;
  hostname: string;
  started_at: string;
}

export interface RunFolderLock {
  readonly dir: string;
  /** Set when a dead run's lock was taken over (worth a log line). */
  readonly staleHolder: LockHolder | null;
  /** Drops the lock and the learner commands; removes the folder too if this process created it and it is now empty. */
  release(): void;
}

/** An errno as the user would fix it. */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder (ENOTDIR)';
    case 'ENOENT':
      return 'a parent folder does not exist and cannot be created there (ENOENT)';
    case 'EEXIST':
      return 'it exists and is not a folder (EEXIST)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${err.code})`;
    case 'EROFS':
      return 'read-only file system (EROFS)';
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left on the device (${err.code})`;
    default:
      return err.message ?? String(e);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, just not ours
  }
}

/** Writes all of `bytes` (writeSync may write fewer than asked). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8'));
    return Number.isInteger(h?.pid) ? h : null;
  } catch {
    return null;
  }
}

/** A config.json a run wrote (not some other tool's file of the same name). */
export function isRunConfig(value: unknown): value is ExperimentConfig {
  const c = value as Record<string, unknown> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    Number.isInteger(c.K) &&
    typeof c.T === 'number' &&
    Number.isInteger(c.cycles) &&
    Array.isArray(c.schemes) &&
    Number.isInteger(c.train_samples) &&
    typeof c.params === 'object' &&
    c.params !== null
  );
}

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

function checkNewRunFolder(dir: string): void {
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

/**
 * mkdir -p, one level at a time: Node's mkdir({ recursive: true }) never returns where mkdir
 * fails with ENOENT under an existing parent (e.g. anywhere in /proc).
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) mkdirSync(d);
}

/**
 * Creates `dir` if needed, proves it writable and locks it; for a new run also refuses a folder
 * holding a run or a foreign config.json. Every failure is an InputError naming the folder.
 */
export function lockRunFolder(dir: string, opts: { resume: boolean }): RunFolderLock {
  const created = !existsSync(dir);
  try {
    makeDirs(dir);
  } catch (e) {
    throw new InputError(`cannot create the run folder ${dir}: ${fsReason(e)}`);
  }
  if (!statSync(dir).isDirectory()) throw new InputError(`--out ${dir} is a file, not a folder`);
  const lockPath = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, hostname: os.hostname(), started_at: new Date().toISOString() };
  // Written whole under a private name, then linked into place: link() fails if the lock exists,
  // so the lock never exists half-written and exactly one process gets it.
  const tmp = `${lockPath}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, Buffer.from(JSON.stringify(me) + '\n'));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot write in the run folder ${dir}: ${code === 'ENOENT' ? 'this file system does not take new files (ENOENT)' : fsReason(e)}`,
    );
  }
  let staleHolder: LockHolder | null = null;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, lockPath);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new InputError(`cannot write in the run folder ${dir}: ${fsReason(e)}`);
      }
      const holder = readHolder(lockPath);
      const stale = holder !== null && holder.hostname === me.hostname && !alive(holder.pid);
      if (!stale || attempt > 0) {
        const who = holder
          ? `pid ${holder.pid}${holder.hostname !== me.hostname ? ` on ${holder.hostname}` : ''}, since ${holder.started_at}`
          : 'an unreadable lock';
        throw new InputError(
          `${dir} is in use by another run (${who}); wait for it to end, or delete ${lockPath} if no run is using the folder`,
        );
      }
      staleHolder = holder;
      unlinkSync(lockPath);
    }
  } finally {
    unlinkSync(tmp);
  }

  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    if (readHolder(lockPath)?.pid === process.pid) unlinkSync(lockPath);
    rmSync(join(dir, LEARNER_COMMANDS_FILE), { force: true }); // the run's token is of no use once it ended
    // A folder holding only the events of a session that failed before anything else: still empty.
    if (created && readdirSync(dir).every((name) => name === EVENTS_FILE)) {
      rmSync(join(dir, EVENTS_FILE), { force: true });
      rmdirSync(dir);
    }
  };
  process.on('exit', release); // error paths that end the process still free the folder
  try {
    if (!opts.resume) checkNewRunFolder(dir);
    else refuseLinks(dir);
  } catch (e) {
    release();
    throw e;
  }
  return { dir, staleHolder, release };
}

/**
 * A resumed run appends to, replaces and deletes files in its folder: none of them may lead out of
 * it. A symbolic link among them (config.json, the CSVs, checkpoints and what they hold, logs) is
 * refused rather than followed.
 */
function refuseLinks(dir: string): void {
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
