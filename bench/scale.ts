/**
 * `npm run bench:scale [-- --json] [--K 20,100,500,1000] [--hosts N]`: what K learners cost on this
 * machine. Each K runs `npm run experiment` as a user would (spawned learner hosts, the optimal
 * scheme) with equal d, T and τ: τ is capped (--tau-max) at what the smallest K gets, so every K
 * trains on the same τ·d sample-passes per cycle.
 * Printed per K: set-up time, wall time per cycle, where the cycle time went (training ÷ slots,
 * evaluation, emulator overhead), and the peak total RSS of the orchestrator plus its hosts
 * and the CPU seconds the orchestrator and the hosts used over the whole run (both sampled from
 * /proc every 200 ms).
 * Equal sample-passes are not equal training work: a learner's epoch of mini-batch SGD ends in a
 * partial mini-batch, and every step updates all the weights, so K small batches take more steps.
 * "Training alone" measures that work without the emulator: after each run, this process replays
 * the run's first cycle (every learner's batch of MNIST, τ_k and seed) through the same engine,
 * one training after another.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { defineCommand, type ParsedArgs, parseOrHelp, runCli, UsageError } from '../src/cli/args.ts';
import { heapFlag } from '../src/orchestrator/fleet/spawn.ts';
import { PROJECT_ROOT } from '../src/util/project-root.ts';
import { cycleDataOrder, trainingSeed } from '../src/orchestrator/cycle.ts';
import { loadMnist, subset, type ImageSet } from '../src/data/mnist.ts';
import { createEngine, initWeights } from '../src/nn/mlp.ts';
import type { Engine } from '../src/nn/engine.ts';
import { parseLearners } from '../src/run-folder/read.ts';
import type { RunConfigFile, RunSummaryFile } from '../src/run-folder/schema.ts';

const SPEC = defineCommand({
  command: 'npm run bench:scale --',
  summary:
    'Set-up, wall time per cycle, training alone (the same trainings without the emulator, with their SGD steps), peak total memory, CPU seconds and emulator overhead of runs with K learners (equal d, T and τ), --reps runs per K.',
  flags: [
    { name: 'K', type: 'list', default: ['20', '100', '500', '1000'], help: 'learner counts to run' },
    {
      name: 'T',
      type: 'number',
      exclusiveMin: 0,
      default: 12,
      unit: 's',
      help: 'cycle clock; must be feasible for every K',
    },
    {
      name: 'tau',
      type: 'int',
      min: 1,
      default: 5,
      help: 'local iterations of every run (--tau-max; each K must reach at least this τ at T)',
    },
    { name: 'cycles', type: 'int', min: 1, default: 2, help: 'cycles per run' },
    {
      name: 'reps',
      type: 'int',
      min: 1,
      default: 1,
      help: 'runs per K, interleaved (every K once, then again): each K reports its median run by wall time per cycle',
    },
    { name: 'hosts', type: 'int', min: 1, help: "learner host processes (default: the experiment's, two per core)" },
    { name: 'train-samples', type: 'int', min: 1, default: 60000, help: 'd, the same for every K' },
    { name: 'json', type: 'boolean', default: false, help: 'print one JSON object instead of the table' },
  ],
  examples: [
    'npm run bench:scale',
    'npm run bench:scale -- --K 20,1000 --reps 3',
    'npm run bench:scale -- --K 20,200 --cycles 1',
    'npm run -s bench:scale -- --json',
  ],
});

interface Row {
  K: number;
  hosts: number;
  tau: number;
  setup_s: number;
  wall_per_cycle_s: number;
  train_share_s: number;
  eval_per_cycle_s: number;
  overhead_per_cycle_s: number;
  overhead_fraction: number;
  peak_rss_mb: number;
  peak_orchestrator_rss_mb: number;
  /** CPU seconds over the whole run (set-up, cycles, evaluation), orchestrator and learner hosts */
  cpu_orchestrator_s: number;
  cpu_hosts_s: number;
  missing: number;
  /** the first cycle's local trainings replayed back to back in one quiet process (no emulator) */
  train_alone_s: number;
  /** SGD steps those trainings took */
  sgd_steps: number;
  /** wall time per cycle of every run of this K (the row is the median one's) */
  wall_per_cycle_runs_s: number[];
}

const TICKS_PER_S = 100; // Linux USER_HZ

