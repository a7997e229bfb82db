/**
 * The one CSV dialect of the run folder, both directions. Reading is strict: the header must
 * match exactly (or be one of the older headers a file may still carry), every line must have
 * as many fields as its header, and every error names the file, the line and the column.
 * Quoted fields ("a,b", "say ""hi""") are accepted so that a hand-edited file still parses.
 */
import { RunFileError } from './errors.ts';

export type CsvValue = string | number | null | undefined;

/** One cell as the writers put it: non-finite numbers and absent values are empty, text is quoted when needed. */
export function formatCsvCell(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export interface CsvRecord {
  /** 1-based line number in the file (for error messages). */
  line: number;
  /** Raw field values keyed by header name. */
  values: Record<string, string>;
}

/** Split one CSV line into fields; throws a plain Error on an unbalanced quote. */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        value += line.slice(i, q);
        i = q + 1;
        if (line[i] === '"') {
          value += '"';
          i++;
        } else break;
      }
      if (i < line.length && line[i] !== ',') throw new Error('text after a closing quote');
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      fields.push(line.slice(i, end));
      i = end;
    }
    if (i >= line.length) return fields;
    i++; // skip the comma; a trailing comma yields one more (empty) field
    if (i === line.length) {
      fields.push('');
      return fields;
    }
  }
}

/**
 * Parse `text` (the content of `file`) and check that its header is exactly `header` — or one of
 * `older`, the headers earlier versions wrote (their records lack the newer columns, which
 * FieldReader reads as empty). Blank lines are skipped; a header with no rows is zero records.
 */
export function parseCsv(
  text: string,
  file: string,
  header: readonly string[],
  older: readonly (readonly string[])[] = [],
): CsvRecord[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length === 0 || lines[0].trim() === '')
    throw new RunFileError(`${file}: empty file (expected header "${header.join(',')}")`, file);
  const got = lines[0]
    .split(',')
    .map((h) => h.trim())
    .join(',');
  const columns = [header, ...older].find((h) => h.join(',') === got);
  if (!columns) throw new RunFileError(`${file}:1: header is "${lines[0]}", expected "${header.join(',')}"`, file);
  const records: CsvRecord[] = [];
  for (let n = 1; n < lines.length; n++) {
    if (lines[n].trim() === '') continue;
    let fields: string[];
    try {
      fields = splitCsvLine(lines[n]);
    } catch (e) {
      throw new RunFileError(`${file}:${n + 1}: ${(e as Error).message}`, file);
    }
    if (fields.length !== columns.length)
      throw new RunFileError(
        `${file}:${n + 1}: ${fields.length} fields, expected ${columns.length} (${columns.join(',')})`,
        file,
      );
    const values: Record<string, string> = {};
    columns.forEach((h, i) => (values[h] = fields[i]));
    records.push({ line: n + 1, values });
  }
  return records;
}

/** Typed access to one record's fields; every failure names file, line and column. */
export class FieldReader {
  constructor(
    private readonly file: string,
    private readonly record: CsvRecord,
  ) {}

  private fail(column: string, why: string): never {
    throw new RunFileError(
      `${this.file}:${this.record.line}: column ${column} ${why}, got "${this.record.values[column]}"`,
      this.file,
    );
  }

  /** The trimmed value; a column the file's (older) header lacks reads as empty. */
  private raw(column: string): string {
    return (this.record.values[column] ?? '').trim();
  }

  text(column: string): string {
    const v = this.raw(column);
    if (v === '') this.fail(column, 'is empty');
    return v;
  }

  /** Text that may be empty (or absent from an older file). */
  optionalText(column: string): string {
    return this.raw(column);
  }

  /** A finite number, optionally within [min, max]. */
  number(column: string, min = -Infinity, max = Infinity): number {
    const raw = this.raw(column);
    const v = raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(v)) this.fail(column, 'must be a number');
    if (v < min || v > max) this.fail(column, `must be in [${min}, ${max}]`);
    return v;
  }

  /** Like number(), but an empty field gives null. */
  optionalNumber(column: string, min = -Infinity, max = Infinity): number | null {
    return this.raw(column) === '' ? null : this.number(column, min, max);
  }

  integer(column: string, min = -Infinity, max = Infinity): number {
    const v = this.number(column, min, max);
    if (!Number.isInteger(v)) this.fail(column, 'must be an integer');
    return v;
  }

  oneOf<T extends string>(column: string, choices: readonly T[]): T {
    const v = this.raw(column);
    if (!(choices as readonly string[]).includes(v)) this.fail(column, `must be one of ${choices.join('|')}`);
    return v as T;
  }
}
