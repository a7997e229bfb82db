/**
 * A run folder (or Fig. 1 CSV) that is missing or malformed. The report core stays free of
 * CLI concerns; the CLI turns this into an InputError (exit code 2).
 */
export class ReportInputError extends Error {
  override name = 'ReportInputError';
  constructor(
    message: string,
    /** The file (or folder) at fault, as the user would type it. */
    readonly file: string,
  ) {
    super(message);
  }
}
