/**
 * Ctrl-C and SIGTERM for the long-running commands. The npm scripts `exec` node, so a signal sent to
 * npm alone reaches the command (npm forwards it); a Ctrl-C at a terminal signals the whole process
 * group, npm included, so the command gets it twice within milliseconds — that echo is one press, not
 * the "second Ctrl-C" that quits at once.
 */

/** Signals closer together than this are one event delivered twice (the terminal's and npm's copy). */
export const SIGNAL_ECHO_MS = 500;

/** `first` on the first SIGINT/SIGTERM, `again` on a later one (not its echo). */
export function onStopSignals(first: (sig: string) => void, again: (sig: string) => void): void {
  let firstAt: number | null = null;
  const handle = (sig: string) => {
    const now = performance.now();
    if (firstAt === null) {
      firstAt = now;
      first(sig);
    } else if (now - firstAt >= SIGNAL_ECHO_MS) again(sig);
  };
  process.on('SIGINT', () => handle('SIGINT'));
  process.on('SIGTERM', () => handle('SIGTERM'));
}
