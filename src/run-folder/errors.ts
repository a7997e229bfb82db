import { InputError } from '../errors.ts';

/** A run-folder (or Fig. 1) file that is missing or malformed; `file` names the culprit. */
export class RunFileError extends InputError {
  override name = 'RunFileError';
  constructor(
    message: string,
    /** The file (or folder) at fault, as the user would type it. */
    readonly file: string,
  ) {
    super(message);
  }
}
