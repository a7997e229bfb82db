/**
 * A file the user names on the command line (a fleet, a trace), read whole but bounded: a device
 * (/dev/zero), a pipe or a directory is refused before reading, and so is a file larger than any
 * input a run can use.
 */
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../errors.ts';

/** Largest input file, bytes (a trace of 1000 learners × 5000 cycles fits). */
export const MAX_INPUT_FILE_BYTES = 256 * 2 ** 20;

/** Largest settings file (`--config`, a run's config.json), bytes: a K = 1000 run's config.json is ~0.3 MiB. */
export const MAX_SETTINGS_FILE_BYTES = 16 * 2 ** 20;

/** The file's text; `flag` names it in errors (e.g. "--learners"). */
export function readInputFile(path: string, flag: string, maxBytes = MAX_INPUT_FILE_BYTES): string {
  const fail = (why: string): never => {
    throw new InputError(`${flag} ${path}: ${why}`);
  };
  try {
    const st = statSync(path);
    if (st.isDirectory()) fail('is a directory; give a file');
    if (!st.isFile()) fail('is not a regular file (a device or a pipe); give a file');
    if (st.size > maxBytes)
      fail(`is ${(st.size / 2 ** 20).toFixed(0)} MiB; input files are limited to ${maxBytes / 2 ** 20} MiB`);
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    return fail(`cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
