/**
 * The run folder locked for this process before anything starts: created if needed, proven
 * writable, and (for a new run) checked not to hold another run — two orchestrators appending to the
 * same folder would write every remaining cycle twice. The lock file names its holder's pid; a lock
 * whose pid is dead (a SIGKILLed run) is stale and taken over.
 */
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../../errors.ts';
import { EVENTS_FILE } from '../../run-folder/schema.ts';
import { fsReason, writeAll } from './run-files.ts';
import { checkNewRunFolder, LEARNER_COMMANDS_FILE, LOCK_FILE, refuseLinks } from './run-folder-contents.ts';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, just not ours
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8'));
    return Number.isInteger(h?.pid) ? h : null;
  } catch {
    return null;
  }
}

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
  const created = createFolder(dir);
  const lockPath = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, hostname: os.hostname(), started_at: new Date().toISOString() };
  // Written whole under a private name, then linked into place: link() fails if the lock exists,
  // so the lock never exists half-written and exactly one process gets it.
  const tmp = `${lockPath}.${process.pid}.tmp`;
  writeCandidate(dir, tmp, me);
  let staleHolder: LockHolder | null;
  try {
    staleHolder = linkLock(dir, tmp, lockPath, me);
  } finally {
    unlinkSync(tmp);
  }
  const release = releaser(dir, lockPath, created);
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

/** mkdir -p `dir`; whether this call created it. */
function createFolder(dir: string): boolean {
  const created = !existsSync(dir);
  try {
    makeDirs(dir);
  } catch (e) {
    throw new InputError(`cannot create the run folder ${dir}: ${fsReason(e)}`);
  }
  if (!statSync(dir).isDirectory()) throw new InputError(`--out ${dir} is a file, not a folder`);
  return created;
}

/** The lock's content under its private name: also the proof that the folder takes new files. */
function writeCandidate(dir: string, tmp: string, me: LockHolder): void {
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
}

/** Links the candidate into place, taking over a stale lock once; the stale holder, or null. */
function linkLock(dir: string, tmp: string, lockPath: string, me: LockHolder): LockHolder | null {
  let staleHolder: LockHolder | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      linkSync(tmp, lockPath);
      return staleHolder;
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
}

/** The lock's release: once only; it also unregisters itself from the process's exit. */
function releaser(dir: string, lockPath: string, created: boolean): () => void {
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
  return release;
}
