/**
 * Crash-safe run folder writes: JSON files are written to a temporary name and renamed (a reader
 * never sees half a file); CSV rows are appended and fsync'ed when their cycle ends, so a
 * killed run keeps every completed cycle.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

// The readers (src/report/run-folder.ts) own the headers; the writer uses the same constants.
export { CYCLES_HEADER, LEARNERS_HEADER } from '../report/run-folder.ts';
export const WALL_HEADER = ['scheme', 'cycle', 'learner', 'wall_send_s', 'wall_compute_s', 'wall_return_s', 'train_wall_s', 'overrun_s'] as const;

export type CsvValue = string | number | null | undefined;

export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

function formatCell(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** An append-only CSV file whose rows reach the disk when `flush()` returns. */
export class CsvAppender {
  private buffered: string[] = [];

  constructor(
    readonly path: string,
    readonly header: readonly string[],
  ) {
    if (!existsSync(path)) writeFileAtomic(path, header.join(',') + '\n');
  }

  add(row: Record<string, CsvValue>): void {
    this.buffered.push(this.header.map((h) => formatCell(row[h])).join(',') + '\n');
  }

  flush(): void {
    if (this.buffered.length === 0) return;
    const fd = openSync(this.path, 'a');
    try {
      writeSync(fd, this.buffered.join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.buffered = [];
  }

  /** Keep only the header and the data lines `keep` accepts (used by --resume to drop an unfinished cycle). */
  rewrite(keep: (cells: string[]) => boolean): void {
    const lines = readFileSync(this.path, 'utf8').split('\n').filter((l) => l.length > 0);
    const kept = [lines[0], ...lines.slice(1).filter((l) => keep(l.split(',')))];
    writeFileAtomic(this.path, kept.join('\n') + '\n');
  }
}
