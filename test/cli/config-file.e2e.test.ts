/**
 * Experiments as files: --config FILE (TOML or JSON), --print-config and its round trip, flags over
 * the file, one line and exit 2 for each kind of bad file, [sweep] tables, K from --learners, old
 * flag names, and paths relative to where the user ran the command. Mostly in-process (parse and
 * resolve exactly as the commands do); a few real processes check exit codes and stderr.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { configText, parseArgs, type CommandSpec } from '../../src/cli/args.ts';
import { configFromArgs, runConfigText, spec } from '../../src/cli/experiment.ts';
import { spec as fig1Spec } from '../../experiments/fig1.ts';
import { spec as paperSpec } from '../../experiments/paper.ts';
import { spec as sweepSpec } from '../../src/cli/sweep.ts';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const dir = tmpDir('config-file');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

type Result = { code: number; stdout: string; stderr: string };

function run(script: string, args: string[], env: Record<string, string> = {}, timeout = 120_000): Promise<Result> {
  return new Promise((resolve) =>
    execFile(
      TSX,
      [script, ...args],
      { cwd: ROOT, timeout, env: { ...process.env, INIT_CWD: '', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** What `experiment … --print-config` prints, in-process. */
function printed(argv: string[], s: CommandSpec = spec): string {
  if (s !== spec) return configText(s, parseArgs(argv, s));
  return runConfigText(parseArgs(argv, spec));
}

