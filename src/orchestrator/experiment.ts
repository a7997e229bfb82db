/**
 * An experiment run: set up (data, fleet, allocations, run folder, learners), then for each
 * scheme run the global cycles, writing every completed cycle to disk before starting the next,
 * and finally summarise. Shared by `npm run experiment` and the tests.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import * as tf from '@tensorflow/tfjs';
import { solve } from '../allocation/index.ts';
import type { FeasibleAllocation, SchemeName } from '../allocation/types.ts';
import { InputError } from '../cli/args.ts';
import { firstN, loadMnist, type ImageSet } from '../data/mnist.ts';
import { dirichletShards, iidShards } from '../data/partition.ts';
import { subset } from '../data/mnist.ts';
import { createClock, monotonicSeconds } from '../emulation/clock.ts';
import { wireCoefficients } from '../emulation/wire-coefficients.ts';
import { generateFleet, parseLearnersJson, profileFromSpec, type LearnerProfile } from '../model/devices.ts';
import { initBackend } from '../nn/backend.ts';
import { initWeights, PARAM_COUNT } from '../nn/mlp.ts';
import type { LearnerSettings } from '../protocol/messages.ts';
import { parseCycles, parseLearners } from '../report/run-folder.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import type { ExperimentConfig } from './config.ts';
import { DROPPED_REASON, runCycle, type CycleOutcome, type LearnerRecord } from './cycle.ts';
import { LearnerHub } from './hub.ts';
import { CsvAppender, CYCLES_HEADER, LEARNERS_HEADER, WALL_HEADER, writeJsonAtomic } from './run-files.ts';
import { LearnerProcesses, PROJECT_ROOT } from './spawn.ts';
import { formatSummaryTable, summarizeScheme, type SchemeSummaryFull } from './summary.ts';

export interface RunOptions {
  out: string;
  token?: string;
  resume?: boolean;
  log?: (line: string) => void; // progress and events (stderr by default)
  /** Called once learners may connect (external mode prints the command line here). */
  onListening?: (url: string, token: string) => void;
  signal?: AbortSignal; // abort = stop cleanly after cleaning up (Ctrl-C)
}

export interface RunResult {
  out: string;
  summary: RunSummaryFile;
  interrupted: boolean;
}

export interface RunSummaryFile {
  schemes: Record<string, SchemeSummaryFull>;
  backend: string;
  wall_s: number;
  setup_wall_s: number;
  cycles_wall_s: number;
  eval_wall_s: number;
  train_process_s: number; // Σ learners' real training seconds
  emulator_overhead: { seconds: number; fraction_of_cycles_wall: number; definition: string };
  overruns: { learner_cycles: number; total_s: number; faithful: boolean };
  faults: { killed: number; dropped_results: number; lost_learner_cycles: number };
  hub: Record<string, number>;
}

class Interrupted extends Error {}

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** Fleet of the run: generated from the seed, or the user's learners file. */
export function buildFleet(config: ExperimentConfig): LearnerProfile[] {
  if (config.learners_file) {
    const text = readFileSync(config.learners_file, 'utf8');
    const fleet = parseLearnersJson(text, config.params);
    if (fleet.length !== config.K) throw new InputError(`--learners file describes ${fleet.length} learners but K is ${config.K}`);
    return fleet;
  }
  return generateFleet(config.K, config.seed, config.params);
}

/** Every scheme's allocation, or an InputError naming the scheme and the binding learners. */
export function allocateAll(config: ExperimentConfig, fleet: LearnerProfile[]): Map<SchemeName, FeasibleAllocation> {
  const coeffs = fleet.map((l) => wireCoefficients(l, config.params, config.scenario));
  const out = new Map<SchemeName, FeasibleAllocation>();
  for (const scheme of config.schemes) {
    const a = solve(scheme, { coeffs, T_s: config.T, d: config.train_samples });
    if (!a.feasible) throw new InputError(`scheme ${scheme} has no feasible allocation with τ ≥ 1: ${a.reason}`);
    out.set(scheme, a);
  }
  return out;
}

function learnerRow(scheme: string, cycle: number, r: LearnerRecord) {
  const p = r.phases;
  return {
    scheme,
    cycle,
    learner: r.learner,
    f_hz: r.f_hz,
    rate_bps: r.rate_bps,
    batch: r.batch,
    t_send_s: r.status === 'idle' ? 0 : (p?.t_send_s ?? r.t_send_s),
    t_compute_s: r.status === 'idle' ? 0 : p?.t_compute_s,
    t_return_s: r.status === 'idle' ? 0 : p?.t_return_s,
    t_total_s: r.status === 'idle' ? 0 : p?.t_total_s,
    late: r.status === 'missing' ? 'missing' : r.status === 'late' ? '1' : '0',
  };
}

