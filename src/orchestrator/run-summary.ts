/** A run's summary.json, from the rows its folder holds (a resumed run covers every session's cycles). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentConfig } from './config.ts';
import type { ExperimentEvent } from './events.ts';
import { realClockPacing } from './real-clock-pacing.ts';
import { identicalGroupsFromRows } from './identical-allocations.ts';
import { PHASE_TOLERANCE_TEXT } from '../emulation/faithfulness.ts';
import { parseCycles, parseLearners } from '../run-folder/read.ts';
import type { CycleRow, LearnerRow, RunSummaryFile, SchemeSummary } from '../run-folder/schema.ts';
import { writeJsonAtomic } from './store/run-files.ts';
import { totalOf, type SessionRecord } from './store/sessions.ts';
import { summarizeScheme } from './store/summary.ts';
import type { RunResult } from './run-context.ts';

export function completedPerScheme(out: string): Map<string, number> {
  const path = join(out, 'cycles.csv');
  const done = new Map<string, number>();
  for (const r of parseCycles(readFileSync(path, 'utf8'), path))
    done.set(r.scheme, Math.max(done.get(r.scheme) ?? 0, r.cycle));
  return done;
}

/** summary.json: results from the CSV files, timings and faults added up over every session of the run. */
export function buildSummary(
  config: ExperimentConfig,
  cycleRows: CycleRow[],
  learnerRows: LearnerRow[],
  sessions: SessionRecord[],
  engine: string,
): RunSummaryFile {
  const schemes: Record<string, SchemeSummary> = {};
  for (const scheme of config.schemes)
    schemes[scheme] = summarizeScheme(
      cycleRows.filter((r) => r.scheme === scheme),
      learnerRows.filter((r) => r.scheme === scheme),
      config.energy.budget_j,
      config.targets,
    );
  const t = totalOf(sessions);
  // Overhead: cycle wall time spent neither training (spread over the compute slots) nor evaluating.
  const overhead = Math.max(0, t.cycles_wall_s - t.eval_wall_s - t.train_process_s / config.compute_slots);
  return {
    schemes,
    identical_allocations: identicalGroupsFromRows(config.schemes, learnerRows),
    engine,
    sessions: sessions.length,
    wall_s: t.wall_s,
    setup_wall_s: t.setup_wall_s,
    cycles_wall_s: t.cycles_wall_s,
    eval_wall_s: t.eval_wall_s,
    train_process_s: t.train_process_s,
    emulator_overhead: {
      seconds: overhead,
      fraction_of_cycles_wall: t.cycles_wall_s > 0 ? overhead / t.cycles_wall_s : 0,
      fraction_of_wall: t.wall_s > 0 ? overhead / t.wall_s : 0,
      definition:
        'cycle wall time − evaluation − (Σ learner training seconds ÷ compute slots), over all sessions of the run',
    },
    ...(config.clock === 'real'
      ? { real_clock_pacing: realClockPacing(config.time_scale, cycleRows, t.cycles_wall_s, t.eval_wall_s) }
      : {}),
    overruns: {
      learner_cycles: t.overrun_learner_cycles,
      total_s: t.overrun_total_s,
      off_schedule_learner_cycles: t.off_schedule_learner_cycles,
      worst_phase_lag_s: t.worst_phase_lag_s,
      tolerance: PHASE_TOLERANCE_TEXT,
      faithful: t.overrun_learner_cycles === 0 && t.off_schedule_learner_cycles === 0,
    },
    faults: {
      killed: t.killed,
      dropped_results: t.dropped_results,
      lost_learner_cycles: learnerRows.filter((r) => r.status === 'missing').length,
      diverged_cycles: t.diverged_cycles,
      respawned: t.respawned,
    },
    hub: t.hub,
    memory: { orchestrator_peak_rss_mb: t.orchestrator_peak_rss_mb, learner_peak_rss_mb: t.learner_peak_rss_mb },
  };
}

export function summarizeFolder(
  config: ExperimentConfig,
  out: string,
  sessions: SessionRecord[],
  engine: string,
  emit: (e: ExperimentEvent) => void,
  interrupted: boolean,
): RunResult {
  const cyclesPath = join(out, 'cycles.csv');
  const learnersPath = join(out, 'learners.csv');
  const cycleRows = existsSync(cyclesPath) ? parseCycles(readFileSync(cyclesPath, 'utf8'), cyclesPath) : [];
  const learnerRows = existsSync(learnersPath) ? parseLearners(readFileSync(learnersPath, 'utf8'), learnersPath) : [];
  const summary = buildSummary(config, cycleRows, learnerRows, sessions, engine);
  if (cycleRows.length === 0) return { out, summary, interrupted, completedCycles: 0 }; // no result to write or show
  writeJsonAtomic(join(out, 'summary.json'), summary);
  emit({ type: 'summary', schemes: summary.schemes, targets: config.targets });
  if (!summary.overruns.faithful) emit({ type: 'unfaithful', ...summary.overruns });
  return { out, summary, interrupted, completedCycles: cycleRows.length };
}
