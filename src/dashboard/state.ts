/**
 * What the dashboard knows of the runs it watches, built from their events alone (so a live run
 * and a run folder's events.jsonl give the same picture). Pure: events in, a snapshot out.
 */
import type { LearnerPhase, RunEvent } from '../orchestrator/events.ts';
import type { ExperimentConfig } from '../run-folder/schema.ts';

/** One completed cycle of one scheme. */
export interface CyclePoint {
  cycle: number;
  tau: number;
  accuracy: number;
  loss: number;
  late: number;
  missing: number;
  wall_s: number;
}

/** A learner in the current cycle: its live phase, then how its task ended (with the emulated timeline). */
export interface LearnerView {
  learner: number;
  phase: LearnerPhase | 'ok' | 'late' | 'missing';
  t_send_s?: number;
  t_compute_s?: number;
  t_return_s?: number;
  t_total_s?: number;
  reason?: string;
}

export interface CycleView {
  scheme: string;
  cycle: number;
  cycles: number;
  tau: number;
  /** learners given a batch */
  active: number;
  done: boolean;
  learners: LearnerView[];
}

/** pending: planned (a campaign's later seed), no event yet */
export type RunStatus = 'pending' | 'starting' | 'running' | 'finished' | 'interrupted' | 'failed';

/** Scheme totals that only grow (Prometheus counters). */
export interface SchemeTotals {
  bytes_sent: number;
  bytes_received: number;
}

export interface RunSnapshot {
  id: string;
  /** extra metric labels: seed (campaigns), cell (sweeps) */
  labels: Record<string, string>;
  status: RunStatus;
  message: string | null;
  settings: ExperimentConfig | null;
  schemes: string[];
  points: Record<string, CyclePoint[]>;
  totals: Record<string, SchemeTotals>;
  cycles_done: number;
  /** null until the settings are known */
  cycles_total: number | null;
  elapsed_s: number;
  eta_s: number | null;
  connected: number;
  current: CycleView | null;
}

export interface Snapshot {
  /** the time the snapshot describes (ms since the epoch) */
  at_ms: number;
  runs: RunSnapshot[];
  /** over every run: cycles done of all planned, and the time left */
  progress: { cycles_done: number; cycles_total: number | null; eta_s: number | null; elapsed_s: number };
}

