/**
 * Crash-safe run folder writes: JSON files are written to a temporary name and renamed (a reader
 * never sees half a file); CSV rows are appended and fsync'ed when their cycle ends, so a
 * killed run keeps every completed cycle.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../../errors.ts';
import { formatCsvCell, splitCsvLine, type CsvValue } from '../../run-folder/csv.ts';

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

/** Writes all of `bytes` (writeSync may write fewer than asked). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}

/**
 * Writes `content` to `path` so that a reader sees the old file or the whole new one, never part.
 * A failed write (a full disk) removes its temp file and names `path`; ENOSPC is the user's to
 * fix (InputError), and the completed cycles already on disk stay as they were.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(path, e);
  }
  syncDir(dirname(path));
}

/** The rename itself reaches the disk only when the folder is synced (best effort: not every file system can). */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // e.g. EISDIR/EINVAL where folders cannot be fsync'ed
  }
}

function writeError(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EACCES' || code === 'EPERM')
    return new InputError(
      `cannot write ${path}: ${fsReason(e)}; completed cycles are kept — free space or fix permissions, then --resume`,
    );
  return new Error(`cannot write ${path}: ${(e as Error).message}`);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** An append-only CSV file whose rows reach the disk when `flush()` returns. */
export class CsvAppender {
  private buffered: string[] = [];

  /** `upgradeRow`: how an older file's row (its cells by column, the new ones empty) reads in today's columns. */
  constructor(
    readonly path: string,
    readonly header: readonly string[],
    private readonly upgradeRow?: (cells: Record<string, string>) => Record<string, string>,
  ) {
    if (!existsSync(path)) writeFileAtomic(path, header.join(',') + '\n');
    else this.upgradeHeader();
  }

  /**
   * A file an older version wrote (resumed now) may lack trailing columns added since: it gets
   * them (empty, or as upgradeRow says), so every row keeps one header and one encoding. Any other
   * header is not ours to append to.
   */
  private upgradeHeader(): void {
    const [head, ...rows] = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    const got = (head ?? '').split(',');
    if (got.join(',') === this.header.join(',')) return;
    const isPrefix = got.length < this.header.length && got.every((h, i) => h === this.header[i]);
    if (!isPrefix)
      throw new InputError(
        `${this.path}: header is "${head}", expected "${this.header.join(',')}"; not a file this version can continue`,
      );
    const pad = ','.repeat(this.header.length - got.length);
    const upgrade = this.upgradeRow;
    const upgraded = upgrade
      ? rows.map((r) => {
          const fields = splitCsvLine(r);
          const cells = Object.fromEntries(this.header.map((h, i) => [h, fields[i] ?? '']));
          const next = upgrade(cells);
          return this.header.map((h) => formatCsvCell(next[h])).join(',');
        })
      : rows.map((r) => r + pad);
    writeFileAtomic(this.path, [this.header.join(','), ...upgraded].join('\n') + '\n');
  }

  add(row: Record<string, CsvValue>): void {
    this.buffered.push(this.header.map((h) => formatCsvCell(row[h])).join(',') + '\n');
  }

  flush(): void {
    if (this.buffered.length === 0) return;
    try {
      const fd = openSync(this.path, 'a');
      const size = fstatSync(fd).size;
      try {
        writeAll(fd, Buffer.from(this.buffered.join(''), 'utf8'));
        fsyncSync(fd);
      } catch (e) {
        // Half a row would make the file unreadable: cut it back to the last complete one.
        try {
          ftruncateSync(fd, size);
        } catch {
          // the error below still names the file
        }
        throw e;
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw writeError(this.path, e);
    }
    this.buffered = [];
  }

  /** Keep only the header and the data lines `keep` accepts (used by --resume to drop an unfinished cycle). */
  rewrite(keep: (cells: string[]) => boolean): void {
    const lines = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    const kept = [lines[0], ...lines.slice(1).filter((l) => keep(splitCsvLine(l)))];
    writeFileAtomic(this.path, kept.join('\n') + '\n');
  }
}
