/**
 * An experiment run: set up (data, fleet, allocations, learners, run folder), then for each
 * scheme run the global cycles — each one committed to disk before the next starts — and
 * finally summarise. Shared by `npm run experiment` and the tests.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { solve } from '../allocation/index.ts';
import type { FeasibleAllocation, SchemeName } from '../allocation/types.ts';
import { InputError } from '../errors.ts';
import { firstN, loadMnist, subset, type ImageSet } from '../data/mnist.ts';
import { dirichletShards, iidShards } from '../data/partition.ts';
import { createClock, monotonicSeconds } from '../emulation/clock.ts';
import { wireCoefficients } from '../emulation/wire-coefficients.ts';
import { assertUsableFleet, generateFleet, parseLearnersJson, profileFromSpec, specProblem, type LearnerProfile, type LearnerSpec } from '../model/devices.ts';
import { createEngine, initWeights, PARAM_COUNT, type Engine } from '../nn/mlp.ts';
import type { LearnerSettings } from '../protocol/messages.ts';
import type { ExperimentConfig } from './config.ts';
import { DROPPED_REASON, runCycle, type CycleOutcome } from './cycle.ts';
import { LearnerHub } from './hub.ts';
import { ResultsWriter, type SchemeState } from './results-writer.ts';
import { learnerEntryArgs } from './learner-entry.ts';
import { LearnerProcesses, PROJECT_ROOT } from './spawn.ts';
import { formatSummaryTable, summarizeScheme, type SchemeSummaryFull } from './summary.ts';

export interface RunOptions {
  out: string;
  token?: string;
  resume?: boolean;
  log?: (line: string) => void; // events and one line per cycle (stderr by default)
  /** A transient status line while a cycle runs (the CLI shows it on a terminal). */
  progress?: (status: string) => void;
  /** Called once learners may connect (external mode prints the command line here). */
  onListening?: (url: string, token: string) => void;
  signal?: AbortSignal; // abort = stop after the learners are stopped (Ctrl-C); completed cycles stay
}

export interface RunSummaryFile {
  schemes: Record<string, SchemeSummaryFull>;
  /** the engine that evaluated (learners report theirs per result) */
  engine: string;
  wall_s: number;
  setup_wall_s: number;
  cycles_wall_s: number;
  eval_wall_s: number;
  train_process_s: number; // Σ learners' real training seconds
  emulator_overhead: { seconds: number; fraction_of_cycles_wall: number; fraction_of_wall: number; definition: string };
  overruns: { learner_cycles: number; total_s: number; faithful: boolean };
  /** diverged_cycles: cycles whose averaged model had a non-finite test loss and was not adopted */
  faults: { killed: number; dropped_results: number; lost_learner_cycles: number; diverged_cycles: number };
  hub: Record<string, number>;
  /** peak resident memory of the orchestrator and of the largest learner process, MB */
  memory: { orchestrator_peak_rss_mb: number; learner_peak_rss_mb: number };
}

export interface RunResult {
  out: string;
  summary: RunSummaryFile;
  interrupted: boolean;
}

class Interrupted extends Error {}

/** This session's measurements (a resumed run reports its own session). */
class SessionStats {
  cyclesWall = 0;
  evalWall = 0;
  trainProcess = 0;
  overrunCycles = 0;
  overrunTotal = 0;
  killed = 0;
  dropped = 0;
  learnerPeakRssKb = 0;
  diverged = 0;

  add(outcome: CycleOutcome, wall_s: number): void {
    this.cyclesWall += wall_s;
    this.evalWall += outcome.eval_wall_s;
    this.trainProcess += outcome.train_wall_sum_s;
    if (outcome.diverged) this.diverged++;
    for (const r of outcome.records) {
      if (r.reason === DROPPED_REASON) this.dropped++;
      this.learnerPeakRssKb = Math.max(this.learnerPeakRssKb, r.max_rss_kb ?? 0);
      if ((r.overrun_s ?? 0) > 0) {
        this.overrunCycles++;
        this.overrunTotal += r.overrun_s!;
      }
    }
  }
}

