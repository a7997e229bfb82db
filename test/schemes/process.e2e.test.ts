/** User schemes as processes and modules: the examples work, and every kind of misbehaviour ends in one clear error. */
import { describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { problemMessage } from '../../src/allocation/answer.ts';
import { allocate as allocateTs } from '../../examples/schemes/proportional.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { spec as experimentSpec } from '../../src/cli/experiment.ts';
import { BUILTIN_SCHEMES, type SchemeProblem } from '../../src/allocation/index.ts';
import { InputError } from '../../src/errors.ts';
import { coefficients } from '../../src/model/coefficients.ts';
import { generateFleet } from '../../src/model/devices.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';
import { loadModuleScheme } from '../../src/schemes/module.ts';
import { ProcessScheme } from '../../src/schemes/process.ts';
import { checkSchemeNames, openSchemes, parseUserScheme } from '../../src/schemes/index.ts';
import { schemeColorScale } from '../../src/report/schemes.ts';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../..');
const fleet = generateFleet(20, 1, PAPER_PRESET);
const problem = (cycle: number): SchemeProblem => ({
  cycle,
  T_s: 12,
  d: 60000,
  coeffs: fleet.map((l) => coefficients(l, PAPER_PRESET, 'parallel')),
  devices: fleet.map((l) => ({ id: l.id, f_hz: l.f_hz, rate_bps: l.rate_bps })),
});

/** What proportional.py/ts must give: batches ∝ speed (largest remainders), then the largest common τ. */
function expectedProportional() {
  const speeds = fleet.map((l) => l.f_hz);
  const total = speeds.reduce((s, x) => s + x, 0);
  const exact = speeds.map((s) => (60000 * s) / total);
  const batch = exact.map(Math.floor);
  const byRemainder = exact.map((_, k) => k).sort((i, j) => exact[j] - batch[j] - (exact[i] - batch[i]) || i - j);
  for (const k of byRemainder.slice(0, 60000 - batch.reduce((s, x) => s + x, 0))) batch[k]++;
  return batch;
}

function processScheme(command: string, timeout_s = 60, log: string[] = []) {
  return new ProcessScheme({ name: 'mine', command, timeout_s, log: (l) => log.push(l), cwd: ROOT });
}

// Names this test run's scheme processes, so that a leftover check cannot find another run's (CI and a
// worktree may run this file at once on one machine).
const RUN_TAG = `run-${process.pid}`;

// Generous: a loaded machine can take seconds to start Python.
const misbehaving = (mode: string, fromCycle = 0, timeout_s = 60) =>
  processScheme(`python3 test/schemes/misbehaving-scheme.py ${mode} ${fromCycle}`, timeout_s);

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as Error;
  }
  throw new Error('expected a failure');
}

