/**
 * Time emulation has one code path and two clocks:
 * - virtual: nothing sleeps; emulated durations come from the model and the bytes sent.
 * - real: wall-clock pacing; an emulated second lasts `timeScale` wall seconds.
 */
import { timerDelayMs } from '../util/timers.ts';

export type ClockMode = 'virtual' | 'real';

export interface Clock {
  readonly mode: ClockMode;
  /** Wall seconds per emulated second (1 in virtual mode, where it is unused). */
  readonly timeScale: number;
  /** Wall time in seconds (monotonic). */
  nowWall(): number;
  /** Sleep for an emulated duration: scaled wall sleep in real mode, nothing in virtual mode. */
  sleepEmulated(seconds: number): Promise<void>;
}

export const monotonicSeconds = (): number => Number(process.hrtime.bigint()) / 1e9;

export const sleepWall = (seconds: number): Promise<void> =>
  seconds > 0 ? new Promise((resolve) => setTimeout(resolve, timerDelayMs(seconds * 1000))) : Promise.resolve();

export function createClock(mode: ClockMode, timeScale = 1): Clock {
  if (!(timeScale > 0)) throw new RangeError(`time scale must be > 0, got ${timeScale}`);
  return {
    mode,
    timeScale: mode === 'real' ? timeScale : 1,
    nowWall: monotonicSeconds,
    sleepEmulated: mode === 'real' ? (s) => sleepWall(s * timeScale) : () => Promise.resolve(),
  };
}
