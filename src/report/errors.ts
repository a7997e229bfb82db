/** The report's name for a bad run-folder file: the same class the run-folder readers throw. */
export { RunFileError as ReportInputError } from '../run-folder/errors.ts';