export async function runExperiment(config: ExperimentConfig, opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const runStart = monotonicSeconds();
  const out = opts.out;
  const token = opts.token ?? randomBytes(16).toString('hex');
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new Interrupted();
  };

  // ---- set-up: everything that can fail on bad input fails here, before any process starts ----
  const fleet = buildFleetForRun(config);
  const allocations = config.external ? null : allocateAll(config, fleet);
  const backend = await initBackend(config.backend);
  const mnist = await loadMnist(config.data_dir ? { dataDir: config.data_dir } : {});
  if (config.train_samples > mnist.train.count) throw new InputError(`--train-samples ${config.train_samples} exceeds the ${mnist.train.count} training images`);
  if (config.test_samples > mnist.test.count) throw new InputError(`--test-samples ${config.test_samples} exceeds the ${mnist.test.count} test images`);
  const train = firstN(mnist.train, config.train_samples);
  const test = firstN(mnist.test, config.test_samples);

  mkdirSync(out, { recursive: true });
  if (!opts.resume) {
    if (existsSync(join(out, 'cycles.csv'))) throw new InputError(`${out} already holds a run; choose another --out or continue it with --resume ${out}`);
    writeJsonAtomic(join(out, 'config.json'), {
      ...config,
      fleet,
      backend_used: backend,
      versions: { node: process.version, mel: packageVersion('../'), tfjs: tf.version_core, ws: packageVersion('ws') },
      started_at: new Date().toISOString(),
      command: process.argv.slice(2).join(' '),
    });
  }
  const cyclesCsv = new CsvAppender(join(out, 'cycles.csv'), CYCLES_HEADER);
  const learnersCsv = new CsvAppender(join(out, 'learners.csv'), LEARNERS_HEADER);
  const wallCsv = config.clock === 'real' ? new CsvAppender(join(out, 'wall_phases.csv'), WALL_HEADER) : null;

  // Where each scheme stands (resume continues after its last complete cycle).
  const done = new Map<SchemeName, { cycle: number; weights: Float32Array; emulated_s: number; wall_s: number }>();
  const initial = initWeights(config.seed);
  for (const scheme of config.schemes) done.set(scheme, { cycle: 0, weights: initial, emulated_s: 0, wall_s: 0 });
  if (opts.resume) resumeState(out, config, done, [cyclesCsv, learnersCsv, ...(wallCsv ? [wallCsv] : [])], log);

  // ---- learners ----
  const clock = createClock(config.clock, config.time_scale);
  const settings: LearnerSettings = {
    run_id: out,
    param_count: PARAM_COUNT,
    minibatch: config.minibatch,
    lr: config.lr,
    local_iteration: config.local_iteration,
    clock: config.clock,
    time_scale: config.time_scale,
    flops_per_sample: config.params.flops_per_sample,
    backend: config.backend,
    max_samples: config.train_samples,
  };
  const hub = new LearnerHub({
    host: config.host,
    port: config.port,
    token,
    K: config.K,
    settings,
    clock,
    heartbeatMs: config.heartbeat_s * 1000,
    handshakeTimeoutMs: 10_000,
    log,
  });
  const url = await hub.start();
  opts.signal?.addEventListener('abort', () => hub.failPending('orchestrator interrupted'));
  opts.onListening?.(url, token);
  const processes = config.external ? null : new LearnerProcesses(url, token, join(out, 'logs'), log);
  let killed = 0;
  let dropped = 0;
  const shards = config.scenario === 'federated' ? makeShards(config, train) : null;
  if (shards) hub.onJoin((id) => void hub.sendShard(id, { type: 'shard', samples: shards[id].count, images: shards[id].images, labels: shards[id].labels }).catch(() => {}));

  const ensureLearners = async () => {
    const all = fleet.map((l) => l.id);
    if (processes) for (const id of all) if (!hub.isConnected(id) && !processes.isRunning(id)) processes.spawn(fleet[id]);
    const absent = await hub.waitFor(all, config.join_timeout_s * 1000);
    if (absent.length) log(`learners not connected: ${absent.join(', ')} (they will be recorded as missing)`);
  };

  let interrupted = false;
  const summaries: Record<string, SchemeSummaryFull> = {};
  let evalWall = 0;
  let trainProcess = 0;
  let cyclesWall = 0;
  let overrunCycles = 0;
  let overrunTotal = 0;
  let setupWall = 0;
  try {
    log(`waiting for ${config.K} learner${config.K > 1 ? 's' : ''} to join ${url} ...`);
    await ensureLearners();
    checkAbort();
    const effectiveFleet = config.external ? fleetFromHub(config, hub) : fleet;
    const effectiveAllocations = allocations ?? allocateAll(config, effectiveFleet);
    setupWall = monotonicSeconds() - runStart;
    log(`set-up took ${setupWall.toFixed(1)} s (backend ${backend}); ${describeAllocations(effectiveAllocations)}`);
    const limit = pLimit(config.compute_slots);

    for (const scheme of config.schemes) {
      const allocation = effectiveAllocations.get(scheme)!;
      const state = done.get(scheme)!;
      for (let cycle = state.cycle + 1; cycle <= config.cycles; cycle++) {
        checkAbort();
        await ensureLearners();
        checkAbort();
        const cycleStart = monotonicSeconds();
        const outcome: CycleOutcome = await runCycle(
          {
            config,
            hub,
            fleet: effectiveFleet,
            train,
            test,
            limit,
            killLearner: (id) => {
              if (!processes) return log(`--fail ${id}@${cycle}: learner ${id} is external; cannot kill it`);
              killed++;
              log(`fault injection: killing learner ${id} (pid ${processes.pid(id)}) in ${scheme} cycle ${cycle}`);
              void processes.kill(id);
            },
          },
          scheme,
          cycle,
          allocation,
          state.weights,
        );
        checkAbort(); // an interrupted cycle is never written half
        const wall = monotonicSeconds() - cycleStart;
        cyclesWall += wall;
        evalWall += outcome.eval_wall_s;
        trainProcess += outcome.train_wall_sum_s;
        state.emulated_s += outcome.duration_s;
        state.wall_s += wall;
        state.weights = outcome.weights;
        state.cycle = cycle;
        const late = outcome.records.filter((r) => r.status === 'late').length;
        const missing = outcome.records.filter((r) => r.status === 'missing');
        dropped += missing.filter((r) => r.reason === DROPPED_REASON).length;
        for (const r of outcome.records) {
          if ((r.overrun_s ?? 0) > 0) {
            overrunCycles++;
            overrunTotal += r.overrun_s!;
          }
        }
        // Order matters for --resume: checkpoint, then learner rows, then the cycle row (the commit point).
        saveCheckpoint(out, { scheme, cycle, emulated_time_s: state.emulated_s, wall_time_s: state.wall_s }, state.weights);
        for (const r of outcome.records) learnersCsv.add(learnerRow(scheme, cycle, r));
        learnersCsv.flush();
        if (wallCsv) {
          for (const r of outcome.records)
            if (r.wall)
              wallCsv.add({ scheme, cycle, learner: r.learner, wall_send_s: r.wall.send_s, wall_compute_s: r.wall.compute_s, wall_return_s: r.wall.return_s, train_wall_s: r.train_wall_s, overrun_s: r.overrun_s });
          wallCsv.flush();
        }
        cyclesCsv.add({
          scheme,
          cycle,
          tau: allocation.tau,
          test_accuracy: outcome.accuracy,
          test_loss: outcome.loss,
          emulated_time_s: state.emulated_s,
          max_learner_time_s: outcome.max_learner_time_s,
          late_learners: late,
          wall_time_s: Number(state.wall_s.toFixed(3)),
        });
        cyclesCsv.flush();
        log(
          `${scheme.padEnd(10)} cycle ${String(cycle).padStart(3)}/${config.cycles}  τ=${allocation.tau}  accuracy ${(100 * outcome.accuracy).toFixed(2)} %  loss ${outcome.loss.toFixed(4)}` +
            `  late ${late}  missing ${missing.length}${missing.length ? ` (${missing.map((m) => `${m.learner}: ${m.reason}`).join('; ')})` : ''}  wall ${wall.toFixed(1)} s`,
        );
      }
    }
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    interrupted = true;
  } finally {
    await hub.close(interrupted ? 'orchestrator interrupted' : 'run finished');
    await processes?.stopAll();
  }

  // ---- summary (from the files, so a resumed run covers every cycle) ----
  const cycleRows = parseCycles(readFileSync(join(out, 'cycles.csv'), 'utf8'), join(out, 'cycles.csv'));
  const learnerRows = parseLearners(readFileSync(join(out, 'learners.csv'), 'utf8'), join(out, 'learners.csv'));
  for (const scheme of config.schemes)
    summaries[scheme] = summarizeScheme(
      cycleRows.filter((r) => r.scheme === scheme),
      learnerRows.filter((r) => r.scheme === scheme),
    );
  const wall_s = monotonicSeconds() - runStart;
  // Overhead = cycle wall time not spent training (spread over the compute slots) or evaluating.
  const overhead = Math.max(0, cyclesWall - evalWall - trainProcess / config.compute_slots);
  const summary: RunSummaryFile = {
    schemes: summaries,
    backend,
    wall_s,
    setup_wall_s: setupWall,
    cycles_wall_s: cyclesWall,
    eval_wall_s: evalWall,
    train_process_s: trainProcess,
    emulator_overhead: {
      seconds: overhead,
      fraction_of_cycles_wall: cyclesWall > 0 ? overhead / cyclesWall : 0,
      definition: 'cycle wall time minus evaluation minus (Σ learner training seconds ÷ compute slots), this session only',
    },
    overruns: { learner_cycles: overrunCycles, total_s: overrunTotal, faithful: overrunCycles === 0 },
    faults: {
      killed,
      dropped_results: dropped,
      lost_learner_cycles: learnerRows.filter((r) => r.status === 'missing').length,
    },
    hub: { ...hub.stats },
  };
  if (!interrupted || cycleRows.length > 0) writeJsonAtomic(join(out, 'summary.json'), summary);
  log('\n' + formatSummaryTable(summaries));
  if (!summary.overruns.faithful)
    log(`WARNING: ${overrunCycles} learner-cycles overran their real-clock compute budget (${overrunTotal.toFixed(2)} s in all): this run is not a faithful real-time emulation; raise --time-scale.`);
  return { out, summary, interrupted };
}