/** Resident memory (MB) and CPU time so far (s) of a process and all its descendants (Linux /proc). */
function treeUsage(root: number): { total: number; rootOnly: number; cpu: Map<number, number> } {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  const cpuOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(fields[1]));
      rss.set(Number(name), (Number(fields[21]) * 4096) / 2 ** 20);
      cpuOf.set(Number(name), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S);
    } catch {
      // the process ended while we looked
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  let total = 0;
  const cpu = new Map<number, number>();
  for (const [pid, mb] of rss)
    if (inTree(pid)) {
      total += mb;
      cpu.set(pid, cpuOf.get(pid)!);
    }
  return { total, rootOnly: rss.get(root) ?? 0, cpu };
}

/**
 * The local trainings of the run's first cycle, replayed here one after another: each learner's
 * batch (the cycle's cut of the data order), τ_k and training seed, from the initial weights.
 * Only the engine's train calls are timed.
 */
async function trainingAlone(
  out: string,
  config: RunConfigFile,
  engine: Engine,
  train: ImageSet,
): Promise<{ seconds: number; steps: number }> {
  const file = join(out, 'learners.csv');
  const learners = parseLearners(readFileSync(file, 'utf8'), file).filter((l) => l.cycle === 1 && l.batch > 0);
  const order = cycleDataOrder(config.train_samples, config.seed, 1);
  const weights = initWeights(config.seed);
  let offset = 0;
  let seconds = 0;
  let steps = 0;
  for (const l of learners.sort((x, y) => x.learner - y.learner)) {
    const batch = subset(train, order.subarray(offset, offset + l.batch));
    offset += l.batch;
    const start = performance.now();
    const result = await engine.train(weights, batch, {
      iterations: l.tau ?? 0,
      minibatch: config.minibatch,
      lr: config.lr,
      mode: config.local_iteration,
      seed: trainingSeed(config.seed, 1, l.learner, l.batch),
    });
    seconds += (performance.now() - start) / 1000;
    steps += result.steps;
  }
  return { seconds, steps };
}

async function runOne(
  K: number,
  a: ParsedArgs<(typeof SPEC.flags)[number]>,
  out: string,
  replay: { engine: Engine; train: ImageSet },
): Promise<Row> {
  // node --import tsx: the orchestrator is the child itself (the tsx CLI would add a wrapper process).
  const args = [
    heapFlag(),
    '--import',
    'tsx',
    join(PROJECT_ROOT, 'src', 'cli', 'experiment.ts'),
    '--K',
    String(K),
    '--T',
    String(a.T),
    '--cycles',
    String(a.cycles),
    '--schemes',
    'optimal',
    '--tau-max',
    String(a.tau),
    '--train-samples',
    String(a.trainSamples),
    '--out',
    out,
    '--no-report',
    ...(a.hosts !== undefined ? ['--hosts', String(a.hosts)] : []),
  ];
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let peak = 0;
  let peakRoot = 0;
  // A process's CPU time only grows: keep each pid's last reading (a host that ends keeps its last).
  const cpu = new Map<number, number>();
  const timer = setInterval(() => {
    const usage = treeUsage(child.pid!);
    peak = Math.max(peak, usage.total);
    peakRoot = Math.max(peakRoot, usage.rootOnly);
    for (const [pid, s] of usage.cpu) cpu.set(pid, s);
  }, 200);
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  clearInterval(timer);
  if (code !== 0)
    throw new Error(`K = ${K}: the experiment exited with ${code}:\n${stderr.split('\n').slice(-8).join('\n')}`);
  const summary: RunSummaryFile = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const config: RunConfigFile = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  const tau = summary.schemes.optimal.mean_tau ?? 0;
  if (tau !== a.tau)
    throw new UsageError(
      `K = ${K} reaches only τ = ${tau} at T = ${a.T}, below --tau ${a.tau}: raise --T or lower --tau so every K does the same work`,
    );
  const cycles = a.cycles as number;
  const alone = await trainingAlone(out, config, replay.engine, replay.train);
  return {
    K,
    hosts: config.hosts ?? K, // absent: one process per learner
    tau,
    setup_s: summary.setup_wall_s,
    wall_per_cycle_s: summary.cycles_wall_s / cycles,
    train_share_s: summary.train_process_s / config.compute_slots / cycles,
    eval_per_cycle_s: summary.eval_wall_s / cycles,
    overhead_per_cycle_s: summary.emulator_overhead.seconds / cycles,
    overhead_fraction: summary.emulator_overhead.fraction_of_cycles_wall,
    peak_rss_mb: peak,
    peak_orchestrator_rss_mb: peakRoot,
    cpu_orchestrator_s: cpu.get(child.pid!) ?? 0,
    cpu_hosts_s: [...cpu].reduce((sum, [pid, s]) => sum + (pid === child.pid ? 0 : s), 0),
    missing: summary.schemes.optimal.missing_learner_cycles ?? 0,
    train_alone_s: alone.seconds,
    sgd_steps: alone.steps,
    wall_per_cycle_runs_s: [],
  };
}