function packageVersion(packageDir: string): string {
  try {
    return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** Fleet of the run: the user's learners file, or generated from the seed. */
export function buildFleet(config: ExperimentConfig): LearnerProfile[] {
  if (!config.learners_file) return generateFleet(config.K, config.fleet_seed ?? config.seed, config.params);
  const fleet = parseLearnersJson(readFileSync(config.learners_file, 'utf8'), config.params);
  if (fleet.length !== config.K) throw new InputError(`--learners file describes ${fleet.length} learners but K is ${config.K}`);
  return fleet;
}

/** Every scheme's allocation, or an InputError naming the scheme and the binding learners. */
export function allocateAll(config: ExperimentConfig, fleet: LearnerProfile[]): Map<SchemeName, FeasibleAllocation> {
  const coeffs = fleet.map((l) => wireCoefficients(l, config.params, config.scenario));
  const out = new Map<SchemeName, FeasibleAllocation>();
  for (const scheme of config.schemes) {
    const a = solve(scheme, { coeffs, T_s: config.T, d: config.train_samples });
    if (!a.feasible)
      throw new InputError(`scheme ${scheme} has no feasible allocation with τ ≥ 1: ${a.reason}. Raise --T, lower --train-samples, or leave ${scheme} out of --schemes`);
    out.set(scheme, a);
  }
  return out;
}

function fleetFromHub(config: ExperimentConfig, hub: LearnerHub): LearnerProfile[] {
  return Array.from({ length: config.K }, (_, id) => {
    const p = hub.profileOf(id);
    if (!p) throw new InputError(`external learner ${id} did not join within --join-timeout-s ${config.join_timeout_s}`);
    try {
      return profileFromSpec(p, id, config.params);
    } catch (e) {
      throw new InputError(`external learner ${id}: ${(e as Error).message}`);
    }
  });
}

/** Why a joining learner's profile cannot take part in this run, or null. */
function profileProblem(config: ExperimentConfig, spec: LearnerSpec, id: number): string | null {
  const problem = specProblem(spec);
  if (problem) return problem;
  try {
    assertUsableFleet([profileFromSpec(spec, id, config.params)]);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
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

function learnerSettings(config: ExperimentConfig, runId: string): LearnerSettings {
  return {
    run_id: runId,
    param_count: PARAM_COUNT,
    minibatch: config.minibatch,
    lr: config.lr,
    local_iteration: config.local_iteration,
    clock: config.clock,
    time_scale: config.time_scale,
    flops_per_sample: config.params.flops_per_sample,
    engine: config.engine,
    backend: config.backend,
    max_samples: config.train_samples,
  };
}

function cycleLine(scheme: string, cycle: number, config: ExperimentConfig, tau: number, o: CycleOutcome, wall_s: number): string {
  const late = o.records.filter((r) => r.status === 'late').length;
  const missing = o.records.filter((r) => r.status === 'missing');
  const why = missing.length ? ` (${missing.map((m) => `${m.learner}: ${m.reason}`).join('; ')})` : '';
  return (
    `${scheme.padEnd(10)} cycle ${String(cycle).padStart(3)}/${config.cycles}  τ=${tau}  accuracy ${(100 * o.accuracy).toFixed(2)} %` +
    `  loss ${o.loss.toFixed(4)}  late ${late}  missing ${missing.length}${why}  wall ${wall_s.toFixed(1)} s` +
    (o.diverged ? '  DIVERGED: the averaged model had a non-finite loss; the previous model was kept' : '')
  );
}

export async function runExperiment(config: ExperimentConfig, opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const runStart = monotonicSeconds();
  const token = opts.token ?? randomBytes(16).toString('hex');
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new Interrupted();
  };

  // ---- set-up: bad input fails here, before any process starts ----
  const generatedFleet = config.external ? null : buildFleet(config);
  if (generatedFleet) allocateAll(config, generatedFleet); // infeasible T or d: say so now

  // ---- learners: spawned first, so they boot while this process loads the data ----
  const hub = new LearnerHub({
    host: config.host,
    port: config.port,
    token,
    K: config.K,
    settings: learnerSettings(config, opts.out),
    clock: createClock(config.clock, config.time_scale),
    heartbeatMs: config.heartbeat_s * 1000,
    handshakeTimeoutMs: 10_000,
    log,
    checkProfile: (spec, id) => profileProblem(config, spec, id),
  });
  const url = await hub.start();
  opts.signal?.addEventListener('abort', () => hub.failPending('orchestrator interrupted'));
  opts.onListening?.(url, token);
  const processes = generatedFleet ? new LearnerProcesses(await learnerEntryArgs(PROJECT_ROOT), url, token, join(opts.out, 'logs'), log) : null;
  const spawnMissing = () => {
    if (processes) for (const l of generatedFleet!) if (!hub.isConnected(l.id) && !processes.isRunning(l.id)) processes.spawn(l);
  };
  spawnMissing();

  let engine: Engine;
  let train: ImageSet;
  let test: ImageSet;
  try {
    engine = await createEngine(config, log);
    const mnist = await loadMnist(config.data_dir ? { dataDir: config.data_dir } : {});
    if (config.train_samples > mnist.train.count) throw new InputError(`--train-samples ${config.train_samples} exceeds the ${mnist.train.count} training images`);
    if (config.test_samples > mnist.test.count) throw new InputError(`--test-samples ${config.test_samples} exceeds the ${mnist.test.count} test images`);
    train = firstN(mnist.train, config.train_samples);
    test = firstN(mnist.test, config.test_samples);
  } catch (e) {
    await hub.close('orchestrator failed to start');
    await processes?.stopAll();
    throw e;
  }
  if (config.scenario === 'federated') {
    // Federated learners hold their shard: sent once on joining (again after a reconnect).
    const shards = makeShards(config, train);
    const sendShard = (id: number) =>
      void hub.sendShard(id, { type: 'shard', samples: shards[id].count, images: shards[id].images, labels: shards[id].labels }).catch(() => {});
    hub.onJoin(sendShard);
    hub.connectedIds().forEach(sendShard);
  }
  const allIds = Array.from({ length: config.K }, (_, i) => i);
  // Before every cycle: respawn spawned learners that died, wait for everyone to be connected.
  const pendingKills: Promise<void>[] = [];
  const ensureLearners = async () => {
    await Promise.all(pendingKills.splice(0)); // a killed learner must be gone before we look for who to respawn
    spawnMissing();
    const absent = await hub.waitFor(allIds, config.join_timeout_s * 1000);
    if (absent.length) log(`learners not connected: ${absent.join(', ')} (recorded as missing this cycle)`);
  };

  const stats = new SessionStats();
  let interrupted = false;
  let setupWall = 0;
  let writer: ResultsWriter | null = null;
  try {
    log(`waiting for ${config.K} learner${config.K > 1 ? 's' : ''} to join ${url} ...`);
    await ensureLearners();
    checkAbort();
    const fleet = generatedFleet ?? fleetFromHub(config, hub);
    const allocations = allocateAll(config, fleet);
    writer = new ResultsWriter(opts.out, {
      resume: Boolean(opts.resume),
      realClock: config.clock === 'real',
      config: () => ({
        ...config,
        fleet,
        engine_used: engine.name,
        versions: {
          node: process.version,
          mel: packageVersion(PROJECT_ROOT),
          onnxruntime: packageVersion(join(PROJECT_ROOT, 'node_modules', 'onnxruntime-node')),
          tfjs: packageVersion(join(PROJECT_ROOT, 'node_modules', '@tensorflow', 'tfjs-core')),
          ws: packageVersion(join(PROJECT_ROOT, 'node_modules', 'ws')),
        },
        started_at: new Date().toISOString(),
        command: process.argv.slice(2).join(' '),
      }),
    });
    const states = new Map<SchemeName, SchemeState>();
    const initial = initWeights(config.seed); // every scheme starts from the same weights
    for (const scheme of config.schemes) states.set(scheme, { cycle: 0, weights: initial, emulated_s: 0, wall_s: 0 });
    if (opts.resume) {
      writer.resume(states, PARAM_COUNT);
      log(`resuming ${opts.out}: ${[...states.entries()].map(([s, st]) => `${s} after cycle ${st.cycle}`).join(', ')}`);
    }
    setupWall = monotonicSeconds() - runStart;
    log(`set-up took ${setupWall.toFixed(1)} s (engine ${engine.name}); ${describeAllocations(allocations)}`);
    const limit = pLimit(config.compute_slots);

    for (const scheme of config.schemes) {
      const allocation = allocations.get(scheme)!;
      const state = states.get(scheme)!;
      const active = allocation.batch.filter((b) => b > 0).length;
      for (let cycle = state.cycle + 1; cycle <= config.cycles; cycle++) {
        checkAbort();
        await ensureLearners();
        checkAbort();
        const cycleStart = monotonicSeconds();
        let finished = 0;
        opts.progress?.(`${scheme} cycle ${cycle}/${config.cycles}: training τ=${allocation.tau} on ${active} learners …`);
        const outcome = await runCycle(
          {
            config,
            hub,
            fleet,
            train,
            test,
            engine,
            limit,
            killLearner: (id) => {
              if (!processes) return log(`--fail ${id}@${cycle}: learner ${id} is external; cannot kill it`);
              stats.killed++;
              log(`fault injection: killing learner ${id} (pid ${processes.pid(id)}) in ${scheme} cycle ${cycle}`);
              pendingKills.push(processes.kill(id));
            },
            onLearnerDone: (r) => {
              if (r.status !== 'idle') finished++;
              opts.progress?.(`${scheme} cycle ${cycle}/${config.cycles}: ${finished}/${active} learners done (τ=${allocation.tau})`);
            },
          },
          scheme,
          cycle,
          allocation,
          state.weights,
        );
        checkAbort(); // an interrupted cycle is never written half
        const wall = monotonicSeconds() - cycleStart;
        stats.add(outcome, wall);
        Object.assign(state, { cycle, weights: outcome.weights, emulated_s: state.emulated_s + outcome.duration_s, wall_s: state.wall_s + wall });
        writer.commitCycle(scheme, cycle, allocation.tau, outcome, state);
        log(cycleLine(scheme, cycle, config, allocation.tau, outcome, wall));
      }
    }
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    interrupted = true;
  } finally {
    await hub.close(interrupted ? 'orchestrator interrupted' : 'run finished');
    await processes?.stopAll();
  }

  // ---- summary, from the files (a resumed run covers every cycle) ----
  const cycleRows = writer?.readCycles() ?? [];
  const learnerRows = writer?.readLearners() ?? [];
  const schemes: Record<string, SchemeSummaryFull> = {};
  for (const scheme of config.schemes)
    schemes[scheme] = summarizeScheme(
      cycleRows.filter((r) => r.scheme === scheme),
      learnerRows.filter((r) => r.scheme === scheme),
    );
  const wall_s = monotonicSeconds() - runStart;
  // Overhead: cycle wall time spent neither training (spread over the compute slots) nor evaluating.
  const overhead = Math.max(0, stats.cyclesWall - stats.evalWall - stats.trainProcess / config.compute_slots);
  const summary: RunSummaryFile = {
    schemes,
    engine: engine!.name,
    wall_s,
    setup_wall_s: setupWall,
    cycles_wall_s: stats.cyclesWall,
    eval_wall_s: stats.evalWall,
    train_process_s: stats.trainProcess,
    emulator_overhead: {
      seconds: overhead,
      fraction_of_cycles_wall: stats.cyclesWall > 0 ? overhead / stats.cyclesWall : 0,
      fraction_of_wall: overhead / wall_s,
      definition: 'cycle wall time − evaluation − (Σ learner training seconds ÷ compute slots); this session only',
    },
    overruns: { learner_cycles: stats.overrunCycles, total_s: stats.overrunTotal, faithful: stats.overrunCycles === 0 },
    faults: {
      killed: stats.killed,
      dropped_results: stats.dropped,
      lost_learner_cycles: learnerRows.filter((r) => r.status === 'missing').length,
      diverged_cycles: stats.diverged,
    },
    hub: { ...hub.stats },
    memory: {
      orchestrator_peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      learner_peak_rss_mb: stats.learnerPeakRssKb / 1024,
    },
  };
  if (writer && cycleRows.length > 0) writer.writeSummary(summary);
  log('\n' + formatSummaryTable(schemes));
  if (!summary.overruns.faithful)
    log(
      `WARNING: ${stats.overrunCycles} learner-cycles overran their real-clock compute budget (${stats.overrunTotal.toFixed(2)} s in all): ` +
        'this run is not a faithful real-time emulation; raise --time-scale.',
    );
  return { out: opts.out, summary, interrupted };
}
