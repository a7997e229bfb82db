/**
 * A run may take several orchestrator sessions (the first, then each --resume). Each session's
 * measurements are kept in the run folder (sessions.json, rewritten after every committed cycle,
 * so even a SIGKILLed session keeps what it measured up to its last cycle), and summary.json adds
 * them up: a resume never replaces the timings of the sessions before it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.ts';
import { writeJsonAtomic } from './run-files.ts';

export const SESSIONS_FILE = 'sessions.json';

export interface SessionRecord {
  started_at: string;
  engine: string;
  cycles_run: number;
  wall_s: number;
  setup_wall_s: number;
  cycles_wall_s: number;
  eval_wall_s: number;
  train_process_s: number;
  overrun_learner_cycles: number;
  overrun_total_s: number;
  /** real clock: learner-cycles with a phase off schedule, and the worst lag beyond tolerance */
  off_schedule_learner_cycles: number;
  worst_phase_lag_s: number;
  killed: number;
  dropped_results: number;
  /** cycles whose averaged model had a non-finite test loss and was not adopted */
  diverged_cycles: number;
  /** spawned learners killed and restarted because they missed cycles while their process still ran */
  respawned: number;
  /** connection statistics, snake_case (sessions written before that used camelCase: read either) */
  hub: Record<string, number>;
  orchestrator_peak_rss_mb: number;
  learner_peak_rss_mb: number;
}

const NUMERIC: (keyof SessionRecord)[] = [
  'cycles_run',
  'wall_s',
  'setup_wall_s',
  'cycles_wall_s',
  'eval_wall_s',
  'train_process_s',
  'overrun_learner_cycles',
  'overrun_total_s',
  'off_schedule_learner_cycles',
  'worst_phase_lag_s',
  'killed',
  'dropped_results',
  'diverged_cycles',
  'orchestrator_peak_rss_mb',
  'learner_peak_rss_mb',
];

/**
 * The sessions recorded so far. A run folder from before sessions.json existed but with a
 * summary.json counts that summary as its one earlier session.
 */
export function readSessions(dir: string): SessionRecord[] {
  const path = join(dir, SESSIONS_FILE);
  if (!existsSync(path)) return legacySession(dir);
  let sessions: unknown;
  try {
    sessions = JSON.parse(readFileSync(path, 'utf8')).sessions;
  } catch (e) {
    throw new InputError(
      `${path} is damaged (${(e as Error).message}); delete it to resume without the earlier sessions' timings`,
    );
  }
  if (!Array.isArray(sessions) || !sessions.every((s) => NUMERIC.every((k) => typeof s?.[k] === 'number')))
    throw new InputError(
      `${path} is damaged (not a list of sessions); delete it to resume without the earlier sessions' timings`,
    );
  // Fields added since a session was written count as zero; hub keys become snake_case.
  return (sessions as SessionRecord[]).map((s) => ({ ...s, respawned: s.respawned ?? 0, hub: snakeKeys(s.hub ?? {}) }));
}

/** `heartbeatTimeouts` → `heartbeat_timeouts`: summary.json is snake_case throughout. */
export function snakeKeys(o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}

function legacySession(dir: string): SessionRecord[] {
  const path = join(dir, 'summary.json');
  if (!existsSync(path)) return [];
  try {
    const s = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof s.wall_s !== 'number') return [];
    const rows = Object.values(s.schemes ?? {}).reduce<number>((n, x: any) => n + (x?.cycles ?? 0), 0);
    return [
      {
        started_at: 'unknown',
        engine: String(s.engine ?? 'unknown'),
        cycles_run: rows,
        wall_s: s.wall_s,
        setup_wall_s: s.setup_wall_s ?? 0,
        cycles_wall_s: s.cycles_wall_s ?? 0,
        eval_wall_s: s.eval_wall_s ?? 0,
        train_process_s: s.train_process_s ?? 0,
        overrun_learner_cycles: s.overruns?.learner_cycles ?? 0,
        overrun_total_s: s.overruns?.total_s ?? 0,
        off_schedule_learner_cycles: s.overruns?.off_schedule_learner_cycles ?? 0,
        worst_phase_lag_s: s.overruns?.worst_phase_lag_s ?? 0,
        killed: s.faults?.killed ?? 0,
        dropped_results: s.faults?.dropped_results ?? 0,
        diverged_cycles: s.faults?.diverged_cycles ?? 0,
        respawned: s.faults?.respawned ?? 0,
        hub: snakeKeys(s.hub ?? {}),
        orchestrator_peak_rss_mb: s.memory?.orchestrator_peak_rss_mb ?? 0,
        learner_peak_rss_mb: s.memory?.learner_peak_rss_mb ?? 0,
      },
    ];
  } catch {
    return []; // an unreadable old summary holds nothing worth keeping
  }
}

export function writeSessions(dir: string, sessions: SessionRecord[]): void {
  writeJsonAtomic(join(dir, SESSIONS_FILE), { sessions });
}

/** All sessions together: times, counts and hub statistics add up; peak memory is the largest. */
export function totalOf(sessions: SessionRecord[]): Omit<SessionRecord, 'started_at' | 'engine'> {
  const sum = (k: keyof SessionRecord) => sessions.reduce((t, s) => t + (s[k] as number), 0);
  const hub: Record<string, number> = {};
  for (const s of sessions) for (const [k, v] of Object.entries(s.hub)) hub[k] = (hub[k] ?? 0) + v;
  return {
    cycles_run: sum('cycles_run'),
    wall_s: sum('wall_s'),
    setup_wall_s: sum('setup_wall_s'),
    cycles_wall_s: sum('cycles_wall_s'),
    eval_wall_s: sum('eval_wall_s'),
    train_process_s: sum('train_process_s'),
    overrun_learner_cycles: sum('overrun_learner_cycles'),
    overrun_total_s: sum('overrun_total_s'),
    off_schedule_learner_cycles: sum('off_schedule_learner_cycles'),
    worst_phase_lag_s: Math.max(0, ...sessions.map((s) => s.worst_phase_lag_s)),
    killed: sum('killed'),
    dropped_results: sum('dropped_results'),
    diverged_cycles: sum('diverged_cycles'),
    respawned: sum('respawned'),
    hub,
    orchestrator_peak_rss_mb: Math.max(0, ...sessions.map((s) => s.orchestrator_peak_rss_mb)),
    learner_peak_rss_mb: Math.max(0, ...sessions.map((s) => s.learner_peak_rss_mb)),
  };
}
