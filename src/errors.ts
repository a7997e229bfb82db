/**
 * The one error class every layer throws for input the user can fix (a flag, a file, a folder, an
 * unavailable engine). It lives at the bottom so any module can throw it without importing the CLI;
 * `runCli` turns it into one line on stderr and exit code 2.
 */
export class InputError extends Error {
  override name = 'InputError';
}