function buildFleetForRun(config: ExperimentConfig): LearnerProfile[] {
  if (config.external) return []; // known once the learners have said hello
  return buildFleet(config);
}

function fleetFromHub(config: ExperimentConfig, hub: LearnerHub): LearnerProfile[] {
  const fleet: LearnerProfile[] = [];
  for (let id = 0; id < config.K; id++) {
    const p = hub.profileOf(id);
    if (!p) throw new InputError(`external learner ${id} did not join within --join-timeout-s ${config.join_timeout_s}`);
    try {
      fleet.push(profileFromSpec(p, id, config.params));
    } catch (e) {
      throw new InputError(`external learner ${id}: ${(e as Error).message}`);
    }
  }
  return fleet;
}

function makeShards(config: ExperimentConfig, train: ImageSet): ImageSet[] {
  const indices = config.alpha === null ? iidShards(train.count, config.K, config.seed) : dirichletShards(train.labels, config.K, config.alpha, config.seed);
  return indices.map((ix) => subset(train, ix));
}

function describeAllocations(allocations: Map<SchemeName, FeasibleAllocation>): string {
  return [...allocations.entries()]
    .map(([scheme, a]) => `${scheme}: τ=${a.tau}, d_k ${Math.min(...a.batch)}..${Math.max(...a.batch)}${a.tau_relaxed !== undefined ? ` (τ*=${a.tau_relaxed.toFixed(3)})` : ''}`)
    .join('; ');
}

