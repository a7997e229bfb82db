/** The world flags on the command line: listed in --help; bad values and bad trace files exit 2 with one clear line. */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const dir = tmpDir('world-flags');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(TSX, ['src/cli/experiment.ts', ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

function traceFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const HEADER = 'cycle,learner,f_hz,rate_bps,available\n';

describe('experiment --help', () => {
  it('lists every world flag and scheme robust', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    const help = r.stdout + r.stderr;
    for (const flag of [
      '--fading',
      '--shadowing-db',
      '--speed-mps',
      '--availability',
      '--mean-on-cycles',
      '--trace',
      '--csi',
      '--epsilon',
    ])
      expect(help).toContain(flag);
    expect(help).toMatch(/robust/);
  });
});

describe('bad world input: exit 2, one line naming the problem', () => {
  const small = ['--K', '2', '--train-samples', '600', '--test-samples', '100', '--no-report'];
  it.each([
    ['an unknown fading', ['--fading', 'rician'], /--fading must be one of none\|rayleigh, got "rician"/],
    ['availability 0', ['--availability', '0'], /--availability is out of range/],
    ['ε above 0.5', ['--schemes', 'robust', '--epsilon', '0.7'], /--epsilon is out of range/],
    ['ε without robust', ['--epsilon', '0.1'], /--epsilon applies to scheme robust/],
    ['an unknown csi', ['--csi', 'oracle'], /--csi must be one of profile\|last\|perfect/],
    [
      'on-runs too short for p',
      ['--availability', '0.9', '--mean-on-cycles', '2'],
      /--mean-on-cycles 2 is too short for --availability 0.9: .* at least p\/\(1−p\) = 9/,
    ],
    [
      'mean on-run without availability',
      ['--mean-on-cycles', '3'],
      /--mean-on-cycles applies to --availability below 1/,
    ],
    ['a missing trace', ['--trace', '/nonexistent/trace.csv'], /--trace file not found: \/nonexistent\/trace.csv/],
    [
      'a trace with a drawn world',
      ['--trace', 'data/example-trace.csv', '--fading', 'rayleigh'],
      /--trace replays a recorded world; it cannot be combined with --fading/,
    ],
  ])('%s', async (_what, args, message) => {
    const r = await run(...small, '--out', join(dir, 'never'), ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    [
      'a wrong header',
      `cycle,learner,f,rate,available\n1,0,1e9,1e8,1\n`,
      /:1: header is "cycle,learner,f,rate,available", expected "cycle,learner,f_hz,rate_bps,available"/,
    ],
    [
      'a bad number',
      `${HEADER}1,0,1e9,1e8,1\n1,1,fast,1e8,1\n`,
      /:3: column f_hz must be a decimal number, got "fast"/,
    ],
    [
      'a bad availability',
      `${HEADER}1,0,1e9,1e8,yes\n1,1,1e9,1e8,1\n`,
      /:2: column available must be 1 or 0, got "yes"/,
    ],
    ['a missing row', `${HEADER}1,0,1e9,1e8,1\n1,1,1e9,1e8,1\n2,0,1e9,1e8,1\n`, /no row for cycle 2, learner 1/],
    [
      'too many learners for K',
      `${HEADER}1,0,1e9,1e8,1\n1,1,1e9,1e8,1\n1,2,1e9,1e8,1\n`,
      /the trace has 3 learners \(0..2\) but the run has K = 2/,
    ],
  ])('a trace with %s names the file and line', async (name, text, message) => {
    const file = traceFile(`${name.replace(/ /g, '-')}.csv`, text);
    const out = join(dir, `run-${name.replace(/ /g, '-')}`);
    const r = await run(...small, '--out', out, '--trace', file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(message);
  });
});
