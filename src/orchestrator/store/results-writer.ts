/**
 * The run folder as the orchestrator writes it: config.json before cycle 1, then per completed
 * cycle a checkpoint, the learner rows and finally the cycle row — the commit point that
 * `--resume` trusts. A cycle that never reached its cycle row is dropped on resume.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SchemeName } from '../../allocation/types.ts';
import { InputError } from '../../errors.ts';
import { parseCycles, parseLearners } from '../../run-folder/read.ts';
import {
  CYCLES_HEADER,
  LEARNERS_HEADER,
  UNAVAILABLE_REASON,
  upgradeLearnerCells,
  WALL_PHASES_HEADER,
  type CycleRow,
  type LearnerRow,
} from '../../run-folder/schema.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import type { CycleOutcome, LearnerRecord } from '../cycle.ts';
import { CsvAppender, writeJsonAtomic } from './run-files.ts';
import { committedCycleRows, RUN_FILES } from './run-folder-contents.ts';

/** Where one scheme stands: its last complete cycle and the global weights after it. */
export interface SchemeState {
  cycle: number;
  weights: Float32Array;
  emulated_s: number;
  wall_s: number; // this scheme's cycle wall time, summed over sessions
}

function learnerRow(scheme: string, cycle: number, r: LearnerRecord) {
  const idle = r.status === 'idle' || r.status === 'unavailable';
  const p = r.phases;
  return {
    scheme,
    cycle,
    learner: r.learner,
    f_hz: r.f_hz,
    rate_bps: r.rate_bps,
    batch: r.batch,
    t_send_s: idle ? 0 : r.t_send_s, // known even for a missing learner whose task was sent
    t_compute_s: idle ? 0 : p?.t_compute_s,
    t_return_s: idle ? 0 : p?.t_return_s,
    t_total_s: idle ? 0 : p?.t_total_s,
    late: r.status === 'late' ? 1 : 0,
    reason:
      r.status === 'missing' ? oneLine(r.reason ?? 'unknown') : r.status === 'unavailable' ? UNAVAILABLE_REASON : '',
    tau: r.tau,
    energy_j: idle ? 0 : r.energy?.total_j,
    energy_compute_j: idle ? 0 : r.energy?.compute_j,
    energy_radio_j: idle ? 0 : r.energy?.radio_j,
    missing: r.status === 'missing' ? 1 : 0,
  };
}

/** Reasons can carry peer text (a close reason): one CSV line each, whatever it holds. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this removes
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

export class ResultsWriter {
  private readonly cycles: CsvAppender;
  private readonly learners: CsvAppender;
  private readonly wall: CsvAppender | null;

  /**
   * Opens (resume) or starts the run in a locked folder (run-lock.ts). A new run refuses a folder
   * with a completed cycle; the files of an attempt that never completed one are replaced.
   */
  constructor(
    readonly dir: string,
    opts: { resume: boolean; realClock: boolean; config: () => object },
  ) {
    if (!opts.resume) {
      if (committedCycleRows(dir) > 0)
        throw new InputError(`${dir} already holds a run; choose another --out or continue it with --resume ${dir}`);
      for (const f of RUN_FILES) rmSync(join(dir, f), { recursive: true, force: true });
      writeJsonAtomic(join(dir, 'config.json'), opts.config());
    }
    this.cycles = new CsvAppender(join(dir, 'cycles.csv'), CYCLES_HEADER);
    this.learners = new CsvAppender(join(dir, 'learners.csv'), LEARNERS_HEADER, upgradeLearnerCells);
    this.wall = opts.realClock ? new CsvAppender(join(dir, 'wall_phases.csv'), WALL_PHASES_HEADER) : null;
  }

  /** --resume: each scheme continues after its last cycle row, from that cycle's checkpoint. */
  resume(states: Map<SchemeName, SchemeState>, paramCount: number): void {
    const rows = this.readCycles();
    for (const [scheme, state] of states) {
      const last = rows.filter((r) => r.scheme === scheme).reduce((m, r) => Math.max(m, r.cycle), 0);
      if (last === 0) continue;
      const { weights, manifest } = loadCheckpoint(this.dir, scheme, last, paramCount);
      Object.assign(state, {
        cycle: last,
        weights,
        emulated_s: manifest.emulated_time_s,
        wall_s: manifest.wall_time_s,
      });
    }
    const complete = (cells: string[]) => Number(cells[1]) <= (states.get(cells[0] as SchemeName)?.cycle ?? 0);
    for (const csv of [this.learners, ...(this.wall ? [this.wall] : [])]) csv.rewrite(complete);
  }

  commitCycle(scheme: SchemeName, cycle: number, tau: number, outcome: CycleOutcome, state: SchemeState): void {
    saveCheckpoint(
      this.dir,
      { scheme, cycle, emulated_time_s: state.emulated_s, wall_time_s: state.wall_s },
      state.weights,
    );
    for (const r of outcome.records) this.learners.add(learnerRow(scheme, cycle, r));
    this.learners.flush();
    if (this.wall) {
      for (const r of outcome.records)
        if (r.wall)
          this.wall.add({
            scheme,
            cycle,
            learner: r.learner,
            wall_send_s: r.wall.send_s,
            wall_compute_s: r.wall.compute_s,
            wall_return_s: r.wall.return_s,
            train_wall_s: r.train_wall_s,
            overrun_s: r.overrun_s,
          });
      this.wall.flush();
    }
    this.cycles.add({
      scheme,
      cycle,
      tau,
      test_accuracy: outcome.accuracy,
      test_loss: outcome.loss,
      emulated_time_s: state.emulated_s,
      max_learner_time_s: outcome.max_learner_time_s,
      late_learners: outcome.records.filter((r) => r.status === 'late').length,
      wall_time_s: Number(state.wall_s.toFixed(3)),
      updates_aggregated: outcome.included,
      tasked_learners: outcome.tasked,
      unavailable_learners: outcome.unavailable,
    });
    this.cycles.flush();
  }

  readCycles(): CycleRow[] {
    return parseCycles(readFileSync(this.cycles.path, 'utf8'), this.cycles.path);
  }

  readLearners(): LearnerRow[] {
    return parseLearners(readFileSync(this.learners.path, 'utf8'), this.learners.path);
  }
}