/** --resume: continue each scheme after its last complete cycle (the last cycles.csv row), from its checkpoint. */
function resumeState(
  out: string,
  config: ExperimentConfig,
  done: Map<SchemeName, { cycle: number; weights: Float32Array; emulated_s: number; wall_s: number }>,
  csvs: CsvAppender[],
  log: (line: string) => void,
): void {
  const rows = parseCycles(readFileSync(join(out, 'cycles.csv'), 'utf8'), join(out, 'cycles.csv'));
  for (const scheme of config.schemes) {
    const mine = rows.filter((r) => r.scheme === scheme);
    const last = mine.reduce((m, r) => Math.max(m, r.cycle), 0);
    if (last === 0) continue;
    const { weights, manifest } = loadCheckpoint(out, scheme, last, PARAM_COUNT);
    done.set(scheme, { cycle: last, weights, emulated_s: manifest.emulated_time_s, wall_s: manifest.wall_time_s });
  }
  // Rows of a cycle that never committed (learner rows written, cycle row not) are dropped.
  for (const csv of csvs) csv.rewrite((cells) => Number(cells[1]) <= (done.get(cells[0] as SchemeName)?.cycle ?? 0));
  log(`resuming ${out}: ${[...done.entries()].map(([s, d]) => `${s} after cycle ${d.cycle}`).join(', ')}`);
}
