/**
 * A strict little CSV reader for the files our own tools write: the header must match
 * exactly, every line must have as many fields as the header, and every error names the
 * file, the line and the column. Quoted fields ("a,b", "say ""hi""") are accepted so that
 * a hand-edited file still parses.
 */
import { ReportInputError } from './errors.ts';

export interface CsvRecord {
  /** 1-based line number in the file (for error messages). */
  line: number;
  /** Raw field values keyed by header name. */
  values: Record<string, string>;
}

/** Split one CSV line into fields; throws a plain Error on an unbalanced quote. */
function splitLine(line: string): string[] {
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
 * Parse `text` (the content of `file`) and check that its header is exactly `header`.
 * Blank lines are skipped; a file with a header and no rows is valid (zero records).
 */
export function parseCsv(text: string, file: string, header: readonly string[]): CsvRecord[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length === 0 || lines[0].trim() === '') throw new ReportInputError(`${file}: empty file (expected header "${header.join(',')}")`, file);
  const got = lines[0].split(',').map((h) => h.trim());
  if (got.join(',') !== header.join(','))
    throw new ReportInputError(`${file}:1: header is "${lines[0]}", expected "${header.join(',')}"`, file);
  const records: CsvRecord[] = [];
  for (let n = 1; n < lines.length; n++) {
    if (lines[n].trim() === '') continue;
    let fields: string[];
    try {
      fields = splitLine(lines[n]);
    } catch (e) {
      throw new ReportInputError(`${file}:${n + 1}: ${(e as Error).message}`, file);
    }
    if (fields.length !== header.length)
      throw new ReportInputError(`${file}:${n + 1}: ${fields.length} fields, expected ${header.length} (${header.join(',')})`, file);
    const values: Record<string, string> = {};
    header.forEach((h, i) => (values[h] = fields[i]));
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
    throw new ReportInputError(`${this.file}:${this.record.line}: column ${column} ${why}, got "${this.record.values[column]}"`, this.file);
  }

  text(column: string): string {
    const v = this.record.values[column].trim();
    if (v === '') this.fail(column, 'is empty');
    return v;
  }

  /** A finite number, optionally within [min, max]. */
  number(column: string, min = -Infinity, max = Infinity): number {
    const raw = this.record.values[column].trim();
    const v = raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(v)) this.fail(column, 'must be a number');
    if (v < min || v > max) this.fail(column, `must be in [${min}, ${max}]`);
    return v;
  }

  /** Like number(), but an empty field gives null. */
  optionalNumber(column: string, min = -Infinity, max = Infinity): number | null {
    return this.record.values[column].trim() === '' ? null : this.number(column, min, max);
  }

  integer(column: string, min = -Infinity, max = Infinity): number {
    const v = this.number(column, min, max);
    if (!Number.isInteger(v)) this.fail(column, 'must be an integer');
    return v;
  }

  oneOf<T extends string>(column: string, choices: readonly T[]): T {
    const v = this.record.values[column].trim();
    if (!(choices as readonly string[]).includes(v)) this.fail(column, `must be one of ${choices.join('|')}`);
    return v as T;
  }
}
