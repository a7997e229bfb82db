/**
 * An experiment run: set up (data, fleet, allocations, learners, run folder), then for each
 * scheme run the global cycles — each one committed to disk before the next starts — and
 * finally summarise. Shared by `npm run experiment` and the tests.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { solve } from '../allocation/index.ts';
import type { FeasibleAllocation, SchemeName } from '../allocation/types.ts';
import { InputError } from '../errors.ts';
import { firstN, loadMnist, mnistCounts, subset, type ImageSet } from '../data/mnist.ts';
import { dirichletShards, iidShards } from '../data/partition.ts';
import { createClock, monotonicSeconds } from '../emulation/clock.ts';
import { wireCoefficients } from '../emulation/wire-coefficients.ts';
import { assertUsableFleet, generateFleet, parseLearnersJson, profileFromSpec, specProblem, type LearnerProfile, type LearnerSpec } from '../model/devices.ts';
import { createEngine, initWeights, PARAM_COUNT, type Engine } from '../nn/mlp.ts';
import type { LearnerSettings } from '../protocol/messages.ts';
import type { ExperimentConfig } from './config.ts';
import { DROPPED_REASON, runCycle, type CycleOutcome } from './cycle.ts';
import { LearnerHub } from './hub.ts';
import { parseCycles, parseLearners } from '../run-folder/read.ts';
import type { CycleRow, LearnerRow, RunConfigFile, RunSummaryFile, SchemeSummary } from '../run-folder/schema.ts';
import { ResultsWriter, type SchemeState } from './results-writer.ts';
import { writeJsonAtomic } from './run-files.ts';
import { lockRunFolder, removeStaleTemps } from './run-lock.ts';
import { readSessions, snakeKeys, totalOf, writeSessions, type SessionRecord } from './sessions.ts';
import { learnerEntryArgs } from './learner-entry.ts';
import { LearnerProcesses, PROJECT_ROOT } from './spawn.ts';
import { formatSummaryTable, summarizeScheme } from './summary.ts';

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

export type { RunSummaryFile } from '../run-folder/schema.ts';

export interface RunResult {
  out: string;
  summary: RunSummaryFile;
  interrupted: boolean;
  /** cycle rows in the folder (all sessions): 0 means there is nothing to resume */
  completedCycles: number;
}

class Interrupted extends Error {}

/** This session's measurements (sessions.json keeps them; summary.json adds up all sessions). */
class SessionStats {
  readonly startedAt = new Date().toISOString();
  cyclesRun = 0;
  cyclesWall = 0;
  evalWall = 0;
  trainProcess = 0;
  overrunCycles = 0;
  overrunTotal = 0;
  killed = 0;
  dropped = 0;
  learnerPeakRssKb = 0;
  diverged = 0;
  respawned = 0;

