/**
 * On the real clock every cycle is paced to last T × time scale of wall time on purpose (links and
 * training sleep to their emulated length), so "overhead" measured against the training time counts
 * that padding. What the user can act on is the wall time beyond the schedule: what the orchestrator
 * spends between cycles (evaluation, averaging, building the next tasks) and any lateness.
 */
import type { CycleRow, RunSummaryFile } from '../run-folder/schema.ts';

export type RealClockPacing = NonNullable<RunSummaryFile['real_clock_pacing']>;

export function realClockPacing(
  timeScale: number,
  cycleRows: readonly CycleRow[],
  cyclesWallS: number,
  evalWallS: number,
): RealClockPacing {
  // emulated_time_s is cumulative per scheme: each scheme's last row is its emulated total.
  const emulated = new Map<string, number>();
  for (const r of cycleRows) emulated.set(r.scheme, Math.max(emulated.get(r.scheme) ?? 0, r.emulatedTimeS));
  const scheduled = timeScale * [...emulated.values()].reduce((s, x) => s + x, 0);
  const beyond = Math.max(0, cyclesWallS - scheduled);
  return {
    scheduled_wall_s: scheduled,
    cycles_wall_s: cyclesWallS,
    beyond_schedule_s: beyond,
    beyond_schedule_per_cycle_s: cycleRows.length ? beyond / cycleRows.length : 0,
    evaluation_s: evalWallS,
    definition:
      'cycles_wall_s − scheduled_wall_s, where scheduled_wall_s = time scale × the emulated time of every cycle run',
  };
}

/** The console's line for it, in plain words. */
export function realClockPacingText(p: RealClockPacing, timeScale: number): string {
  return (
    `real clock: the cycles took ${p.cycles_wall_s.toFixed(1)} s of wall time for ${(p.scheduled_wall_s / timeScale).toFixed(1)} s of emulated time × time scale ${timeScale} ` +
    `= ${p.scheduled_wall_s.toFixed(1)} s scheduled; ${p.beyond_schedule_per_cycle_s.toFixed(2)} s per cycle beyond it ` +
    `(evaluation ${p.evaluation_s.toFixed(1)} s in all, the rest averaging and preparing the next cycle's tasks)`
  );
}
