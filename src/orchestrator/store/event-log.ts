/**
 * events.jsonl: every run event (events.ts) as one JSON line with its time, appended as it
 * happens. Each line is one write to the file, so `tail -f` sees it at once and a crash loses at
 * most the line being written; a resumed session appends to the same file. Format: docs/events.md
 * and docs/events.schema.json.
 */
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { EVENTS_FILE } from '../../run-folder/schema.ts';
import type { RunEvent } from '../events.ts';
import { fsReason, writeAll } from './run-files.ts';

/** One line of events.jsonl: the event's fields after `ts` (ISO 8601, UTC, milliseconds). */
export function eventLine(event: RunEvent, at: Date): string {
  // The token lets a learner join the run: it never goes into a file others may read.
  const shown = event.type === 'listening' ? { ...event, token: undefined } : event;
  return JSON.stringify({ ts: at.toISOString(), ...shown }) + '\n';
}

export class EventLog {
  private fd: number | null;

  /**
   * Opens OUT/events.jsonl for appending (`fresh`: a new run replaces the file an attempt that
   * completed no cycle left). A write that fails (a full disk) is reported once through `warn`
   * and ends the log: the run itself goes on, its results are in the CSV files.
   */
  constructor(
    dir: string,
    opts: { fresh: boolean },
    private readonly warn: (line: string) => void,
  ) {
    this.fd = openSync(join(dir, EVENTS_FILE), opts.fresh ? 'w' : 'a');
  }

  write(event: RunEvent, at = new Date()): void {
    if (this.fd === null) return;
    try {
      writeAll(this.fd, Buffer.from(eventLine(event, at), 'utf8'));
    } catch (e) {
      this.warn(`warning: cannot write ${EVENTS_FILE} (${fsReason(e)}); live events stop here, the run goes on`);
      this.close();
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
