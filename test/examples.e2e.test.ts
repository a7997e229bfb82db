/**
 * Every `npm run …` example runs as written: each line of the ```sh blocks of README.md and docs/*.md, and each example of
 * every npm script's --help. Adding an example adds it here. Only the size of the work shrinks, and
 * only through flags the command itself declares (read from its --help): fewer cycles, seeds,
 * repetitions and test images, τ capped at 1 where the example does not cap it, no charts — never
 * K, T or --train-samples, so an example that is infeasible as written still fails here. Outputs go
 * to a temporary folder; paths an example only names (a run to resume, a fleet file) are made first
 * (FIXTURES). Examples that cannot run here are listed in SKIPPED with the reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
// Under the checkout (git ignores node_modules), not the shared /tmp that other tests may sweep.
mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
const TMP = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'mel-examples-'));

/** Examples that need what a test cannot have, by the start of the command line, with the reason. */
const SKIPPED: { prefix: string; reason: string }[] = [
  {
    prefix: 'npm run learner -- --connect wss://',
    reason:
      'joins a TLS orchestrator on another machine with its certificate; test/orchestrator/transport/tls.e2e.test.ts runs hosts against a TLS run',
  },
  {
    prefix: 'npm run dashboard -- ',
    reason:
      'serves a folder until stopped; test/dashboard/cli.e2e.test.ts runs it against a finished run and reads its page and metrics',
  },
  {
    prefix: 'npm run learner -- --connect ws://',
    reason:
      'joins an orchestrator on another machine (a documentation address); the --external example starts the learner host its orchestrator prints',
  },
];

/** Paths examples name but the repository does not hold: made in beforeAll, substituted in the command. */
const FIXTURES: Record<string, () => Promise<string>> = {
  'results/2026-11-28T10-00-00-K20-T12': () => fixtureRun(),
  'results/my-run': () => fixtureRun(),
  // docs/experiments.md writes it with --print-config and feeds it back: made the same way here first.
  '/tmp/my-run.toml': async () => {
    const file = join(TMP, 'my-run.toml');
    const printed = await run(process.execPath, [
      '--import',
      'tsx',
      'src/cli/experiment.ts',
      '--K',
      '10',
      '--T',
      '30',
      '--schemes',
      'optimal,async,eta',
      '--print-config',
    ]);
    writeFileSync(file, printed.stdout);
    return file;
  },
  'my-fleet.json': async () => {
    const file = join(TMP, 'my-fleet.json');
    writeFileSync(
      file,
      JSON.stringify([
        { f_hz: 2.4e9, distance_m: 31 },
        { f_hz: 7e8, rate_bps: 1.2e8 },
        { f_hz: 7e8, distance_m: 40 },
      ]),
    );
    return file;
  },
};

/** How the work of each example shrinks, when its command declares the flag. */
const SHRINK: Record<string, (given: string | undefined, example: Example) => string | undefined> = {
  cycles: (given, ex) =>
    ex.args.includes('--resume')
      ? given === undefined
        ? undefined
        : '2'
      : String(Math.max(1, ...faultCycles(ex.args))),
  seeds: (given) => (given === undefined ? undefined : '1'),
  'test-samples': () => '200',
  'tau-max': (given) => given ?? '1',
  hosts: (given) => given ?? '1', // one learner host process: same results, a quarter of the start-up
  reps: () => '1',
  epochs: () => '1',
  samples: () => '640',
  'fig1-fleets': () => '2',
};
/** Commands whose examples must also shrink d (they have no --tau-max to keep the work small). */
const SHRINK_D: Record<string, string> = { 'train:central': '3000', 'bench:scale': '3000' };
/** bench:scale's K list is its size: the first K only. */
const SHRINK_LIST: Record<string, Record<string, (v: string) => string>> = {
  'bench:scale': { K: (v) => v.split(',')[0] },
};