/** The one-line error `experiment` would exit 2 with (configFromArgs: the checks across settings). */
function refusal(argv: string[]): string {
  try {
    configFromArgs(parseArgs(argv, spec));
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('--print-config', () => {
  it('prints every setting with a comment line, defaults included', () => {
    const text = printed(['--K', '5', '--lr', '0.05']);
    expect(text).toMatch(/^K = 5$/m);
    expect(text).toMatch(/^lr = 0.05$/m);
    expect(text).toMatch(/^train-samples = 60000$/m);
    expect(text).toMatch(/^schemes = \["optimal", "eta"\]$/m);
    expect(text).toMatch(/^report = true$/m);
    expect(text).toMatch(/^# .*\[J\/\(cycle·Hz²\)\]\nkappa = /m);
    expect(text).not.toMatch(/token/);
  });

  it('round trip: its output read back with --config prints identical text', () => {
    const first = printed([
      '--K',
      '7',
      '--T',
      '30',
      '--schemes',
      'optimal,async,eta',
      '--cpu-hz',
      '1e9,2.4e9',
      '--no-report',
      '--tau-max',
      '9',
      '--fail',
      '1@2',
    ]);
    expect(printed(['--config', file('round.toml', first)])).toBe(first);
    // The model a run resolves is printed: CIFAR-10's default takes its 3,072-pixel input.
    const cifar = printed(['--dataset', 'cifar10', '--data-dir', dir]);
    expect(cifar).toContain('model = "mlp:3072-300-124-60-10"');
    expect(cifar).toContain('train-samples = 50000');
    expect(printed(['--config', file('round-cifar.toml', cifar)])).toBe(cifar);
    const fig1 = printed(['--fleets', '3', '--K', '5,10'], fig1Spec);
    expect(printed(['--config', file('round-fig1.toml', fig1)], fig1Spec)).toBe(fig1);
  });

  it('flags on the command line override the file', () => {
    const text = printed(['--config', file('prec.toml', 'K = 5\nT = 30\nlr = 0.05\n'), '--K', '8']);
    expect(text).toMatch(/^K = 8$/m);
    expect(text).toMatch(/^T = 30$/m);
    expect(text).toMatch(/^lr = 0.05$/m);
  });

  it('JSON by extension, with a --no-X flag as X = false', () => {
    const text = printed([
      '--config',
      file('c.json', JSON.stringify({ K: 6, report: false, schemes: ['optimal', 'eta'], seeds: 3 })),
    ]);
    expect(text).toMatch(/^K = 6$/m);
    expect(text).toMatch(/^report = false$/m);
    expect(text).toMatch(/^seeds = "3"$/m);
  });

  it('the real command prints it on stdout and exits 0 without running', async () => {
    const r = await run('src/cli/experiment.ts', ['--K', '5', '--print-config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(printed(['--K', '5']));
  });
});

describe('a bad --config file: one line naming the file, its line and the key', () => {
  it('unknown key: names the key, the file and its line, and the close key', () => {
    const f = file('typo.toml', 'K = 5\n\ntrian-samples = 3000\n');
    expect(refusal(['--config', f])).toBe(`${f}:3: unknown key "trian-samples" (did you mean "train-samples"?)`);
    expect(refusal(['--config', file('snake.toml', 'train_samples = 3000\n')])).toMatch(
      /:1: unknown key "train_samples" \(did you mean "train-samples"\?\)/,
    );
    expect(refusal(['--config', file('far.toml', 'colour = "red"\n')])).toMatch(/:1: unknown key "colour"$/);
  });

  it('wrong type: names the key and what it takes', () => {
    expect(refusal(['--config', file('type.toml', 'K = 5\nlr = "fast"\n')])).toMatch(
      /type\.toml:2: lr takes a number, got "fast"/,
    );
    expect(refusal(['--config', file('bool.toml', 'report = "no"\n')])).toMatch(
      /bool\.toml:1: report takes true or false, got "no"/,
    );
  });

  it('out of range: names the key and the range', () => {
    expect(refusal(['--config', file('range.toml', 'K = 0\n')])).toMatch(
      /range\.toml:1: K is out of range \(>= 1 and <= 1000\), got 0/,
    );
    expect(refusal(['--config', file('choice.toml', 'scenario = "bogus"\n')])).toMatch(
      /choice\.toml:1: scenario must be one of parallel\|federated, got "bogus"/,
    );
    // Scheme names are checked with the user's own schemes in view (--scheme-module, --scheme-cmd).
    expect(refusal(['--config', file('scheme.toml', 'schemes = ["optimal", "bogus"]\n')])).toMatch(
      /--schemes: unknown scheme "bogus"/,
    );
  });

  it('a TOML syntax error: file:line', () => {
    expect(refusal(['--config', file('syntax.toml', 'K = 5\nT = [12,\nlr = \n')])).toMatch(
      /syntax\.toml:\d: not valid TOML/,
    );
    expect(refusal(['--config', file('bad.json', '{"K": 5,\n "T": }')])).toMatch(/bad\.json:\d+: not valid JSON/);
  });

  it('a missing file', () => {
    expect(refusal(['--config', join(dir, 'nope.toml')])).toMatch(/--config .*nope\.toml: no such file/);
  });

  it('a [sweep] table outside the sweep command says which command expands it', () => {
    expect(refusal(['--config', file('grid.toml', 'seeds = 2\n[sweep]\nK = [10, 20]\n')])).toMatch(
      /grid\.toml:2: a \[sweep\] table is expanded by the sweep command/,
    );
  });

  it('the real command: exit 2, one line on stderr, the --out folder never created', async () => {
    const out = join(dir, 'never');
    const r = await run('src/cli/experiment.ts', [
      '--config',
      file('bad-out.toml', `out = "${out}"\ntrian-samples = 3\n`),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: .*bad-out\.toml:2: unknown key "trian-samples"/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('sweeps, campaigns and shared files', () => {
  it('sweep --config expands a [sweep] table of lists', async () => {
    const f = file('sweep.toml', 'seeds = 2\ncycles = 1\n\n[sweep]\nK = [10, 20, 40]\nT = [12, 30]\n');
    const r = await run('src/cli/sweep.ts', ['--config', f, '--print-config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^K = \[10, 20, 40\]$/m);
    expect(r.stdout).toMatch(/^T = \[12, 30\]$/m);
    expect(r.stdout).toMatch(/^seeds = "2"$/m);
  });

  it('one file serves several commands: fig1 skips the settings only runs take', () => {
    const text = printed(
      [
        '--config',
        file('shared.toml', 'K = [10, 20]\nT = [30]\ntrain-samples = 30000\ncycles = 5\ntest-samples = 1000\n'),
      ],
      fig1Spec,
    );
    expect(text).toMatch(/^train-samples = 30000$/m);
    expect(text).not.toMatch(/cycles/);
  });
});

describe('#27: K from --learners, one name per meaning, paths from the caller', () => {
  const fleet = JSON.stringify([
    { f_hz: 2.4e9, distance_m: 10 },
    { f_hz: 1e9, distance_m: 40 },
    { f_hz: 2e9, distance_m: 20 },
  ]);

  it('experiment --learners FILE infers K from the file; a different --K is refused', () => {
    const f = file('fleet.json', fleet);
    expect(configFromArgs(parseArgs(['--learners', f], spec)).K).toBe(3);
    expect(printed(['--learners', f])).toMatch(/^K = 3$/m);
    expect(refusal(['--learners', f, '--K', '5'])).toMatch(/--K 5 disagrees with the 3 learners in/);
  });

  it('relative paths resolve against INIT_CWD (where npm was called) and errors show absolute paths', async () => {
    const caller = join(dir, 'caller');
    mkdirSync(caller, { recursive: true });
    writeFileSync(join(caller, 'my-fleet.json'), fleet);
    vi.stubEnv('INIT_CWD', caller);
    const args = parseArgs(['--learners', 'my-fleet.json', '--out', 'relout'], spec);
    expect(args.learners).toBe(join(caller, 'my-fleet.json'));
    expect(args.out).toBe(join(caller, 'relout'));
    expect(configFromArgs(args).K).toBe(3);
    expect(refusal(['--learners', 'other.json'])).toBe(`--learners file not found: ${join(caller, 'other.json')}`);
    vi.unstubAllEnvs();
    const missing = await run('src/cli/allocate.ts', ['--learners', 'other.json'], { INIT_CWD: caller });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(join(caller, 'other.json'));
  });

  it('a relative path in a --config file resolves against the file', () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'fleet.json'), fleet);
    const args = parseArgs(['--config', file('sub/with-path.toml', 'learners = "fleet.json"\n')], spec);
    expect(args.learners).toBe(join(dir, 'sub', 'fleet.json'));
  });

  it('old names still work with one deprecation line: fig1 --seeds/--ks/--ts/--d, paper --fig1-fleets', () => {
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const fig1 = printed(['--seeds', '2', '--ks', '5,10', '--ts', '30', '--d', '6000'], fig1Spec);
    expect(fig1).toMatch(/^fleets = 2$/m);
    expect(fig1).toMatch(/^K = \[5, 10\]$/m);
    expect(fig1).toMatch(/^T = \[30\]$/m);
    expect(fig1).toMatch(/^train-samples = 6000$/m);
    const lines = warn.mock.calls.map((c) => String(c[0]));
    expect(lines).toContain('warning: --seeds is an old name of --fleets; use --fleets\n');
    expect(lines).toContain('warning: --d is an old name of --train-samples; use --train-samples\n');
    expect(printed(['--fig1-fleets', '3'], paperSpec)).toMatch(/^fleets = 3$/m);
  });
});

describe("experiments/ holds the paper's runs as files", () => {
  const ex = (name: string) => join(ROOT, 'experiments', name);

  it.each([
    ['fig2-K20-T12.toml', spec, /^K = 20$/m],
    ['fig2-K10-T30.toml', spec, /^T = 30$/m],
    ['async/K20-T12-fednova.toml', spec, /^aggregate = "fednova"$/m],
    ['async/K10-T30-fedavg.toml', spec, /^cycles = 5$/m],
    ['dynamics/K20-T12-main.toml', spec, /^fading = "rayleigh"$/m],
    ['dynamics/K20-T12-W150k.toml', spec, /^bandwidth-hz = 150000$/m],
    ['fig1.toml', fig1Spec, /^fleets = 20$/m],
    ['paper.toml', paperSpec, /^seeds = "5"$/m],
    ['sweep-small.toml', sweepSpec, /^K = \[10, 20\]$/m],
  ] as const)('%s resolves', (name, s, expected) => {
    expect(printed(['--config', ex(name)], s as CommandSpec)).toMatch(expected);
  });

  it('npm run paper reads experiments/paper.toml by default: the same settings as before it existed', () => {
    const text = printed([], paperSpec);
    expect(text).toMatch(/^fleets = 20$/m);
    expect(text).toMatch(/^cycles = 10$/m);
    expect(text).toContain(`out = "${join(ROOT, 'results', 'paper')}"`);
  });

  it('the committed async and dynamics campaigns were run with exactly these files', () => {
    for (const name of [
      'async/K20-T12-fedavg',
      'async/K20-T12-fednova',
      'async/K10-T30-fedavg',
      'async/K10-T30-fednova',
      'dynamics/K20-T12-main',
      'dynamics/K20-T12-W150k',
    ]) {
      const config = configFromArgs(parseArgs(['--config', ex(`${name}.toml`)], spec));
      const saved = JSON.parse(readFileSync(join(ROOT, 'results', name, 'campaign.json'), 'utf8')).base;
      for (const key of [
        'K',
        'T',
        'cycles',
        'schemes',
        'aggregate',
        'fading',
        'availability',
        'csi',
        'epsilon',
        'late',
      ] as const)
        if (saved[key] !== undefined) expect(config[key], `${name} ${key}`).toEqual(saved[key]);
      expect(config.params.bandwidth_hz, name).toBe(saved.params.bandwidth_hz);
    }
  });
});

describe('--config F runs what the equivalent flag line runs', () => {
  // Every column but the wall-time ones (cycles.csv 1–8, learners.csv 1–12, as the reference check).
  const columns = (path: string, n: number) =>
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(',').slice(0, n).join(','));

  it('same cycles.csv and learners.csv', async () => {
    const flags = [
      '--K',
      '3',
      '--T',
      '12',
      '--cycles',
      '1',
      '--train-samples',
      '600',
      '--test-samples',
      '200',
      '--schemes',
      'optimal,eta',
      '--seed',
      '4',
      '--no-report',
    ];
    const f = file(
      'run.toml',
      'K = 3\nT = 12\ncycles = 1\ntrain-samples = 600\ntest-samples = 200\nschemes = ["optimal", "eta"]\nseed = 4\nreport = false\n',
    );
    const [a, b] = await Promise.all([
      run('src/cli/experiment.ts', [...flags, '--out', join(dir, 'by-flags')], {}, 400_000),
      run('src/cli/experiment.ts', ['--config', f, '--out', join(dir, 'by-file')], {}, 400_000),
    ]);
    expect(a.stderr).not.toMatch(/^error/m);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(columns(join(dir, 'by-file', 'cycles.csv'), 8)).toEqual(columns(join(dir, 'by-flags', 'cycles.csv'), 8));
    expect(columns(join(dir, 'by-file', 'learners.csv'), 12)).toEqual(
      columns(join(dir, 'by-flags', 'learners.csv'), 12),
    );
  }, 420_000);
});