/** `npm run allocate -- ARGS` as run from `initCwd` (npm names the caller in INIT_CWD). */
function allocateCli(args: string[], initCwd = ROOT): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['src/cli/allocate.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, INIT_CWD: initCwd },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `npm run allocate -- --K 20 --T 12 ARGS --json`: its report (it must exit 0). */
function allocateJson(args: string[], initCwd = ROOT): string {
  const run = allocateCli(['--K', '20', '--T', '12', ...args, '--json'], initCwd);
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

/** The lines of an exit-2 stderr that are not the scheme's own (passed through with its prefix). */
function errorLinesOf(run: { status: number | null; stderr: string }): string[] {
  expect(run.status, run.stderr).toBe(2);
  return run.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('[scheme mine]'));
}

describe('the examples', () => {
  it('proportional.py as a process: batches ∝ speed, the largest common τ, kept for several cycles, stderr to the log', async () => {
    const log: string[] = [];
    const s = processScheme('python3 examples/schemes/proportional.py', 60, log);
    try {
      const a = await s.allocate(problem(1));
      const b = await s.allocate(problem(2));
      expect(a).toMatchObject({ feasible: true, scheme: 'mine', batch: expectedProportional(), staleness: 0 });
      if (!a.feasible) throw new Error(a.reason);
      // τ: the most every learner can do with its batch, so τ + 1 misses T for at least one of them.
      expect(a.tau).toBe(5);
      expect(a.time_s.every((t) => t <= 12)).toBe(true);
      expect(b).toEqual(a);
    } finally {
      await s.close();
    }
    // stderr is a pipe of its own, read apart from the answers; once the process has closed, all of it is in.
    expect(log).toEqual(['[scheme mine] cycle 1: tau = 5', '[scheme mine] cycle 2: tau = 5']);
  });

  it('proportional.ts as a module and as a process gives the same allocation as the Python one', async () => {
    const mod = await loadModuleScheme('mine', join(ROOT, 'examples/schemes/proportional.ts'), 5);
    expect(mod.kind).toBe('common-tau');
    const proc = processScheme(`${join(ROOT, 'node_modules/.bin/tsx')} examples/schemes/proportional.ts`);
    try {
      const fromModule = await mod.allocate(problem(1));
      expect(fromModule).toMatchObject({ feasible: true, tau: 5, batch: expectedProportional() });
      expect(await proc.allocate(problem(1))).toEqual(fromModule);
    } finally {
      await proc.close();
    }
  });

  it('their messages follow docs/schemes/: the problem each is given and the answer each gives validate against the JSON Schemas', async () => {
    const ajv = new Ajv({ strict: false });
    const schema = (name: string) => ajv.compile(JSON.parse(readFileSync(join(ROOT, 'docs/schemes', name), 'utf8')));
    const [problemSchema, answerSchema] = [schema('problem.schema.json'), schema('answer.schema.json')];
    const message = problemMessage('mine', problem(1));
    expect(problemSchema(message), JSON.stringify(problemSchema.errors)).toBe(true);
    const fromPython = JSON.parse(
      execFileSync('python3', ['examples/schemes/proportional.py'], {
        cwd: ROOT,
        input: JSON.stringify(message) + '\n',
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'ignore'],
      }),
    );
    const fromTs = await allocateTs(message);
    for (const answer of [fromPython, fromTs]) {
      expect(answerSchema(answer), JSON.stringify(answerSchema.errors)).toBe(true);
      expect(answer).toEqual({ batch: expectedProportional(), tau: 5 });
    }
    // The infeasible answer too: no learner can exchange the model within T_s.
    const hopeless = { ...message, learners: message.learners.map((l) => ({ ...l, c0: 13 })) };
    expect(answerSchema(await allocateTs(hopeless))).toBe(true);
    expect(await allocateTs(hopeless)).toEqual({ infeasible: 'no learner can exchange the model within T_s' });
  });

  it('the acceptance command: npm run allocate compares optimal with the Python scheme', () => {
    const out = allocateJson([
      '--schemes',
      'optimal,mine',
      '--scheme-cmd',
      'mine=python3 examples/schemes/proportional.py',
    ]);
    const report = JSON.parse(out);
    expect(Object.keys(report.allocations)).toEqual(['optimal', 'mine']);
    expect(report.allocations.mine).toMatchObject({ feasible: true, tau: 5, batch: expectedProportional() });
    expect(report.allocations.optimal).toEqual(BUILTIN_SCHEMES.optimal.allocate(problem(0)));
    expect(report.energy_j.mine).toHaveLength(20);
  });

  it('from another directory (npm runs in the package root and names the caller in INIT_CWD): the module path and the command are the caller’s', () => {
    const out = allocateJson(
      [
        ...['--schemes', 'optimal,mine,theirs'],
        ...['--scheme-module', 'theirs=../examples/schemes/proportional.ts'],
        ...['--scheme-cmd', 'mine=python3 ../examples/schemes/proportional.py'],
      ],
      join(ROOT, 'docs'),
    );
    const report = JSON.parse(out);
    expect(report.allocations.mine).toMatchObject({ feasible: true, tau: 5, batch: expectedProportional() });
    expect(report.allocations.theirs).toEqual({ ...report.allocations.mine, scheme: 'theirs' });
  });
});

