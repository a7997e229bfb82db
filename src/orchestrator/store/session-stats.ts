/** One orchestrator session's measurements, counted as cycles complete (sessions.json keeps them). */
import { phaseLagS } from '../../emulation/faithfulness.ts';
import type { CycleOutcome } from '../cycle.ts';
import { DROPPED_REASON } from '../transport/faults.ts';
import { snakeKeys, type SessionRecord } from './sessions.ts';

/** What the cycles of a session add up to: the SessionRecord fields that are counted. */
type Counts = Pick<
  SessionRecord,
  | 'cycles_run'
  | 'cycles_wall_s'
  | 'eval_wall_s'
  | 'train_process_s'
  | 'overrun_learner_cycles'
  | 'overrun_total_s'
  | 'off_schedule_learner_cycles'
  | 'worst_phase_lag_s'
  | 'killed'
  | 'dropped_results'
  | 'diverged_cycles'
  | 'respawned'
  | 'learner_peak_rss_mb'
>;

export class SessionStats {
  readonly startedAt = new Date().toISOString();
  readonly counts: Counts = {
    cycles_run: 0,
    cycles_wall_s: 0,
    eval_wall_s: 0,
    train_process_s: 0,
    overrun_learner_cycles: 0,
    overrun_total_s: 0,
    off_schedule_learner_cycles: 0,
    worst_phase_lag_s: 0,
    killed: 0,
    dropped_results: 0,
    diverged_cycles: 0,
    respawned: 0,
    learner_peak_rss_mb: 0,
  };

  /** `timeScale`: the real clock's, or null on the virtual clock (where wall time means nothing). */
  constructor(private readonly timeScale: number | null) {}

  add(outcome: CycleOutcome, wall_s: number): void {
    const c = this.counts;
    c.cycles_run++;
    c.cycles_wall_s += wall_s;
    c.eval_wall_s += outcome.eval_wall_s;
    c.train_process_s += outcome.train_wall_sum_s;
    if (outcome.diverged) c.diverged_cycles++;
    for (const r of outcome.records) {
      if (r.status === 'missing' && r.reason === DROPPED_REASON) c.dropped_results++;
      c.learner_peak_rss_mb = Math.max(c.learner_peak_rss_mb, (r.max_rss_kb ?? 0) / 1024);
      if ((r.overrun_s ?? 0) > 0) {
        c.overrun_learner_cycles++;
        c.overrun_total_s += r.overrun_s!;
      }
      if (this.timeScale !== null && r.phases && r.wall) {
        const lag = phaseLagS(r.phases, r.wall, this.timeScale);
        if (lag > 0) c.off_schedule_learner_cycles++;
        c.worst_phase_lag_s = Math.max(c.worst_phase_lag_s, lag);
      }
    }
  }

  record(s: { engine: string; wall_s: number; setup_wall_s: number; hub: object }): SessionRecord {
    return {
      started_at: this.startedAt,
      engine: s.engine,
      wall_s: s.wall_s,
      setup_wall_s: s.setup_wall_s,
      ...this.counts,
      hub: snakeKeys(s.hub),
      orchestrator_peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    };
  }
}
