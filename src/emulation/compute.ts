/**
 * Compute throttling. The learner trains as fast as the host allows; in real-clock mode it then
 * sleeps until the emulated compute time (scaled) has passed. If real training took longer
 * than that budget, the host could not keep up: that is an overrun, reported, never hidden.
 */
import { sleepWall, type Clock } from './clock.ts';

export interface ThrottleResult {
  compute_wall_s: number; // training + padding
  overrun_s: number; // real training time beyond the scaled budget (0 when the host kept up)
}

export async function padCompute(train_wall_s: number, emulated_compute_s: number, clock: Clock): Promise<ThrottleResult> {
  if (clock.mode === 'virtual') return { compute_wall_s: train_wall_s, overrun_s: 0 };
  const budget_s = emulated_compute_s * clock.timeScale;
  if (train_wall_s > budget_s) return { compute_wall_s: train_wall_s, overrun_s: train_wall_s - budget_s };
  await sleepWall(budget_s - train_wall_s);
  return { compute_wall_s: budget_s, overrun_s: 0 };
}
