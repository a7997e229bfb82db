/**
 * --targets and --json end to end: the summary counts cycles to the given targets (kept on
 * --resume, which also extends a learners.csv of the older late/missing encoding in today's
 * columns), --json prints it on stdout; a percentage is refused in one line.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLearners } from '../../src/run-folder/read.ts';
import { LEARNERS_HEADER, LEARNERS_HEADER_LATE_OR_MISSING } from '../../src/run-folder/schema.ts';
import { errorLines, ROOT, tiny } from '../helpers/experiment-cli.ts';
import { tmpDir } from '../helpers/tmp.ts';

function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      { cwd: ROOT, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const dir = tmpDir('targets');
const out = join(dir, 'run');

describe('--targets and --json', () => {
  it('experiment: summary.json keys per target, printed with --json', async () => {
    const r = await run('src/cli/experiment.ts', [...tiny({ cycles: '1', out }), '--targets', '0.12,0.11', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed).toEqual(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')));
    expect(printed.schemes.optimal).toMatchObject({ cycles_to_11: 1, cycles_to_12: 1 });
    expect(printed.schemes.optimal.emulated_time_to_12_s).toBeGreaterThan(0);
    expect('cycles_to_97' in printed.schemes.optimal).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).targets).toEqual([0.11, 0.12]);
    expect(r.stderr).toMatch(/cycles→11%\s+cycles→12%/);
  }, 150_000);

  it("--resume keeps the targets and extends an older-encoding learners.csv in today's columns", async () => {
    const file = join(out, 'learners.csv');
    const [, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
    // As a version before the `missing` column wrote it (no learner was missing: late 0/1 as now).
    writeFileSync(
      file,
      [LEARNERS_HEADER_LATE_OR_MISSING.join(','), ...rows.map((l) => l.replace(/,[01]$/, ''))].join('\n') + '\n',
    );
    const r = await run('src/cli/experiment.ts', ['--resume', out, '--cycles', '2', '--no-report', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe(LEARNERS_HEADER.join(','));
    expect(
      text
        .trim()
        .split('\n')
        .slice(1)
        .every((l) => /,[01]$/.test(l)),
    ).toBe(true);
    expect(parseLearners(text, file).map((l) => l.cycle)).toEqual([1, 1, 2, 2]);
    expect(JSON.parse(r.stdout).schemes.optimal).toMatchObject({ cycles: 2, cycles_to_11: 1 });
  }, 150_000);

  it('report --json on the run, other --targets, --out elsewhere', async () => {
    const r = await run('src/cli/report.ts', [out, '--targets', '0.99', '--json', '--out', join(dir, 'rep')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).schemes.optimal).toMatchObject({ cycles_to_11: 1, cycles_to_99: null });
    expect(readFileSync(join(dir, 'rep', 'report.html'), 'utf8')).toMatch(/cycles to 99 %/);
  }, 150_000);

  it('a percentage, or a value outside (0, 1], is refused in one line', async () => {
    const r = await run('src/cli/experiment.ts', [...tiny({ out: join(dir, 'never') }), '--targets', '97']);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      'error: --targets 97: targets are fractions of the test set; for 97 % write 0.97',
    ]);
    const z = await run('src/cli/report.ts', [out, '--targets', '0,0.5']);
    expect(z.code).toBe(2);
    expect(errorLines(z.stderr)).toEqual(['error: --targets 0: a target must be a fraction in (0, 1], e.g. 0.97']);
  }, 150_000);
});
