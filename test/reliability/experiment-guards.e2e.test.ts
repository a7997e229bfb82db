/**
 * `npm run experiment` as a real process, before and around the cycles: the memory estimate that
 * refuses (or warns about) a run that cannot fit, the τ cap and the over-training warning, the
 * derived task timeout, and external mode's learner commands with reachable addresses and a
 * feasibility check before anyone is waited for.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFleet } from '../../src/model/devices.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';
import { reachableUrls } from '../../src/orchestrator/transport/addresses.ts';
import { PEAK_RSS_MB } from '../../src/orchestrator/fleet/memory.ts';
import { errorLines, ROOT, startExperiment, tiny } from '../helpers/experiment-cli.ts';
import { readCycles } from '../helpers/run-files.ts';
import { tmpDir } from '../helpers/tmp.ts';

const tmp = () => tmpDir('guards');

describe('--help', () => {
  it('documents the derived task timeout, --tau-max and --memory-mb', () => {
    const help = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/experiment.ts', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(help).toMatch(
      /--task-timeout-s .*default: max\(10, 10·T\) on the virtual clock, max\(10, 10·time-scale·T·e\^\(3·speed-jitter\)\) on the real one/,
    );
    expect(help).toMatch(/--tau-max <int> .*τ = min\(τ of the scheme, N\)/);
    expect(help).toMatch(/--memory-mb <number> .*250 MB per learner process \(host\) \+ 5 MB per learner \+ 400 MB/);
  });
});

describe('memory estimate before spawning', () => {
  it('refuses a run that cannot fit with exit 2, the numbers and fewer hosts that fit; nothing is created or started', async () => {
    const out = join(tmp(), 'run');
    const end = await startExperiment([...tiny({ K: '4', hosts: '4', 'memory-mb': '700' }), '--out', out]).exit;
    expect(end.code, end.stderr).toBe(2);
    const { learner_process: proc, per_learner: each, orchestrator: base } = PEAK_RSS_MB;
    expect(errorLines(end.stderr)).toEqual([
      `error: not enough memory for --K 4: the run needs about ${4 * proc + 4 * each + base} MB (4 learner processes × ${proc} MB + 4 learners × ${each} MB + ${base} MB for the orchestrator), ` +
        `700 MB are available (--memory-mb); use --hosts 1, or free memory (--memory-mb overrides the available figure)`,
    ]);
    expect(end.stderr).not.toMatch(/joined|waiting for|run folder/);
    expect(existsSync(out)).toBe(false);
  });

  it('warns when the estimate is close to what is available, and runs', async () => {
    const out = join(tmp(), 'run');
    const run = startExperiment([...tiny({ cycles: '1', hosts: '2', 'memory-mb': '1000' }), '--out', out]); // needs 910 of 1000 MB
    const end = await run.exit;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toMatch(
      /warning: memory is tight: the run needs about 910 MB .*, 1000 MB are available \(--memory-mb\)/,
    );
  });
});

describe('--tau-max and the over-training warning', () => {
  it('without a cap a tiny d gives τ > 20 and a warning; --tau-max caps τ, is recorded in config.json, and silences it', async () => {
    const free = startExperiment([...tiny({ cycles: '1' }), '--out', join(tmp(), 'free')]);
    const warned = await free.when(
      /warning: optimal gives τ = (\d+) local iterations per cycle \(more than 20\).*--tau-max/,
    );
    expect(Number(warned[1])).toBeGreaterThan(20);
    free.child.kill('SIGINT'); // the warning is all this run had to show
    expect((await free.exit).code).toBe(130);

    const out = join(tmp(), 'capped');
    const end = await startExperiment([...tiny({ cycles: '1', 'tau-max': '5' }), '--out', out]).exit;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).not.toMatch(/over-trains/);
    expect(readCycles(out).map((r) => r.tau)).toEqual([5]);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.tau_max).toBe(5);
    expect(config.task_timeout_s).toBe(120); // derived: 10 × T (T = 12 s, virtual clock)
  });
});

describe('external learners', () => {
  const seed = 3; // tiny()'s
  const flags = (K: string, host: string) => [
    ...tiny({ K, 'train-samples': '1200', seed: String(seed) }),
    '--external',
    '--host',
    host,
    '--port',
    '0',
    '--out',
    join(tmp(), 'run'),
  ];

  it('--host 0.0.0.0: one command per learner with a reachable address and the profile to announce', async () => {
    const run = startExperiment(flags('3', '0.0.0.0'));
    try {
      await run.when(/--learner-id 2 [^\n]*\n/);
      const commands = run
        .stderr()
        .split('\n')
        .filter((l) => l.includes('npm run learner') && l.includes('--learner-id '));
      expect(commands).toHaveLength(3);
      // …and one learner host for them all, which takes the fleet's profiles.
      expect(run.stderr()).toMatch(
        new RegExp(
          `npm run learner -- --connect ${reachableUrls('0.0.0.0', 1)[0].replace(/:1$/, '')}:\\d+ --learner-ids 0-2\n`,
        ),
      );
      const port = Number(
        /orchestrator listening on ws:\/\/0\.0\.0\.0:(\d+); learners connect to ws:\/\//.exec(run.stderr())![1],
      );
      // Where we listen is not where anyone can connect: no command, and no "waiting" line, names 0.0.0.0.
      expect(
        run
          .stderr()
          .split('\n')
          .filter((l) => l.includes('ws://0.0.0.0')),
      ).toEqual([expect.stringMatching(/^orchestrator listening on/)]);
      const fleet = generateFleet(3, seed, PAPER_PRESET);
      commands.forEach((c, id) => {
        expect(c).toContain(
          `--connect ${reachableUrls('0.0.0.0', port)[0]} --learner-id ${id} --f-hz ${fleet[id].f_hz} --distance-m ${fleet[id].distance_m}`,
        );
        expect(c).toMatch(/^ {2}MEL_TOKEN=[0-9a-f]{32} npm run learner -- /);
      });
    } finally {
      run.child.kill('SIGINT');
    }
    expect((await run.exit).code).toBe(130);
  });

  it('beyond a screenful: the first commands, a pattern for the rest, and all of them in learner-commands.txt', async () => {
    const args = flags('11', '127.0.0.1');
    const out = args.at(-1)!;
    const run = startExperiment(args);
    try {
      await run.when(/learners 8\.\.10: the same with --learner-id <id>[^\n]*\n/);
      expect(
        run
          .stderr()
          .split('\n')
          .filter((l) => l.includes('npm run learner') && l.includes('--learner-id ')),
      ).toHaveLength(8);
      const all = readFileSync(join(out, 'learner-commands.txt'), 'utf8').trim().split('\n');
      expect(all.map((c) => /--learner-id (\d+)/.exec(c)![1])).toEqual(Array.from({ length: 11 }, (_, i) => String(i)));
      expect(all.every((c) => c.includes('--connect ws://127.0.0.1:'))).toBe(true);
    } finally {
      run.child.kill('SIGINT');
    }
    expect((await run.exit).code).toBe(130);
  });

  it('with --learners FILE an infeasible fleet is refused before listening or waiting', async () => {
    const file = join(tmp(), 'fleet.json');
    writeFileSync(
      file,
      JSON.stringify([
        { f_hz: 7e8, distance_m: 40 },
        { f_hz: 7e8, distance_m: 45 },
      ]),
    );
    const end = await startExperiment([...tiny({ 'train-samples': '60000', learners: file }), '--external']).exit;
    expect(end.code, end.stderr).toBe(2);
    expect(errorLines(end.stderr)).toEqual([
      expect.stringMatching(/^error: scheme optimal has no feasible allocation with τ ≥ 1/),
    ]);
    expect(end.stderr).not.toMatch(/listening|waiting for|npm run learner/);
  });
});
