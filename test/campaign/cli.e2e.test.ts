/**
 * The campaign commands: as real processes, --help says what a seed changes and bad input exits 2
 * with one line; the other refusals in-process (the exit-code mapping is runCli's, tested above).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.ts';
import { campaignMain } from '../../src/cli/campaign.ts';
import { configFromArgs, spec } from '../../src/cli/experiment.ts';
import { runSweep } from '../../src/campaign/sweep.ts';
import { InputError } from '../../src/errors.ts';
import { paperMain } from '../../experiments/paper.ts';
import { smallConfig } from '../helpers/run-config.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('campaign CLIs as processes', () => {
  it('experiment --help documents --seeds (what a seed changes) and --fixed-fleet', () => {
    const r = run('src/cli/experiment.ts', ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /--seeds .*fleet \(learner positions → path loss → link rates\), the initial weights, the data order/,
    );
    expect(r.stdout).toMatch(/--fixed-fleet/);
  });

  it.each([
    ['src/cli/experiment.ts', ['--seeds', '0'], /--seeds 0: a campaign needs at least 1 seed/],
    ['src/cli/experiment.ts', ['--seeds', 'a,b'], /--seeds: "a" is not a seed/],
    ['src/cli/sweep.ts', ['--K', '10,x,40', '--T', '12'], /--K: "x" is not an integer in 1\.\.1000/],
    ['experiments/paper.ts', ['--seeds', '0'], /--seeds 0/],
  ])('%s %j exits 2 with one line', (script, args, message) => {
    const r = run(script, args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('error:')),
    ).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('campaign refusals in-process', () => {
  const campaign = (argv: string[]) => campaignMain(parseArgs(argv, spec), configFromArgs);

  it('experiment: --fixed-fleet without --seeds, --seeds with --resume or --external', async () => {
    await expect(campaign(['--fixed-fleet'])).rejects.toThrow(/give --seeds too/);
    await expect(campaign(['--seeds', '2', '--resume', '/tmp/x'])).rejects.toThrow(/rerun the same command/);
    await expect(campaign(['--seeds', '2', '--external'])).rejects.toThrow(UsageError);
  });

  it('sweep: an infeasible cell is refused before anything runs, naming the cell and the seed', async () => {
    await expect(
      runSweep(smallConfig(), { out: '/tmp/mel-never-written', Ks: [3], Ts: [12, 0.01], seeds: [1], log: () => {} }),
    ).rejects.toThrow(/cell K=3 T=0\.01: seed 1: scheme optimal has no feasible allocation/);
    await expect(
      runSweep(smallConfig(), { out: '/tmp/mel-never-written', Ks: [3], Ts: [12, 0.01], seeds: [1], log: () => {} }),
    ).rejects.toThrow(InputError);
  });

  it('sweep: list values are checked one by one', async () => {
    const { gridValues } = await import('../../src/cli/grid.ts');
    expect(gridValues(['10', '20'], 'K', true, 1000)).toEqual([10, 20]);
    expect(() => gridValues(['10', '0'], 'K', true, 1000)).toThrow(/"0" is not an integer in 1\.\.1000/);
    expect(() => gridValues(['12', '-3'], 'T', false)).toThrow(/--T: "-3" is not a number > 0/);
    expect(() => gridValues(['12', '12'], 'T', false)).toThrow(/listed twice/);
  });

  it('paper: the schemes must include ETA and an adaptive scheme', async () => {
    await expect(paperMain(['--schemes', 'optimal'])).rejects.toThrow(/--schemes must include eta/);
  });
});
