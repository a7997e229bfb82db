import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { CsvAppender } from '../../src/orchestrator/store/run-files.ts';
import { parseLearners } from '../../src/run-folder/read.ts';
import { LEARNERS_HEADER, LEARNERS_HEADER_WITHOUT_REASON } from '../../src/run-folder/schema.ts';
import { FieldReader, formatCsvCell, parseCsv, splitCsvLine } from '../../src/run-folder/csv.ts';
import { RunFileError } from '../../src/run-folder/errors.ts';
import { tmpDir } from '../helpers/tmp.ts';

const H = ['a', 'b', 'c'];

function errorOf(fn: () => unknown): RunFileError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RunFileError);
    return e as RunFileError;
  }
  throw new Error('expected an error');
}

describe('parseCsv', () => {
  it('reads rows keyed by header, skipping blank lines and accepting CRLF and quotes', () => {
    const recs = parseCsv('a,b,c\r\n1,"x,y",3\r\n\r\n4,"say ""hi""",\n', 'f.csv', H);
    expect(recs).toEqual([
      { line: 2, values: { a: '1', b: 'x,y', c: '3' } },
      { line: 4, values: { a: '4', b: 'say "hi"', c: '' } },
    ]);
  });

  it('accepts a header with no rows', () => {
    expect(parseCsv('a,b,c\n', 'f.csv', H)).toEqual([]);
  });

  it('names the file and line 1 on a wrong header', () => {
    const e = errorOf(() => parseCsv('a,c,b\n1,2,3\n', 'runs/x/cycles.csv', H));
    expect(e.message).toMatch(/^runs\/x\/cycles\.csv:1: header is "a,c,b", expected "a,b,c"/);
    expect(e.file).toBe('runs/x/cycles.csv');
  });

  it('names the line of a row with the wrong number of fields', () => {
    expect(errorOf(() => parseCsv('a,b,c\n1,2,3\n1,2\n', 'f.csv', H)).message).toMatch(
      /^f\.csv:3: 2 fields, expected 3/,
    );
    expect(errorOf(() => parseCsv('a,b,c\n1,2,3,4\n', 'f.csv', H)).message).toMatch(/^f\.csv:2: 4 fields/);
  });

  it('rejects an unterminated quote and an empty file', () => {
    expect(errorOf(() => parseCsv('a,b,c\n1,"2,3\n', 'f.csv', H)).message).toMatch(/f\.csv:2: unterminated/);
    expect(errorOf(() => parseCsv('', 'f.csv', H)).message).toMatch(/f\.csv: empty file/);
  });
});

describe('FieldReader', () => {
  const [rec] = parseCsv('a,b,c\n1.5,,x\n', 'f.csv', H);
  const r = new FieldReader('f.csv', rec);

  it('converts typed fields', () => {
    expect(r.number('a')).toBe(1.5);
    expect(r.optionalNumber('b')).toBeNull();
    expect(r.text('c')).toBe('x');
    expect(r.oneOf('c', ['x', 'y'])).toBe('x');
  });

  it('names file, line and column on bad values', () => {
    expect(errorOf(() => r.integer('a')).message).toBe('f.csv:2: column a must be an integer, got "1.5"');
    expect(errorOf(() => r.number('b')).message).toBe('f.csv:2: column b must be a number, got ""');
    expect(errorOf(() => r.number('a', 0, 1)).message).toBe('f.csv:2: column a must be in [0, 1], got "1.5"');
    expect(errorOf(() => r.number('c')).message).toMatch(/column c must be a number/);
    expect(errorOf(() => r.oneOf('c', ['0', '1'])).message).toMatch(/column c must be one of 0\|1/);
  });
});

describe("the writer's cells and the reader agree", () => {
  it('round-trips text with commas, quotes and line breaks, numbers and empty cells', () => {
    const cells = ['plain', 'a,b', 'say "hi"', 'two\nlines', 1.5, null, undefined, NaN, ''];
    const line = cells.map(formatCsvCell).join(',');
    expect(line).toBe('plain,"a,b","say ""hi""","two\nlines",1.5,,,,');
    // (a line break inside a cell is quoted, but the writers keep reasons on one line: see results-writer)
    expect(splitCsvLine(cells.slice(0, 3).map(formatCsvCell).join(','))).toEqual(['plain', 'a,b', 'say "hi"']);
  });
});

describe('older headers', () => {
  it('accepts a header an earlier version wrote; its missing columns read as empty', () => {
    const recs = parseCsv('a,b\n1,2\n', 'f.csv', H, [['a', 'b']]);
    expect(recs).toEqual([{ line: 2, values: { a: '1', b: '2' } }]);
    const r = new FieldReader('f.csv', recs[0]);
    expect(r.optionalText('c')).toBe('');
    expect(r.optionalNumber('c')).toBeNull();
    expect(errorOf(() => parseCsv('a,b\n1,2,3\n', 'f.csv', H, [['a', 'b']])).message).toMatch(
      /f\.csv:2: 3 fields, expected 2 \(a,b\)/,
    );
    expect(errorOf(() => parseCsv('b,a\n', 'f.csv', H, [['a', 'b']])).message).toMatch(/expected "a,b,c"/);
  });
});

describe('CsvAppender on a file an older version wrote (--resume of a committed run)', () => {
  it('adds the newer trailing columns, empty, and appends under one header; refuses a foreign header', () => {
    const dir = tmpDir('csv');
    const file = join(dir, 'learners.csv');
    const old = LEARNERS_HEADER_WITHOUT_REASON.join(',');
    writeFileSync(file, `${old}\neta,1,0,1e9,1e7,100,1,2,1,4,0\neta,1,1,1e9,1e7,100,,,,,missing\n`);
    const csv = new CsvAppender(file, LEARNERS_HEADER);
    csv.add({
      scheme: 'eta',
      cycle: 2,
      learner: 1,
      f_hz: 1e9,
      rate_bps: 1e7,
      batch: 100,
      t_send_s: 1,
      late: 0,
      missing: 1,
      reason: 'disconnected (1006)',
    });
    csv.flush();
    const rows = parseLearners(readFileSync(file, 'utf8'), file);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe(LEARNERS_HEADER.join(','));
    expect(rows.map((r) => r.reason)).toEqual([null, null, 'disconnected (1006)']);

    writeFileSync(join(dir, 'other.csv'), 'a,b\n1,2\n');
    expect(() => new CsvAppender(join(dir, 'other.csv'), LEARNERS_HEADER)).toThrow(
      /header is "a,b", expected "scheme,cycle,/,
    );
  });
});
