import { InputError } from '../errors.ts';

/** A run folder (or Fig. 1 CSV) that is missing or malformed; `file` names the culprit. */
export class ReportInputError extends InputError {
  override name = 'ReportInputError';
  constructor(
    message: string,
    /** The file (or folder) at fault, as the user would type it. */
    readonly file: string,
  ) {
    super(message);
  }
}
