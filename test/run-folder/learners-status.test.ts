/**
 * learners.csv `late` and `missing` are two 0/1 columns (one type each, for pandas and friends);
 * files from before the `missing` column (`late` 0/1/"missing") still read, and a resumed one is
 * rewritten in today's encoding so it never mixes the two.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CsvAppender } from '../../src/orchestrator/store/run-files.ts';
import { parseLearners, validateSummary } from '../../src/run-folder/read.ts';
import { LEARNERS_HEADER, LEARNERS_HEADER_LATE_OR_MISSING, upgradeLearnerCells } from '../../src/run-folder/schema.ts';
import { tmpDir } from '../helpers/tmp.ts';

const HEAD = LEARNERS_HEADER.join(',');
const row = (late: number, missing: number) =>
  `eta,1,0,1e9,1e7,100,${missing ? ',,,' : '1,2,1,4'},${late},${missing ? 'lost' : ''},3,,,,${missing}`;

describe('learners.csv late and missing columns', () => {
  it("reads today's 0/1 columns", () => {
    const rows = parseLearners(`${HEAD}\n${row(0, 0)}\n${row(1, 0)}\n${row(0, 1)}\n`, 'learners.csv');
    expect(rows.map((r) => r.status)).toEqual(['on-time', 'late', 'missing']);
    expect(rows[2]).toMatchObject({ tTotalS: null, reason: 'lost' });
  });

  it('refuses a row that is both late and missing, and "missing" in the late column of today\'s files', () => {
    expect(() => parseLearners(`${HEAD}\n${row(1, 1)}\n`, 'l.csv')).toThrow(/l\.csv:2: late and missing are both 1/);
    expect(() => parseLearners(`${HEAD}\n${row(0, 0).replace(',0,,3,', ',missing,,3,')}\n`, 'l.csv')).toThrow(
      /l\.csv:2: column late must be one of 0\|1,/,
    );
  });

  it('a resumed file of the older encoding is upgraded row by row (quoted reasons kept)', () => {
    const dir = tmpDir('late');
    const file = join(dir, 'learners.csv');
    const old = `${LEARNERS_HEADER_LATE_OR_MISSING.join(',')}\neta,1,0,1e9,1e7,100,1,2,1,4,1,,3,5,4,1\neta,1,1,1e9,1e7,100,0.5,,,,missing,"closed (1006, away)",3,,,\n`;
    writeFileSync(file, old);
    const before = parseLearners(old, file);
    const csv = new CsvAppender(file, LEARNERS_HEADER, upgradeLearnerCells);
    csv.add({
      scheme: 'eta',
      cycle: 2,
      learner: 0,
      f_hz: 1e9,
      rate_bps: 1e7,
      batch: 100,
      t_send_s: 1,
      t_compute_s: 2,
      t_return_s: 1,
      t_total_s: 4,
      late: 0,
      tau: 3,
      missing: 0,
    });
    csv.flush();
    const text = readFileSync(file, 'utf8');
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe(HEAD);
    expect(lines[1].endsWith(',1,,3,5,4,1,0')).toBe(true);
    expect(lines[2]).toBe('eta,1,1,1e9,1e7,100,0.5,,,,0,"closed (1006, away)",3,,,,1');
    const after = parseLearners(text, file);
    expect(after.slice(0, 2)).toEqual(before);
    expect(after.map((r) => r.status)).toEqual(['late', 'missing', 'on-time']);
  });
});

/** Every learners.csv committed under results/ (all older encodings) reads, and agrees with its summary.json. */
function runFolders(dir: string): string[] {
  const here = readdirSync(dir).includes('learners.csv') ? [dir] : [];
  return [
    ...here,
    ...readdirSync(dir)
      .filter((e) => statSync(join(dir, e)).isDirectory())
      .flatMap((e) => runFolders(join(dir, e))),
  ];
}

describe('committed run folders', () => {
  const root = join(import.meta.dirname, '../../results');
  const dirs = runFolders(root);
  it('finds them', () => expect(dirs.length).toBeGreaterThan(10));
  it.each(dirs.map((d) => [d.slice(root.length + 1), d]))(
    '%s: late and missing counts match summary.json',
    (_name, dir) => {
      const rows = parseLearners(readFileSync(join(dir, 'learners.csv'), 'utf8'), 'learners.csv');
      const summary = validateSummary(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')), 'summary.json');
      for (const [scheme, s] of Object.entries(summary.schemes)) {
        expect(rows.filter((r) => r.scheme === scheme && r.status === 'late').length).toBe(s.late_learner_cycles);
        expect(rows.filter((r) => r.scheme === scheme && r.status === 'missing').length).toBe(s.missing_learner_cycles);
      }
    },
  );
});
