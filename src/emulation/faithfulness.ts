/**
 * Whether a real-clock run kept its emulated timeline: each phase of each learner (receive,
 * compute, send back) must end in wall time when the emulated timeline × time scale says, within a
 * stated tolerance. Waiting for a compute slot counts against the compute phase (it runs from the
 * task's arrival), so too many learners for too few cores shows up here instead of hiding.
 */
import type { PhaseTimes } from '../model/coefficients.ts';

/** A phase is on schedule when its wall time exceeds emulated × time scale by at most 10 % + 50 ms. */
export const PHASE_TOLERANCE = { relative: 0.1, absolute_s: 0.05 } as const;
export const PHASE_TOLERANCE_TEXT = 'every phase within 10 % + 50 ms of its emulated time × time scale';

export interface WallPhases {
  send_s: number;
  compute_s: number;
  return_s: number;
}

/** How far the learner's worst phase ran past its tolerance (0 when every phase kept schedule). */
export function phaseLagS(emulated: PhaseTimes, wall: WallPhases, timeScale: number): number {
  const lag = (emulated_s: number, wall_s: number) => {
    const expected = emulated_s * timeScale;
    return Math.max(0, wall_s - expected - (PHASE_TOLERANCE.relative * expected + PHASE_TOLERANCE.absolute_s));
  };
  return Math.max(
    lag(emulated.t_send_s, wall.send_s),
    lag(emulated.t_compute_s, wall.compute_s),
    lag(emulated.t_return_s, wall.return_s),
  );
}