interface Run {
  id: string;
  labels: Record<string, string>;
  status: RunStatus;
  message: string | null;
  settings: ExperimentConfig | null;
  /** cycles expected when the settings are not known yet (a campaign plans its seeds ahead) */
  planned: number | null;
  points: Map<string, CyclePoint[]>;
  totals: Map<string, SchemeTotals>;
  firstMs: number | null;
  lastMs: number | null;
  /** wall seconds of the cycles seen, for the ETA */
  walls: number[];
  cycleStartMs: number | null;
  connected: Set<number>;
  current: (Omit<CycleView, 'learners'> & { learners: Map<number, LearnerView> }) | null;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export class DashboardState {
  private readonly runs = new Map<string, Run>();
  private firstMs: number | null = null;

  /** A run that will come (campaign seeds): shown as pending with its cycle count. */
  plan(id: string, labels: Record<string, string>, cycles: number): void {
    const run = this.run(id, labels);
    run.planned = cycles;
    if (run.firstMs === null) run.status = 'pending';
  }

  /** Forgets what run `id` said (its events file was replaced by a new run's). */
  forget(id: string): void {
    const run = this.runs.get(id);
    if (run) this.runs.set(id, { ...this.blank(id, run.labels), planned: run.planned });
  }

  /** Some run has not ended (it may still send events). */
  running(): boolean {
    return [...this.runs.values()].some((r) => r.status === 'starting' || r.status === 'running');
  }

  /** Folds one event of run `id` in; `atMs` is when it happened. */
  apply(id: string, e: RunEvent, atMs: number, labels: Record<string, string> = {}): void {
    const run = this.run(id, labels);
    run.firstMs ??= atMs;
    run.lastMs = atMs;
    this.firstMs = Math.min(this.firstMs ?? atMs, atMs);
    switch (e.type) {
      case 'session-start':
        run.settings = e.config;
        run.status = 'starting';
        run.message = null;
        run.connected.clear();
        break;
      case 'session-end':
        run.status = e.status;
        run.message = e.message ?? null;
        run.current = run.current && { ...run.current, done: true };
        run.connected.clear(); // the session's connections ended with it
        break;
      case 'joined':
        run.connected.add(e.learner);
        break;
      case 'left':
        run.connected.delete(e.learner);
        break;
      case 'setup-done':
        run.status = 'running';
        break;
      default:
        this.applyCycleEvent(run, e, atMs);
    }
  }

  private applyCycleEvent(run: Run, e: RunEvent, atMs: number): void {
    switch (e.type) {
      case 'cycle-start':
        run.status = 'running';
        run.cycleStartMs = atMs;
        run.current = {
          scheme: e.scheme,
          cycle: e.cycle,
          cycles: e.cycles,
          tau: e.tau,
          active: e.active,
          done: false,
          learners: new Map(),
        };
        break;
      case 'learner-phase':
        if (this.isCurrent(run, e) && !isFinal(run.current!.learners.get(e.learner)))
          run.current!.learners.set(e.learner, { learner: e.learner, phase: e.phase });
        break;
      case 'task-done': {
        this.addBytes(run, e.scheme, e.bytes_sent, e.bytes_returned);
        if (!this.isCurrent(run, e)) break;
        const { t_send_s, t_compute_s, t_return_s, t_total_s } = e;
        run.current!.learners.set(e.learner, {
          learner: e.learner,
          phase: e.status,
          t_send_s,
          t_compute_s,
          t_return_s,
          t_total_s,
        });
        break;
      }
      case 'missing':
        this.addBytes(run, e.scheme, e.bytes_sent, 0);
        if (this.isCurrent(run, e))
          run.current!.learners.set(e.learner, { learner: e.learner, phase: 'missing', reason: e.reason });
        break;
      case 'cycle-done': {
        const points = run.points.get(e.scheme) ?? [];
        // A resumed session may repeat a cycle that was never committed: the newer one counts.
        const kept = points.filter((p) => p.cycle < e.cycle);
        kept.push({
          cycle: e.cycle,
          tau: e.tau,
          accuracy: e.accuracy,
          loss: e.loss,
          late: e.late,
          missing: e.missing.length,
          wall_s: e.wall_s,
        });
        run.points.set(e.scheme, kept);
        run.walls.push(e.wall_s);
        run.cycleStartMs = null;
        if (this.isCurrent(run, e)) run.current!.done = true;
        break;
      }
    }
  }

  private isCurrent(run: Run, e: { scheme: string; cycle: number }): boolean {
    return run.current !== null && run.current.scheme === e.scheme && run.current.cycle === e.cycle;
  }

  private addBytes(run: Run, scheme: string, sent: number, received: number): void {
    const t = run.totals.get(scheme) ?? { bytes_sent: 0, bytes_received: 0 };
    t.bytes_sent += sent;
    t.bytes_received += received;
    run.totals.set(scheme, t);
  }

  private run(id: string, labels: Record<string, string>): Run {
    let run = this.runs.get(id);
    if (!run) {
      run = this.blank(id, labels);
      this.runs.set(id, run);
    }
    return run;
  }

  private blank(id: string, labels: Record<string, string>): Run {
    return {
      id,
      labels,
      status: 'starting',
      message: null,
      settings: null,
      planned: null,
      points: new Map(),
      totals: new Map(),
      firstMs: null,
      lastMs: null,
      walls: [],
      cycleStartMs: null,
      connected: new Set(),
      current: null,
    };
  }

  /** The picture at `nowMs`; `live` false (a finished folder): times end at each run's last event. */
  snapshot(nowMs: number, live = true): Snapshot {
    const allWalls = [...this.runs.values()].flatMap((r) => r.walls);
    const runs = [...this.runs.values()].map((r) => runSnapshot(r, nowMs, live, allWalls));
    const done = runs.reduce((n, r) => n + r.cycles_done, 0);
    const total = runs.every((r) => r.cycles_total !== null) ? runs.reduce((n, r) => n + r.cycles_total!, 0) : null;
    const lastMs = Math.max(...[...this.runs.values()].map((r) => r.lastMs ?? 0));
    const end = live ? nowMs : lastMs;
    const etas = runs.map((r) => r.eta_s);
    return {
      at_ms: end,
      runs,
      progress: {
        cycles_done: done,
        cycles_total: total,
        eta_s: etas.every((e) => e !== null) && etas.length > 0 ? etas.reduce((a, b) => a! + b!, 0) : null,
        elapsed_s: this.firstMs === null ? 0 : Math.max(0, (end - this.firstMs) / 1000),
      },
    };
  }
}

const isFinal = (l: LearnerView | undefined) =>
  l !== undefined && (l.phase === 'ok' || l.phase === 'late' || l.phase === 'missing');

function totalCycles(r: Run): number | null {
  if (r.settings) return r.settings.cycles * r.settings.schemes.length;
  return r.planned;
}

/** Seconds left: the cycles still to run at the mean cycle wall time (this run's, else any run's), less the running cycle's time. */
function etaSeconds(r: Run, done: number, nowMs: number, live: boolean, allWalls: number[]): number | null {
  const total = totalCycles(r);
  if (total === null) return null;
  if (done >= total || r.status === 'finished') return 0;
  if (!live && r.status !== 'running' && r.status !== 'starting') return null;
  const walls = r.walls.length ? r.walls : allWalls;
  if (walls.length === 0) return null;
  const inCycle = r.cycleStartMs !== null && live ? (nowMs - r.cycleStartMs) / 1000 : 0;
  return Math.max(0, (total - done) * mean(walls) - inCycle);
}

function runSnapshot(r: Run, nowMs: number, live: boolean, allWalls: number[]): RunSnapshot {
  const done = [...r.points.values()].reduce((n, ps) => n + ps.length, 0);
  const ended = r.status === 'finished' || r.status === 'failed' || r.status === 'interrupted';
  const end = live && !ended ? nowMs : (r.lastMs ?? nowMs);
  const schemes = r.settings ? [...r.settings.schemes] : [...r.points.keys()];
  return {
    id: r.id,
    labels: r.labels,
    status: r.status,
    message: r.message,
    settings: r.settings,
    schemes,
    points: Object.fromEntries(r.points),
    totals: Object.fromEntries(r.totals),
    cycles_done: done,
    cycles_total: totalCycles(r),
    elapsed_s: r.firstMs === null ? 0 : Math.max(0, (end - r.firstMs) / 1000),
    eta_s: etaSeconds(r, done, nowMs, live, allWalls),
    connected: r.connected.size,
    current: r.current && {
      ...r.current,
      learners: [...r.current.learners.values()].sort((a, b) => a.learner - b.learner),
    },
  };
}
