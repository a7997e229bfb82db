/**
 * Every input-error class reaches the user the same way from every command: one line on stderr, no
 * stack, exit code 2 — because they all extend the one InputError and runCli maps it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function run(script: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [script, ...args], { cwd: ROOT, timeout: 60_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

let dir: string;
let badIdx: string;
beforeAll(() => {
  dir = tmpDir('exit');
  // Four files with the MNIST names whose bytes are not IDX: an IdxFormatError.
  badIdx = join(dir, 'idx');
  rmSync(badIdx, { recursive: true, force: true });
  mkdirSync(badIdx);
  for (const f of [
    'train-images-idx3-ubyte',
    'train-labels-idx1-ubyte',
    't10k-images-idx3-ubyte',
    't10k-labels-idx1-ubyte',
  ])
    writeFileSync(join(badIdx, f), 'not an idx file');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases: [string, string, string[], RegExp][] = [
  ['UsageError', 'src/cli/experiment.ts', ['--K', '0'], /--K is out of range/],
  [
    'DataError',
    'src/cli/experiment.ts',
    ['--data-dir', '/nonexistent', '--K', '2', '--out', '/tmp/mel-exit-never'],
    /nonexistent/,
  ],
  [
    'BackendError',
    'src/cli/experiment.ts',
    ['--engine', 'tfjs', '--backend', 'node', '--K', '2', '--train-samples', '600', '--out', '<out>'],
    /backend node is not available/,
  ],
  [
    'BackendError',
    'src/cli/train-central.ts',
    ['--engine', 'tfjs', '--backend', 'node', '--epochs', '1'],
    /backend node is not available/,
  ],
  ['DataError', 'src/cli/train-central.ts', ['--data-dir', '/nonexistent'], /nonexistent/],
  ['IdxFormatError', 'src/cli/train-central.ts', ['--data-dir', '<idx>'], /IDX/i],
  ['InputError (report folder)', 'src/cli/report.ts', ['/nonexistent-run'], /\/nonexistent-run: folder not found/],
  ['InputError (learners file)', 'src/cli/allocate.ts', ['--learners', '<missing>'], /learners/],
  ['UsageError', 'src/cli/learner.ts', ['--learner-id', '0'], /--connect/],
  [
    'UsageError (host ids)',
    'src/cli/learner.ts',
    ['--connect', 'ws://127.0.0.1:9', '--token', 't', '--learner-ids', '5-2'],
    /--learner-ids: range "5-2" must run from a smaller id/,
  ],
  [
    'UsageError (one form)',
    'src/cli/learner.ts',
    ['--connect', 'ws://127.0.0.1:9', '--token', 't', '--learner-ids', '0-3', '--learner-id', '1'],
    /give exactly one of --learner-id N .* and --learner-ids/,
  ],
  [
    'UsageError (half a profile)',
    'src/cli/learner.ts',
    ['--connect', 'ws://127.0.0.1:9', '--token', 't', '--learner-id', '1', '--distance-m', '3'],
    /give --f-hz too/,
  ],
  [
    'InputError (host learners file)',
    'src/cli/learner.ts',
    ['--connect', 'ws://127.0.0.1:9', '--token', 't', '--learner-ids', '0-3', '--learners', '<missing>'],
    /--learners .*: cannot read it \(ENOENT\)/,
  ],
  [
    'UsageError (--hosts > K)',
    'src/cli/experiment.ts',
    ['--K', '2', '--hosts', '3'],
    /--hosts 3 exceeds K = 2: at most one host per learner/,
  ],
  [
    'UsageError (--fail-host)',
    'src/cli/experiment.ts',
    ['--K', '4', '--hosts', '2', '--fail-host', '2@1'],
    /--fail-host 2@1: host must be in 0\.\.1/,
  ],
  ['UsageError', 'experiments/fig1.ts', ['--no-such-flag'], /unknown flag/],
  // fig1's lists are bounded like sweep's and allocate's: a T the solver refuses, a K that exhausts memory (#28)
  ['UsageError (fig1 --T)', 'experiments/fig1.ts', ['--T', '1e17'], /--T takes numbers > 0 and <= 1000000, got "1e17"/],
  ['UsageError (fig1 --K)', 'experiments/fig1.ts', ['--K', '1e9'], /--K takes integers in 1\.\.10000000, got "1e9"/],
  ['DataError', 'bench/train.ts', ['--data-dir', '/nonexistent'], /nonexistent/],
];

describe('exit code 2 for every input-error class from every command', () => {
  it.each(cases)('%s from %s', async (_what, script, args, message) => {
    const r = await run(
      script,
      ...args.map((a) =>
        a.replace('<idx>', badIdx).replace('<missing>', join(dir, 'missing.json')).replace('<out>', join(dir, 'run')),
      ),
    );
    expect(r.code).toBe(2);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !/^\[learner \d+\]/.test(l)); // spawned learners may speak too
    expect(lines.filter((l) => l.startsWith('error: '))).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  });
});
