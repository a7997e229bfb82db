/** The flags of per-learner τ_k, energy and aggregation: listed in --help, bad values exit 2 with one line. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function run(script: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [script, ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('async/energy flags', () => {
  it('--help of experiment, sweep and allocate lists them', async () => {
    for (const script of ['src/cli/experiment.ts', 'src/cli/sweep.ts', 'src/cli/allocate.ts']) {
      const r = await run(script, '--help');
      expect(r.code).toBe(0);
      for (const flag of ['--max-staleness', '--kappa', '--rx-power-w', '--energy-j']) expect(r.stdout).toContain(flag);
      if (script !== 'src/cli/allocate.ts') expect(r.stdout).toMatch(/--aggregate fedavg\|fednova/);
      expect(r.stdout).toMatch(/async/);
    }
  });

  it.each([
    ['src/cli/experiment.ts', ['--aggregate', 'median'], /--aggregate must be one of fedavg\|fednova/],
    ['src/cli/experiment.ts', ['--max-staleness', '-1'], /--max-staleness is out of range/],
    ['src/cli/experiment.ts', ['--energy-j', '0'], /--energy-j is out of range/],
    ['src/cli/experiment.ts', ['--kappa', 'x'], /--kappa must be a number/],
    [
      'src/cli/experiment.ts',
      ['--schemes', 'optimal,energy', '--out', '/tmp/mel-never'],
      /--schemes energy needs a budget/,
    ],
    ['src/cli/allocate.ts', ['--schemes', 'energy'], /--schemes energy needs a budget/],
    [
      'src/cli/allocate.ts',
      ['--K', '6', '--schemes', 'energy', '--energy-j', '2'],
      /infeasible \(energy\).*budgets bind for learners/,
    ],
    ['src/cli/sweep.ts', ['--energy-j', '5,x'], /--energy-j: "x" is not a number > 0/],
    [
      'src/cli/allocate.ts',
      ['--schemes', 'optimal,robust'],
      /--schemes: robust plans on the quantiles of a world that changes.*npm run experiment/,
    ],
    [
      'experiments/fig1.ts',
      ['--schemes', 'robust'],
      /--schemes: robust plans on the quantiles of a world that changes/,
    ],
  ] as [string, string[], RegExp][])('%s %j exits 2 with one line', async (script, args, message) => {
    const r = await run(script, ...args);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(message);
    expect(lines.at(-1)).toMatch(/^error: /);
  });

  it('allocate --json carries tau_per_learner for every scheme (sync schemes: the same τ)', async () => {
    const r = await run(
      'src/cli/allocate.ts',
      '--K',
      '6',
      '--T',
      '12',
      '--json',
      '--schemes',
      'optimal,async,energy',
      '--energy-j',
      '20',
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const opt = report.allocations.optimal;
    expect(opt.tau_per_learner).toEqual(opt.batch.map((n: number) => (n > 0 ? opt.tau : 0)));
    const asy = report.allocations.async;
    expect(Math.min(...asy.tau_per_learner)).toBe(opt.tau);
    expect(asy.staleness).toBeLessThanOrEqual(1);
    expect(report.energy_j.energy.every((e: number) => e <= 20 * (1 + 1e-9))).toBe(true);
  });
});
