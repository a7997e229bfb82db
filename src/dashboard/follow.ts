/**
 * `npm run dashboard -- FOLDER`: the events.jsonl files of a run folder, or of every run in a
 * campaign or sweep folder, read as they grow (another process, or another machine writing to a
 * shared disk, may still be appending) and folded into the dashboard's state.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RunEvent } from '../orchestrator/events.ts';
import { EVENTS_FILE } from '../run-folder/schema.ts';
import type { DashboardState } from './state.ts';

/** How deep run folders sit under the folder given: a sweep's E<budget>/K<K>-T<T>/seed-<S>/. */
const MAX_DEPTH = 3;
const CHUNK = 1 << 20;

/** Metric labels of a run from its place in a campaign or sweep folder ("K10-T12/seed-3"). */
export function labelsOfPath(id: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of id.split('/')) {
    const seed = /^seed-(\d+)$/.exec(part);
    const cell = /^K(\d+)-T([\d.]+)$/.exec(part);
    const budget = /^E([\d.]+)$/.exec(part);
    if (seed) labels.seed = seed[1];
    if (cell) labels.cell = `K=${cell[1]} T=${cell[2]}`;
    if (budget) labels.energy_j = budget[1];
  }
  return labels;
}

/** Metric labels of a run from a campaign's or sweep's run label ("K=10 T=12 seed 3"). */
export function labelsOfRunLabel(label: string): Record<string, string> {
  const m = /^(?:(.*) )?seed (\d+)$/.exec(label);
  if (!m) return label ? { run: label } : {};
  return m[1] ? { cell: m[1], seed: m[2] } : { seed: m[2] };
}

/** Folders under `root` (itself included) that hold an events file, as ids relative to root. */
function eventFolders(root: string, depth = 0): string[] {
  const here = existsSync(join(root, EVENTS_FILE)) ? [root] : [];
  if (depth >= MAX_DEPTH) return here;
  let entries: string[] = [];
  try {
    entries = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'checkpoints' && e.name !== 'logs')
      .map((e) => e.name)
      .sort();
  } catch {
    return here;
  }
  return [...here, ...entries.flatMap((name) => eventFolders(join(root, name), depth + 1))];
}

interface Followed {
  path: string;
  offset: number;
  /** bytes after the last newline: a line still being written */
  rest: Buffer;
}

export class EventsFollower {
  private readonly files = new Map<string, Followed>();
  private timer?: NodeJS.Timeout;
  /** lines that were not events (warned once per file) */
  private readonly badFiles = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly state: DashboardState,
    private readonly warn: (line: string) => void = () => {},
  ) {
    this.planCampaign();
  }

  /** A campaign folder: its seeds are shown before their runs start. */
  private planCampaign(): void {
    const file = join(this.root, 'campaign.json');
    if (!existsSync(file)) return;
    try {
      const c = JSON.parse(readFileSync(file, 'utf8'));
      for (const seed of c.seeds as number[])
        this.state.plan(`seed-${seed}`, { seed: String(seed) }, c.base.cycles * c.base.schemes.length);
    } catch {
      // not readable yet (being written): the runs show up from their events
    }
  }

  /** Reads what every events file gained since the last call (new files included); true if any event came. */
  poll(): boolean {
    let changed = false;
    for (const dir of eventFolders(this.root)) {
      const id = relative(this.root, dir);
      if (!this.files.has(id)) this.files.set(id, { path: join(dir, EVENTS_FILE), offset: 0, rest: Buffer.alloc(0) });
      changed = this.readNew(id, this.files.get(id)!) || changed;
    }
    return changed;
  }

  start(everyMs: number, onChange: () => void): void {
    this.timer = setInterval(() => {
      if (this.poll()) onChange();
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private readNew(id: string, f: Followed): boolean {
    let size: number;
    try {
      size = statSync(f.path).size;
    } catch {
      return false; // removed meanwhile
    }
    if (size < f.offset) {
      // A new run replaced the file: start over.
      this.state.forget(id);
      Object.assign(f, { offset: 0, rest: Buffer.alloc(0) });
    }
    if (size === f.offset) return false;
    const fd = openSync(f.path, 'r');
    const chunks: Buffer[] = [f.rest];
    try {
      while (f.offset < size) {
        const buf = Buffer.alloc(Math.min(CHUNK, size - f.offset));
        const n = readSync(fd, buf, 0, buf.length, f.offset);
        if (n === 0) break;
        chunks.push(buf.subarray(0, n));
        f.offset += n;
      }
    } finally {
      closeSync(fd);
    }
    const data = Buffer.concat(chunks);
    const end = data.lastIndexOf(0x0a);
    f.rest = Buffer.from(data.subarray(end + 1));
    if (end < 0) return false;
    let any = false;
    for (const line of data.subarray(0, end).toString('utf8').split('\n'))
      any = this.applyLine(id, f.path, line) || any;
    return any;
  }

  private applyLine(id: string, path: string, line: string): boolean {
    if (line.trim() === '') return false;
    let parsed: { ts?: unknown; type?: unknown } & Record<string, unknown>;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = {};
    }
    const at = typeof parsed.ts === 'string' ? Date.parse(parsed.ts) : NaN;
    if (typeof parsed.type !== 'string' || !Number.isFinite(at)) {
      if (!this.badFiles.has(path))
        this.warn(`warning: ${path} has lines that are not events (no "type" or "ts"); they are skipped`);
      this.badFiles.add(path);
      return false;
    }
    const { ts: _ts, ...event } = parsed;
    try {
      this.state.apply(id, event as unknown as RunEvent, at, labelsOfPath(id));
    } catch (e) {
      // A line of another version, or damaged: it lacks a field this one needs.
      this.warn(
        `warning: ${path}: skipped a "${parsed.type}" event this version cannot read (${(e as Error).message})`,
      );
      return false;
    }
    return true;
  }
}