  add(outcome: CycleOutcome, wall_s: number): void {
    this.cyclesRun++;
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

/** The commit the code ran from (with "-dirty" when it had uncommitted changes), or null outside a git checkout. */
function gitCommit(): string | null {
  const git = (...args: string[]) => execFileSync('git', ['-C', PROJECT_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return git('rev-parse', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '-dirty' : '');
  } catch {
    return null;
  }
}

/** Fleet of the run: the user's learners file, or generated from the seed. */
export function buildFleet(config: ExperimentConfig): LearnerProfile[] {
  if (!config.learners_file) return generateFleet(config.K, config.seed, config.params);
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

// `cycle wall`: this cycle's wall time (cycles.csv's wall_time_s is the scheme's cumulative one).
function cycleLine(scheme: string, cycle: number, config: ExperimentConfig, tau: number, o: CycleOutcome, wall_s: number): string {
  const late = o.records.filter((r) => r.status === 'late').length;
  const missing = o.records.filter((r) => r.status === 'missing');
  const why = missing.length ? ` (${missing.map((m) => `${m.learner}: ${m.reason}`).join('; ')})` : '';
  return (
    `${scheme.padEnd(10)} cycle ${String(cycle).padStart(3)}/${config.cycles}  τ=${tau}  accuracy ${(100 * o.accuracy).toFixed(2)} %` +
    `  loss ${o.loss.toFixed(4)}  late ${late}  missing ${missing.length}${why}  cycle wall ${wall_s.toFixed(1)} s` +
    (o.diverged ? '  DIVERGED: the averaged model had a non-finite loss; the previous model was kept' : '')
  );
}

/** --train-samples and --test-samples against the files' headers, before anything is created or started. */
async function checkDataCounts(config: ExperimentConfig): Promise<void> {
  const counts = await mnistCounts(config.data_dir ? { dataDir: config.data_dir } : {});
  if (counts.train !== null && config.train_samples > counts.train)
    throw new InputError(`--train-samples ${config.train_samples} exceeds the ${counts.train} training images`);
  if (counts.test !== null && config.test_samples > counts.test) throw new InputError(`--test-samples ${config.test_samples} exceeds the ${counts.test} test images`);
}

/** --resume with a larger --cycles: config.json records the new target (and that it was extended). */
function extendRunConfig(out: string, cycles: number, log: (line: string) => void): void {
  const path = join(out, 'config.json');
  const saved = JSON.parse(readFileSync(path, 'utf8'));
  if (saved.cycles >= cycles) return;
  log(`extending the run from ${saved.cycles} to ${cycles} cycles per scheme`);
  const extended = [...(saved.cycles_extended ?? []), { from: saved.cycles, to: cycles, at: new Date().toISOString() }];
  writeJsonAtomic(path, { ...saved, cycles, cycles_extended: extended });
}

function completedPerScheme(out: string): Map<string, number> {
  const path = join(out, 'cycles.csv');
  const done = new Map<string, number>();
  for (const r of parseCycles(readFileSync(path, 'utf8'), path)) done.set(r.scheme, Math.max(done.get(r.scheme) ?? 0, r.cycle));
  return done;
}

/** summary.json: results from the CSV files, timings and faults added up over every session of the run. */
function buildSummary(config: ExperimentConfig, cycleRows: CycleRow[], learnerRows: LearnerRow[], sessions: SessionRecord[], engine: string): RunSummaryFile {
  const schemes: Record<string, SchemeSummary> = {};
  for (const scheme of config.schemes)
    schemes[scheme] = summarizeScheme(
      cycleRows.filter((r) => r.scheme === scheme),
      learnerRows.filter((r) => r.scheme === scheme),
    );
  const t = totalOf(sessions);
  // Overhead: cycle wall time spent neither training (spread over the compute slots) nor evaluating.
  const overhead = Math.max(0, t.cycles_wall_s - t.eval_wall_s - t.train_process_s / config.compute_slots);
  return {
    schemes,
    engine,
    sessions: sessions.length,
    wall_s: t.wall_s,
    setup_wall_s: t.setup_wall_s,
    cycles_wall_s: t.cycles_wall_s,
    eval_wall_s: t.eval_wall_s,
    train_process_s: t.train_process_s,
    emulator_overhead: {
      seconds: overhead,
      fraction_of_cycles_wall: t.cycles_wall_s > 0 ? overhead / t.cycles_wall_s : 0,
      fraction_of_wall: t.wall_s > 0 ? overhead / t.wall_s : 0,
      definition: 'cycle wall time − evaluation − (Σ learner training seconds ÷ compute slots), over all sessions of the run',
    },
    overruns: { learner_cycles: t.overrun_learner_cycles, total_s: t.overrun_total_s, faithful: t.overrun_learner_cycles === 0 },
    faults: {
      killed: t.killed,
      dropped_results: t.dropped_results,
      lost_learner_cycles: learnerRows.filter((r) => r.status === 'missing').length,
      diverged_cycles: t.diverged_cycles,
      respawned: t.respawned,
    },
    hub: t.hub,
    memory: { orchestrator_peak_rss_mb: t.orchestrator_peak_rss_mb, learner_peak_rss_mb: t.learner_peak_rss_mb },
  };
}

export async function runExperiment(config: ExperimentConfig, opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const runStart = monotonicSeconds();

  // ---- set-up: bad input fails here, before the run folder is touched or any process starts ----
  await checkDataCounts(config);
  const generatedFleet = config.external ? null : buildFleet(config);
  if (generatedFleet) allocateAll(config, generatedFleet); // infeasible T or d: say so now

  // ---- the run folder: creatable, writable, not another run's, and ours alone until we end ----
  const lock = lockRunFolder(opts.out, { resume: Boolean(opts.resume) });
  try {
    if (lock.staleHolder) log(`took over the lock of a run that ended without releasing it (pid ${lock.staleHolder.pid})`);
    let previous: SessionRecord[] = [];
    if (opts.resume) {
      removeStaleTemps(opts.out);
      previous = readSessions(opts.out);
      extendRunConfig(opts.out, config.cycles, log);
      const done = completedPerScheme(opts.out);
      if (config.schemes.every((s) => (done.get(s) ?? 0) >= config.cycles)) {
        // Nothing left to run: no learner is started, and no session is added to the timings.
        log(`${opts.out} is complete (${config.cycles} cycles per scheme); nothing to resume — pass a larger --cycles to extend it`);
        return summarizeFolder(config, opts.out, previous, previous.at(-1)?.engine ?? 'unknown', log, false);
      }
    }
    if (opts.signal?.aborted) return summarizeFolder(config, opts.out, previous, previous.at(-1)?.engine ?? 'unknown', log, true); // Ctrl-C during the checks
    return await runSession(config, opts, { log, runStart, generatedFleet, previous });
  } finally {
    lock.release();
  }
}

function summarizeFolder(config: ExperimentConfig, out: string, sessions: SessionRecord[], engine: string, log: (line: string) => void, interrupted: boolean): RunResult {
  const cyclesPath = join(out, 'cycles.csv');
  const learnersPath = join(out, 'learners.csv');
  const cycleRows = existsSync(cyclesPath) ? parseCycles(readFileSync(cyclesPath, 'utf8'), cyclesPath) : [];
  const learnerRows = existsSync(learnersPath) ? parseLearners(readFileSync(learnersPath, 'utf8'), learnersPath) : [];
  const summary = buildSummary(config, cycleRows, learnerRows, sessions, engine);
  if (cycleRows.length === 0) return { out, summary, interrupted, completedCycles: 0 }; // no result to write or show
  writeJsonAtomic(join(out, 'summary.json'), summary);
  log('\n' + formatSummaryTable(summary.schemes));
  if (!summary.overruns.faithful)
    log(
      `WARNING: ${summary.overruns.learner_cycles} learner-cycles overran their real-clock compute budget (${summary.overruns.total_s.toFixed(2)} s in all): ` +
        'this run is not a faithful real-time emulation; raise --time-scale.',
    );
  return { out, summary, interrupted, completedCycles: cycleRows.length };
}

async function runSession(
  config: ExperimentConfig,
  opts: RunOptions,
  ctx: { log: (line: string) => void; runStart: number; generatedFleet: LearnerProfile[] | null; previous: SessionRecord[] },
): Promise<RunResult> {
  const { log, runStart, generatedFleet } = ctx;
  const token = opts.token ?? randomBytes(16).toString('hex');
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new Interrupted();
  };

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
    const absent = await hub.waitFor(allIds, config.join_timeout_s * 1000, opts.signal);
    checkAbort(); // Ctrl-C while waiting: not "not connected"
    if (absent.length) log(`learners not connected: ${absent.join(', ')} (recorded as missing this cycle)`);
  };

  const stats = new SessionStats();
  let interrupted = false;
  let setupWall = 0;
  let writer: ResultsWriter | null = null;
  const session = (): SessionRecord => ({
    started_at: stats.startedAt,
    engine: engine.name,
    cycles_run: stats.cyclesRun,
    wall_s: monotonicSeconds() - runStart,
    setup_wall_s: setupWall,
    cycles_wall_s: stats.cyclesWall,
    eval_wall_s: stats.evalWall,
    train_process_s: stats.trainProcess,
    overrun_learner_cycles: stats.overrunCycles,
    overrun_total_s: stats.overrunTotal,
    killed: stats.killed,
    dropped_results: stats.dropped,
    diverged_cycles: stats.diverged,
    respawned: stats.respawned,
    hub: snakeKeys(hub.stats),
    orchestrator_peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    learner_peak_rss_mb: stats.learnerPeakRssKb / 1024,
  });
  try {
    log(`waiting for ${config.K} learner${config.K > 1 ? 's' : ''} to join ${url} ...`);
    await ensureLearners();
    const fleet = generatedFleet ?? fleetFromHub(config, hub);
    const allocations = allocateAll(config, fleet);
    writer = new ResultsWriter(opts.out, {
      resume: Boolean(opts.resume),
      realClock: config.clock === 'real',
      config: (): RunConfigFile => ({
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
        git_commit: gitCommit(),
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
        // This session's timings so far, so that even a SIGKILL keeps them for the summary.
        writeSessions(opts.out, [...ctx.previous, session()]);
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

  // ---- summary, from the files (a resumed run covers every cycle) and every session's timings ----
  const sessions = stats.cyclesRun > 0 ? [...ctx.previous, session()] : ctx.previous;
  if (stats.cyclesRun > 0) writeSessions(opts.out, sessions);
  return summarizeFolder(config, opts.out, sessions, engine!.name, log, interrupted);
}