describe('npm run allocate with a scheme that answers wrong', () => {
  it('exits 2 with one line naming the learner and the numbers, and leaves no process behind', () => {
    const lines = errorLinesOf(
      allocateCli([
        ...['--K', '20', '--T', '12', '--schemes', 'optimal,mine'],
        ...['--scheme-cmd', `mine=python3 test/schemes/misbehaving-scheme.py late 0 ${RUN_TAG}`],
      ]),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^error: scheme mine, cycle 0: learner \d+: t_k = [\d.]+ s > T_s = 12 s \(d_k = \d+, τ_k = 6, c0 = /,
    );
    expect(() => execFileSync('pgrep', ['-f', `misbehaving-scheme.py late 0 ${RUN_TAG}`])).toThrow();
  });

  it('an extra output line after its only answer: exit 2 with that line (allocate asks once; the line was ignored)', () => {
    const lines = errorLinesOf(
      allocateCli([
        ...['--K', '5', '--T', '12', '--schemes', 'optimal,mine'],
        ...['--scheme-cmd', 'mine=python3 test/schemes/misbehaving-scheme.py extra'],
      ]),
    );
    expect(lines).toEqual([
      'error: scheme mine wrote an extra line on stdout after its answer to cycle 0: "debug: done" (one answer line per problem; print anything else to stderr)',
    ]);
  });

  it('an unknown scheme name says how to define it', () => {
    try {
      execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['src/cli/allocate.ts', '--schemes', 'optimal,mine'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      throw new Error('expected exit 2');
    } catch (e) {
      expect((e as { status: number }).status).toBe(2);
      expect((e as { stderr: string }).stderr).toMatch(
        /^error: --schemes: unknown scheme "mine"; define it with --scheme-module mine=PATH or --scheme-cmd "mine=COMMAND"/,
      );
    }
  });
});

describe('the report', () => {
  it('gives a user scheme its own colour and legend entry (its name), the same in every chart', () => {
    const scale = schemeColorScale(['optimal', 'eta', 'mine']);
    expect(scale.domain).toEqual(['adaptive (optimal)', 'ETA', 'mine']);
    expect(new Set(scale.range).size).toBe(3);
    const two = schemeColorScale(['mine', 'eta']);
    expect(two.range[two.domain.indexOf('mine')]).toBe(scale.range[2]);
  });
});

describe('a process scheme that misbehaves stops with one line', () => {
  it.each([
    ['sum', /^scheme mine, cycle 1: Σ d_k = 59999 ≠ d = 60000$/],
    ['late', /^scheme mine, cycle 1: learner \d+: t_k = [\d.]+ s > T_s = 12 s \(d_k = \d+, τ_k = 6,/],
    ['tau0', /^scheme mine, cycle 1: τ = 0: must be an integer ≥ 1$/],
    ['float', /^scheme mine, cycle 1: learner 0: d_k = [\d.]+5 is not an integer ≥ 0$/],
    ['notjson', /^scheme mine, cycle 1: its answer is not JSON: "batch: \[/],
  ])('a wrong answer (%s)', async (mode, message) => {
    const s = misbehaving(mode);
    try {
      const e = await failure(s.allocate(problem(1)));
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain('\n');
    } finally {
      await s.close();
    }
  });

  it.each(['extra', 'extra-split'])(
    'an extra output line after an answer fails the next request (%s)',
    async (mode) => {
      const s = misbehaving(mode);
      try {
        await s.allocate(problem(1));
        const e = await failure(s.allocate(problem(2)));
        expect(e.message).toMatch(
          /^scheme mine wrote an extra line on stdout after its answer to cycle 1: "debug: done" \(one answer line per problem; print anything else to stderr\)$/,
        );
      } finally {
        await s.close();
      }
    },
  );

  it('a crash: its exit code and the tail of its stderr', async () => {
    const s = misbehaving('crash', 2);
    try {
      expect(await s.allocate(problem(1))).toMatchObject({ feasible: true });
      const e = await failure(s.allocate(problem(2)));
      expect(e.message).toMatch(
        /^scheme mine \(python3 test\/schemes\/misbehaving-scheme\.py crash 2\) exited with code 3; its stderr ends: .*ZeroDivisionError: division by zero$/,
      );
    } finally {
      await s.close();
    }
  });

  it('no answer within the timeout: the process group is killed', async () => {
    const s = processScheme(`python3 test/schemes/misbehaving-scheme.py sleep 0 ${RUN_TAG}`, 3);
    const started = Date.now();
    const e = await failure(s.allocate(problem(1)));
    expect(e.message).toMatch(
      /^scheme mine did not answer cycle 1 within 3 s \(--scheme-timeout-s\)(; its stderr ends: .*)?$/,
    );
    // Well before the 60 s the scheme sleeps (so the timeout ended it), with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(30_000);
    await s.close();
    const pgrep = (() => {
      try {
        return execFileSync('pgrep', ['-f', `misbehaving-scheme.py sleep 0 ${RUN_TAG}`], { encoding: 'utf8' });
      } catch {
        return '';
      }
    })();
    expect(pgrep).toBe('');
  });

  it('a command that does not exist', async () => {
    const s = processScheme('no-such-program-xyz --flag');
    try {
      expect((await failure(s.allocate(problem(1)))).message).toMatch(
        /^scheme mine \(no-such-program-xyz --flag\) exited with code 127; its stderr ends: .*not found/,
      );
    } finally {
      await s.close();
    }
  });

  it('infeasible is an answer (the caller decides what it means)', async () => {
    const s = misbehaving('infeasible');
    try {
      expect(await s.allocate(problem(1))).toEqual({
        feasible: false,
        scheme: 'mine',
        reason: 'my solver gave up',
        binding: [],
      });
    } finally {
      await s.close();
    }
  });
});

describe('module schemes that misbehave', () => {
  it('a module without allocate, with a wrong kind, or that cannot load', async () => {
    const dir = join(ROOT, 'test/schemes');
    await expect(loadModuleScheme('mine', join(dir, 'process.e2e.test.ts'), 1)).rejects.toThrow(
      /must export a function allocate\(problem\)|cannot load module/,
    );
    await expect(loadModuleScheme('mine', join(dir, 'nope.ts'), 1)).rejects.toThrow(/scheme mine: cannot load module/);
  });
});

describe('the flags', () => {
  it('NAME=VALUE, names that fit files and lists, no built-in names, every name defined and used', () => {
    expect(parseUserScheme('scheme-cmd', 'mine=python3 x.py --a=b')).toEqual({
      name: 'mine',
      command: 'python3 x.py --a=b',
    });
    expect(() => parseUserScheme('scheme-cmd', 'python3 x.py')).toThrow(/--scheme-cmd takes NAME=COMMAND/);
    expect(() => parseUserScheme('scheme-cmd', 'my scheme=python3 x.py')).toThrow(
      /the name "my scheme" must start with a letter/,
    );
    expect(() => parseUserScheme('scheme-cmd', 'optimal=python3 x.py')).toThrow(/"optimal" is a built-in scheme/);
    expect(() => parseUserScheme('scheme-module', 'mine=nope.ts')).toThrow(/no such file nope\.ts/);
    expect(() => checkSchemeNames(['optimal', 'theirs'], [])).toThrow(
      /unknown scheme "theirs"; define it with --scheme-module theirs=PATH/,
    );
    expect(() => checkSchemeNames(['optimal'], [{ name: 'mine', command: 'x' }])).toThrow(
      /scheme mine is defined but not in --schemes/,
    );
    expect(() =>
      checkSchemeNames(
        ['mine'],
        [
          { name: 'mine', command: 'x' },
          { name: 'mine', module: 'y' },
        ],
      ),
    ).toThrow(/defined twice/);
  });

  it('--scheme-module paths: relative to where the user ran the command, in a --config file to the file; config.json keeps them absolute', () => {
    const dir = tmpDir('scheme-flags');
    writeFileSync(join(dir, 'run.toml'), 'schemes = ["optimal", "mine"]\nscheme-module = ["mine=my-scheme.ts"]\n');
    expect(parseArgs(['--config', join(dir, 'run.toml')], experimentSpec).schemeModule).toEqual([
      `mine=${join(dir, 'my-scheme.ts')}`,
    ]);
    vi.stubEnv('INIT_CWD', dir);
    try {
      expect(parseArgs(['--scheme-module', 'mine=../x/my-scheme.ts,b=/abs.ts'], experimentSpec).schemeModule).toEqual([
        `mine=${join(dir, '../x/my-scheme.ts')}`,
        'b=/abs.ts',
      ]);
      // A malformed item is left for parseUserScheme to refuse with its own line.
      expect(parseArgs(['--scheme-module', 'nameless'], experimentSpec).schemeModule).toEqual(['nameless']);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a failure while opening stops what already started', async () => {
    await expect(
      openSchemes(
        [
          { name: 'a', command: 'sleep 30' },
          { name: 'b', module: 'nope.ts' },
        ],
        { timeout_s: 1, log: () => {} },
      ),
    ).rejects.toThrow(/cannot load module/);
  });
});