interface Example {
  script: string;
  args: string[];
  text: string;
  source: string;
  /** `> FILE` at the end: the example's output goes to that file (under the test's folder) */
  stdoutTo?: string;
}

const faultCycles = (args: string[]) =>
  args.flatMap((a, i) =>
    args[i - 1] === '--fail' || args[i - 1] === '--fail-host' ? a.split(',').map((x) => Number(x.split('@')[1])) : [],
  );

/** Words as a POSIX shell splits them, for plain and quoted words ('…', "…"); variables and backquotes are refused. */
function shellWords(line: string, where: string): string[] {
  if (/[`$\\]/.test(line))
    throw new Error(`${where}: variables, backquotes or escapes in an example are not handled here`);
  const words: string[] = [];
  for (const m of line.matchAll(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g))
    words.push(m[0].replace(/'([^']*)'|"([^"]*)"/g, (_q, a, b) => a ?? b));
  if (words.join('').length + (line.match(/['"]/g)?.length ?? 0) < line.replace(/\s+/g, '').length)
    throw new Error(`${where}: unbalanced quotes`);
  return words;
}

function parseExample(text: string, source: string): Example {
  const line = text.replace(/\s+#.*$/, '').trim();
  const redirect = line.match(/\s>\s*(\S+)$/);
  const words = shellWords(redirect ? line.slice(0, redirect.index) : line, `${source}: ${text}`);
  const [npm, run, ...rest] = words;
  const [script, dashes, ...args] = rest.filter((w, i) => !(w === '-s' || w === '--silent') || i > rest.indexOf('--')); // npm's own -s
  if (npm !== 'npm' || run !== 'run' || (dashes !== undefined && dashes !== '--'))
    throw new Error(`${source}: not an npm run example: ${text}`);
  return { script, args, text: line, source, ...(redirect ? { stdoutTo: join(TMP, basename(redirect[1])) } : {}) };
}

/** The docs users read: README.md and docs/*.md. */
const DOC_FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Every line of a ```sh block of the docs that runs an npm script (continuations joined, env prefixes kept for the skip list). */
function readmeExamples(): Example[] {
  const out: Example[] = [];
  for (const file of DOC_FILES) {
    const blocks = readFileSync(join(ROOT, file), 'utf8').matchAll(/^```sh\n([\s\S]*?)^```/gm);
    for (const block of blocks) {
      const lines = block[1].replace(/\\\n\s*/g, ' ').split('\n');
      for (const line of lines) {
        const command = line.replace(/^(\w+=\S+\s+)+/, '');
        if (command.startsWith('npm run ')) out.push(parseExample(command, file));
      }
    }
  }
  return out;
}

const scripts: Record<string, string> = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
/** The TypeScript entry point of an npm script. */
const entryOf = (script: string) => scripts[script]?.match(/(\S+\.ts)\b/)?.[1];

function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; onStderr?: (text: string) => void } = {},
) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr);
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A script's --help: its examples and the flags it declares. */
async function helpOf(script: string): Promise<{ examples: Example[]; flags: Set<string> }> {
  const entry = entryOf(script)!;
  const { code, stdout } = await run(process.execPath, ['--import', 'tsx', entry, '--help']);
  if (code !== 0) throw new Error(`${entry} --help exited ${code}`);
  const [flagsPart, examplesPart = ''] = stdout.split('\nExamples:\n');
  const flags = new Set([...flagsPart.matchAll(/^ {2}--([\w-]+)/gm)].map((m) => m[1]));
  const examples = examplesPart
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('npm run '))
    .map((l) => parseExample(l, `npm run ${script} -- --help`));
  return { examples, flags };
}

