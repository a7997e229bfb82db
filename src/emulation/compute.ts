/**
 * Compute throttling. The learner trains as fast as the host allows; in real-clock mode it then
 * sleeps until the emulated compute time (scaled) has passed since its task arrived. If waiting for
 * a compute slot plus real training took longer than that budget, the host could not keep up: that
 * is an overrun, reported, never hidden.
 */
import { sleepWall, type Clock } from './clock.ts';

export interface ThrottleResult {
  compute_wall_s: number; // the compute phase in wall time: since the task arrived, padding included
  overrun_s: number; // how far the phase ran past its scaled budget (0 when the host kept up)
}

/** `elapsed_s`: wall time since the task arrived (waiting for a compute slot + training). */
export async function padCompute(elapsed_s: number, emulated_compute_s: number, clock: Clock): Promise<ThrottleResult> {
  if (clock.mode === 'virtual') return { compute_wall_s: elapsed_s, overrun_s: 0 };
  const budget_s = emulated_compute_s * clock.timeScale;
  if (elapsed_s > budget_s) return { compute_wall_s: elapsed_s, overrun_s: elapsed_s - budget_s };
  await sleepWall(budget_s - elapsed_s);
  return { compute_wall_s: budget_s, overrun_s: 0 };
}