/** The run with the median wall time per cycle (the lower middle of an even count), with every run's wall time. */
function medianRun(rows: Row[]): Row {
  const sorted = [...rows].sort((x, y) => x.wall_per_cycle_s - y.wall_per_cycle_s);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], wall_per_cycle_runs_s: rows.map((r) => r.wall_per_cycle_s) };
}

async function main(): Promise<number> {
  const a = parseOrHelp(process.argv.slice(2), SPEC);
  const Ks = (a.K as string[]).map((k) => {
    const n = Number(k);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--K takes learner counts like 20,100, got "${k}"`);
    return n;
  });
  // The replay's engine and data: what the runs use by default (onnx, full MNIST's first d rows).
  const engine = await createEngine({ engine: 'auto', backend: 'auto' }, (line) => process.stderr.write(line + '\n'), [
    'train',
  ]);
  const mnist = await loadMnist();
  const replay = { engine, train: mnist.train };
  const dir = mkdtempSync(join(os.tmpdir(), 'mel-bench-scale-'));
  const runs = new Map<number, Row[]>(Ks.map((K) => [K, []]));
  const started = Date.now();
  try {
    // Interleaved, so a noisy minute of the machine touches every K alike.
    for (let r = 1; r <= a.reps; r++)
      for (const K of Ks) {
        if (!a.json)
          process.stderr.write(
            `K = ${K}${a.reps > 1 ? `, run ${r} of ${a.reps}` : ''}: running (${((Date.now() - started) / 1000).toFixed(0)} s elapsed)\n`,
          );
        runs.get(K)!.push(await runOne(K, a, join(dir, `K${K}-${r}`), replay));
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = Ks.map((K) => medianRun(runs.get(K)!));
  const base = rows[0];
  if (a.json) {
    process.stdout.write(
      JSON.stringify(
        {
          T: a.T,
          tau: a.tau,
          d: a.trainSamples,
          cycles: a.cycles,
          reps: a.reps,
          cores: os.availableParallelism(),
          rows,
          wall_per_cycle_vs_first: rows.map((r) => r.wall_per_cycle_s / base.wall_per_cycle_s),
          train_alone_vs_first: rows.map((r) => r.train_alone_s / base.train_alone_s),
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  const f = (v: number, d = 1) => v.toFixed(d);
  const lines = [
    `d = ${a.trainSamples}, T = ${a.T} s, τ = ${a.tau} for every K (same sample-passes), ${a.cycles} cycle(s), scheme optimal, ${os.availableParallelism()} cores` +
      (a.reps > 1 ? `; ${a.reps} runs per K, each row the median run by wall/cycle` : ''),
    "training alone: the first cycle's local trainings replayed one after another in this process, no emulator (equal sample-passes, not equal SGD steps)",
    '',
    'K      hosts  set-up s  wall/cycle s  ×first  training alone s  ×first  SGD steps  train÷slots s  eval s  overhead s  overhead %  peak RSS MB (orchestrator)  CPU s orch./hosts  missing',
  ];
  for (const r of rows)
    lines.push(
      `${String(r.K).padEnd(6)} ${String(r.hosts).padEnd(6)} ${f(r.setup_s).padStart(8)}  ${f(r.wall_per_cycle_s, 2).padStart(12)}  ${f(r.wall_per_cycle_s / base.wall_per_cycle_s, 2).padStart(6)}  ` +
        `${f(r.train_alone_s, 2).padStart(16)}  ${f(r.train_alone_s / base.train_alone_s, 2).padStart(6)}  ${String(r.sgd_steps).padStart(9)}  ` +
        `${f(r.train_share_s, 2).padStart(13)}  ${f(r.eval_per_cycle_s, 2).padStart(6)}  ${f(r.overhead_per_cycle_s, 2).padStart(10)}  ${f(100 * r.overhead_fraction).padStart(10)}  ` +
        `${`${f(r.peak_rss_mb, 0)} (${f(r.peak_orchestrator_rss_mb, 0)})`.padStart(26)}  ${`${f(r.cpu_orchestrator_s)} / ${f(r.cpu_hosts_s)}`.padStart(17)}  ${r.missing}` +
        (a.reps > 1 ? `   runs: ${r.wall_per_cycle_runs_s.map((w) => f(w, 2)).join(', ')} s` : ''),
    );
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

runCli(main);