let fixtureRunDir: Promise<string> | null = null;
/** A finished one-cycle run (K = 20, T = 12) for the examples that resume or report a run folder. */
function fixtureRun(): Promise<string> {
  fixtureRunDir ??= (async () => {
    const out = join(TMP, 'fixture-run');
    const args = [
      '--import',
      'tsx',
      'src/cli/experiment.ts',
      '--K',
      '20',
      '--T',
      '12',
      '--cycles',
      '1',
      '--tau-max',
      '1',
      '--test-samples',
      '200',
      '--hosts',
      '1',
      '--out',
      out,
    ];
    const r = await run(process.execPath, args);
    if (r.code !== 0) throw new Error(`fixture run failed:\n${r.stderr}`);
    return out;
  })();
  return fixtureRunDir;
}

/** The example's command line as this test runs it: shrunk, its outputs in TMP, fixtures in place. */
async function commandFor(ex: Example, flags: Set<string>, index: number): Promise<string[]> {
  const args = [...ex.args];
  const value = (flag: string) => {
    const i = args.indexOf(`--${flag}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const set = (flag: string, v: string) => {
    const i = args.indexOf(`--${flag}`);
    if (i >= 0) args[i + 1] = v;
    else args.push(`--${flag}`, v);
  };
  for (const [i, a] of args.entries()) if (FIXTURES[a]) args[i] = await FIXTURES[a]();
  for (const [flag, shrink] of Object.entries(SHRINK)) {
    if (
      !flags.has(flag) ||
      (flag === 'tau-max' && value('resume') !== undefined) ||
      (flag === 'hosts' && args.includes('--external'))
    )
      continue;
    const v = shrink(value(flag), ex);
    if (v !== undefined && !(flag === 'test-samples' && value('resume') !== undefined)) set(flag, v);
  }
  if (SHRINK_D[ex.script]) set('train-samples', SHRINK_D[ex.script]);
  for (const [flag, f] of Object.entries(SHRINK_LIST[ex.script] ?? {}))
    set(flag, f(value(flag) ?? helpDefault(ex.script, flag)));
  // Outputs: the same --out in two examples stays the same folder (the rerun of a campaign continues it).
  if (flags.has('out') && value('resume') === undefined)
    set('out', join(TMP, 'out', value('out')?.replace(/[^\w.-]+/g, '_') ?? `example-${index}`));
  if (flags.has('report') && !args.includes('--no-report')) args.push('--no-report');
  if (flags.has('charts')) args.push('--no-charts');
  if (args.includes('--external')) set('host', '127.0.0.1'), set('port', '0');
  // Two examples running at once would collide on a fixed dashboard port: any free one serves the same page.
  const dash = args.indexOf('--dashboard');
  if (dash >= 0) {
    if (/^\d+$/.test(args[dash + 1] ?? '')) args[dash + 1] = '0';
    else args.splice(dash + 1, 0, '0');
  }
  return args;
}

const HELP_DEFAULTS: Record<string, Record<string, string>> = { 'bench:scale': { K: '20,100,500,1000' } };
const helpDefault = (script: string, flag: string) => HELP_DEFAULTS[script]?.[flag] ?? '';

/** --external: start the learner host the orchestrator prints, as a user on the learner machine would. */
async function runExternal(args: string[]) {
  let host: ChildProcess | null = null;
  const started = (stderr: string) => {
    const m = stderr.match(/MEL_TOKEN=(\w+) npm run learner -- (--connect \S+ --learner-ids \S+)/);
    if (!m || host) return;
    host = spawn('npm', ['run', '-s', 'learner', '--', ...m[2].split(' '), '--retry-s', '0', '--quiet'], {
      cwd: ROOT,
      env: { ...process.env, MEL_TOKEN: m[1] },
      stdio: 'ignore',
    });
  };
  const r = await run('npm', ['run', '-s', 'experiment', '--', ...args], { onStderr: started });
  (host as ChildProcess | null)?.kill('SIGTERM'); // its orchestrator is gone: the learner host has nothing left to do
  return r;
}

const examples: { ex: Example; flags: Set<string> }[] = [];
const skipped: { ex: Example; reason: string }[] = [];

beforeAll(async () => {
  const all = readmeExamples();
  const helps = new Map<string, Set<string>>();
  const withEntry = Object.keys(scripts).filter((s) => entryOf(s));
  const results = await Promise.all(withEntry.map((script) => helpOf(script)));
  withEntry.forEach((script, i) => {
    helps.set(script, results[i].flags);
    all.push(...results[i].examples);
  });
  const seen = new Set<string>();
  for (const ex of all) {
    if (seen.has(ex.text)) continue;
    seen.add(ex.text);
    const skip = SKIPPED.find((s) => ex.text.startsWith(s.prefix));
    if (skip) skipped.push({ ex, reason: skip.reason });
    else if (!helps.has(ex.script))
      throw new Error(`${ex.source}: npm script "${ex.script}" does not exist: ${ex.text}`);
    else examples.push({ ex, flags: helps.get(ex.script)! });
  }
  // MEL_EXAMPLES=text runs only the examples containing it (while fixing one).
  const only = process.env.MEL_EXAMPLES;
  if (only) examples.splice(0, examples.length, ...examples.filter((e) => e.ex.text.includes(only)));
}, 300_000);

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('every README and --help example runs', () => {
  it('finds the examples (README and every command) and says which it skips and why', () => {
    if (!process.env.MEL_EXAMPLES) expect(examples.length).toBeGreaterThan(30);
    if (!process.env.MEL_EXAMPLES) expect(examples.some((e) => e.ex.source === 'README.md')).toBe(true);
    if (!process.env.MEL_EXAMPLES) expect(examples.some((e) => e.ex.source.includes('--help'))).toBe(true);
    for (const s of skipped) console.log(`skipped: ${s.ex.text}\n  because it ${s.reason}`);
  });

  it('each one exits 0', async () => {
    // Examples writing the same folder (a campaign and its rerun, a run and its resume) run in order, one chain each.
    const chains = new Map<string, { ex: Example; args: string[] }[]>();
    for (const [i, { ex, flags }] of examples.entries()) {
      const args = await commandFor(ex, flags, i);
      const folder = args.find((a, j) => ['--out', '--resume'].includes(args[j - 1]) || a.startsWith(TMP)) ?? `#${i}`;
      chains.set(folder, [...(chains.get(folder) ?? []), { ex, args }]);
    }
    const queue = [...chains.values()];
    if (process.env.MEL_EXAMPLES_LIST) {
      // MEL_EXAMPLES_LIST=1: print what would run, run nothing (only the fixtures are made).
      for (const c of queue)
        for (const { ex, args } of c) console.log(`${ex.text}\n  → npm run ${ex.script} -- ${args.join(' ')}`);
      return;
    }
    const failures: string[] = [];
    const worker = async () => {
      for (let chain = queue.shift(); chain; chain = queue.shift())
        for (const { ex, args } of chain) {
          const t0 = performance.now();
          const r = args.includes('--external')
            ? await runExternal(args)
            : await run('npm', ['run', '-s', ex.script, '--', ...args]);
          if (ex.stdoutTo) writeFileSync(ex.stdoutTo, r.stdout);
          const took = `${((performance.now() - t0) / 1000).toFixed(1)} s`;
          if (r.code !== 0)
            failures.push(
              `${ex.text}  (${ex.source})\n  ran: npm run ${ex.script} -- ${args.join(' ')}\n  exit ${r.code}: ${r.stderr.trim().split('\n').slice(-6).join('\n  ')}`,
            );
          console.log(
            `${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`} in ${took}: ${ex.text}${r.code === 0 ? '' : `\n  ${failures.at(-1)}`}`,
          );
        }
    };
    await Promise.all([worker(), worker()]); // two cores
    expect(failures, failures.join('\n\n')).toEqual([]);
  }, 2_700_000); // ~4 min on an idle 2-core machine; far more when it is shared
});
