/**
 * Node fires a timer whose delay is 2^31 ms (~24.8 days) or more after 1 ms. Every delay a user's
 * setting can reach goes through timerDelayMs: a longer one waits as long as a timer can, which to
 * a run means "no timeout".
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Longest timeout a flag may ask for, s. */
export const MAX_TIMEOUT_S = Math.floor(MAX_TIMER_MS / 1000);

/** A delay setTimeout/setInterval honour. */
export function timerDelayMs(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}
