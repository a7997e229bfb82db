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
import { reachableUrls } from './addresses.ts';
import type { ExperimentConfig } from './config.ts';
import { BufferPool } from './buffer-pool.ts';
import { runCycle, type CycleOutcome } from './cycle.ts';
import type { AllocationBrief, ExperimentEvent, RunEvent } from './events.ts';
import { DROPPED_REASON, isInjectedFault, withFaults } from './faults.ts';
import { PHASE_TOLERANCE_TEXT, phaseLagS } from '../emulation/faithfulness.ts';
import { LearnerHub } from './hub.ts';
import { parseCycles, parseLearners } from '../run-folder/read.ts';
import type { CycleRow, LearnerRow, RunConfigFile, RunSummaryFile, SchemeSummary } from '../run-folder/schema.ts';
import { ResultsWriter, type SchemeState } from './results-writer.ts';
import { writeJsonAtomic } from './run-files.ts';
import { lockRunFolder, removeStaleTemps } from './run-lock.ts';
import { readSessions, snakeKeys, totalOf, writeSessions, type SessionRecord } from './sessions.ts';
import { learnerEntryArgs } from './learner-entry.ts';
import { availableMemory, memoryRefusal, memoryVerdict } from './memory.ts';
import { LearnerProcesses, PROJECT_ROOT } from './spawn.ts';
import { summarizeScheme } from './summary.ts';

export interface RunOptions {
  out: string;
  token?: string;
  resume?: boolean;
  /** prose still logged as text: the hub's connection news, learner processes that exit (stderr by default) */
  log?: (line: string) => void;
  /** everything else the run reports, typed (events.ts): the CLI formats it, tests assert on it */
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal; // abort = stop after the learners are stopped (Ctrl-C); completed cycles stay
  /** memory the run may use, MB; default: what this machine (or its cgroup) has available */
  memoryMb?: number;
}

/**
 * A spawned learner that missed this many cycles in a row although its process still runs (stopped,
 * hung, or stuck reconnecting) is killed and started afresh. One missed cycle can be a passing
 * disconnect the learner recovers from by itself (it retries for --retry-s); two in a row cost two
 * cycles of its data, while a fresh process costs ~1–2 s to start.
 */
export const RESPAWN_AFTER_MISSED_CYCLES = 2;

/**
 * Above this many local iterations per cycle a learner over-trains: each of its τ epochs is another
 * pass over the same small batch, so its model fits that batch and drifts from the others, and
 * adaptive allocation can lose to ETA (seen with a few hundred samples per learner, τ of 54–68).
 */
export const TAU_OVERTRAINING_WARN = 20;

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
  offSchedule = 0;
  worstPhaseLag = 0;
  respawned = 0;

  /** `timeScale`: the real clock's, or null on the virtual clock (where wall time means nothing). */
  constructor(private readonly timeScale: number | null) {}

  add(outcome: CycleOutcome, wall_s: number): void {
    this.cyclesRun++;
    this.cyclesWall += wall_s;
    this.evalWall += outcome.eval_wall_s;
    this.trainProcess += outcome.train_wall_sum_s;
    if (outcome.diverged) this.diverged++;
    for (const r of outcome.records) {
      if (r.status === 'missing' && r.reason === DROPPED_REASON) this.dropped++;
      this.learnerPeakRssKb = Math.max(this.learnerPeakRssKb, r.max_rss_kb ?? 0);
      if ((r.overrun_s ?? 0) > 0) {
        this.overrunCycles++;
        this.overrunTotal += r.overrun_s!;
      }
      if (this.timeScale !== null && r.phases && r.wall) {
        const lag = phaseLagS(r.phases, r.wall, this.timeScale);
        if (lag > 0) this.offSchedule++;
        this.worstPhaseLag = Math.max(this.worstPhaseLag, lag);
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
    const a = solve(scheme, { coeffs, T_s: config.T, d: config.train_samples, ...(config.tau_max ? { tau_max: config.tau_max } : {}) });
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

/**
 * Why a joining learner's profile cannot take part in this run, or null. With a --learners file the
 * fleet is fixed (its feasibility was checked before waiting): a learner must announce its entry.
 */
function profileProblem(config: ExperimentConfig, spec: LearnerSpec, id: number, fixed: LearnerProfile[] | null): string | null {
  const problem = specProblem(spec);
  if (problem) return problem;
  let got: LearnerProfile;
  try {
    got = profileFromSpec(spec, id, config.params);
    assertUsableFleet([got]);
  } catch (e) {
    return (e as Error).message;
  }
  const want = fixed?.[id];
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  if (want && !(same(got.f_hz, want.f_hz) && same(got.rate_bps, want.rate_bps)))
    return `learner ${id} announced f_hz ${got.f_hz}, rate ${Math.round(got.rate_bps)} bit/s; the --learners file says f_hz ${want.f_hz}, rate ${Math.round(want.rate_bps)} bit/s`;
  return null;
}

function makeShards(config: ExperimentConfig, train: ImageSet): ImageSet[] {
  const indices = config.alpha === null ? iidShards(train.count, config.K, config.seed) : dirichletShards(train.labels, config.K, config.alpha, config.seed);
  return indices.map((ix) => subset(train, ix));
}

function allocationBriefs(allocations: Map<SchemeName, FeasibleAllocation>): AllocationBrief[] {
  return [...allocations.entries()].map(([scheme, a]) => ({
    scheme,
    tau: a.tau,
    min_batch: Math.min(...a.batch),
    max_batch: Math.max(...a.batch),
    ...(a.tau_relaxed !== undefined ? { tau_relaxed: a.tau_relaxed } : {}),
  }));
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

/** --train-samples and --test-samples against the files' headers, before anything is created or started. */
async function checkDataCounts(config: ExperimentConfig): Promise<void> {
  const counts = await mnistCounts(config.data_dir ? { dataDir: config.data_dir } : {});
  if (counts.train !== null && config.train_samples > counts.train)
    throw new InputError(`--train-samples ${config.train_samples} exceeds the ${counts.train} training images`);
  if (counts.test !== null && config.test_samples > counts.test) throw new InputError(`--test-samples ${config.test_samples} exceeds the ${counts.test} test images`);
}

/** K learner processes must fit in memory: refuse (exit 2) when they cannot, warn when it is tight. */
function checkMemory(K: number, memoryMb: number | undefined, emit: (e: ExperimentEvent) => void): void {
  const available = memoryMb !== undefined ? { mb: memoryMb, source: '--memory-mb' } : availableMemory();
  const v = memoryVerdict(K, available.mb);
  if (v.verdict === 'too-much') throw new InputError(memoryRefusal(K, v, available));
  if (v.verdict === 'tight') emit({ type: 'memory-tight', need_mb: v.need_mb, available_mb: Math.round(available.mb), source: available.source });
}

/** --resume with a larger --cycles: config.json records the new target (and that it was extended). */
function extendRunConfig(out: string, cycles: number, emit: (e: ExperimentEvent) => void): void {
  const path = join(out, 'config.json');
  const saved: RunConfigFile = JSON.parse(readFileSync(path, 'utf8'));
  if (saved.cycles >= cycles) return;
  emit({ type: 'extended', from: saved.cycles, to: cycles });
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
    overruns: {
      learner_cycles: t.overrun_learner_cycles,
      total_s: t.overrun_total_s,
      off_schedule_learner_cycles: t.off_schedule_learner_cycles,
      worst_phase_lag_s: t.worst_phase_lag_s,
      tolerance: PHASE_TOLERANCE_TEXT,
      faithful: t.overrun_learner_cycles === 0 && t.off_schedule_learner_cycles === 0,
    },
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
  const emit = opts.onEvent ?? (() => {});
  const runStart = monotonicSeconds();

  // ---- set-up: bad input fails here, before the run folder is touched or any process starts ----
  await checkDataCounts(config);
  // The fleet the run expects: spawned learners get exactly these profiles; external ones are told to
  // announce them (from --learners, or the seeded fleet), so feasibility is known before anyone joins.
  const fleet = buildFleet(config);
  allocateAll(config, fleet); // infeasible T or d: say so now, not after K learners joined
  if (!config.external) checkMemory(config.K, opts.memoryMb, emit);

  // ---- the run folder: creatable, writable, not another run's, and ours alone until we end ----
  const lock = lockRunFolder(opts.out, { resume: Boolean(opts.resume) });
  try {
    if (lock.staleHolder) emit({ type: 'lock-taken-over', pid: lock.staleHolder.pid });
    let previous: SessionRecord[] = [];
    if (opts.resume) {
      removeStaleTemps(opts.out);
      previous = readSessions(opts.out);
      extendRunConfig(opts.out, config.cycles, emit);
      const done = completedPerScheme(opts.out);
      if (config.schemes.every((s) => (done.get(s) ?? 0) >= config.cycles)) {
        // Nothing left to run: no learner is started, and no session is added to the timings.
        emit({ type: 'complete', out: opts.out, cycles: config.cycles });
        return summarizeFolder(config, opts.out, previous, previous.at(-1)?.engine ?? 'unknown', emit, false);
      }
    }
    if (opts.signal?.aborted) return summarizeFolder(config, opts.out, previous, previous.at(-1)?.engine ?? 'unknown', emit, true); // Ctrl-C during the checks
    return await runSession(config, opts, { log, emit, runStart, fleet, previous });
  } finally {
    lock.release();
  }
}

function summarizeFolder(config: ExperimentConfig, out: string, sessions: SessionRecord[], engine: string, emit: (e: ExperimentEvent) => void, interrupted: boolean): RunResult {
  const cyclesPath = join(out, 'cycles.csv');
  const learnersPath = join(out, 'learners.csv');
  const cycleRows = existsSync(cyclesPath) ? parseCycles(readFileSync(cyclesPath, 'utf8'), cyclesPath) : [];
  const learnerRows = existsSync(learnersPath) ? parseLearners(readFileSync(learnersPath, 'utf8'), learnersPath) : [];
  const summary = buildSummary(config, cycleRows, learnerRows, sessions, engine);
  if (cycleRows.length === 0) return { out, summary, interrupted, completedCycles: 0 }; // no result to write or show
  writeJsonAtomic(join(out, 'summary.json'), summary);
  emit({ type: 'summary', schemes: summary.schemes });
  if (!summary.overruns.faithful) emit({ type: 'unfaithful', ...summary.overruns });
  return { out, summary, interrupted, completedCycles: cycleRows.length };
}

async function runSession(
  config: ExperimentConfig,
  opts: RunOptions,
  ctx: { log: (line: string) => void; emit: (e: RunEvent) => void; runStart: number; fleet: LearnerProfile[]; previous: SessionRecord[] },
): Promise<RunResult> {
  const { log, emit, runStart } = ctx;
  // Spawned learners get the run's fleet; external ones announce theirs (held to a --learners file).
  const spawnedFleet = config.external ? null : ctx.fleet;
  const fixedFleet = config.learners_file ? ctx.fleet : null;
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
    checkProfile: (spec, id) => profileProblem(config, spec, id, fixedFleet),
    onEvent: emit,
  });
  const url = await hub.start();
  opts.signal?.addEventListener('abort', () => hub.failPending('orchestrator interrupted'));
  const reachable = config.external ? reachableUrls(config.host, Number(new URL(url).port)) : [url];
  emit({ type: 'listening', url, token, out: opts.out, reachable_urls: reachable, expected_fleet: config.external ? ctx.fleet : null });
  const processes = spawnedFleet ? new LearnerProcesses(await learnerEntryArgs(PROJECT_ROOT), url, token, join(opts.out, 'logs'), log, ['--engine', config.engine, '--backend', config.backend]) : null;
  const spawnMissing = () => {
    if (processes) for (const l of spawnedFleet!) if (!hub.isConnected(l.id) && !processes.isRunning(l.id)) processes.spawn(l);
  };
  spawnMissing();

  let engine: Engine;
  let train: ImageSet;
  let test: ImageSet;
  try {
    engine = await createEngine(config, log, ['evaluate']);
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

  const stats = new SessionStats(config.clock === 'real' ? config.time_scale : null);
  const allIds = Array.from({ length: config.K }, (_, i) => i);
  // Cycles each learner missed in a row (dropped results and planned kills do not count: the learner is fine).
  const missedInARow = new Map<number, number>();
  // Before every cycle: restart spawned learners that died or stopped answering, wait for everyone to be connected.
  const pendingKills: Promise<void>[] = [];
  const ensureLearners = async () => {
    await Promise.all(pendingKills.splice(0)); // a killed learner must be gone before we look for who to respawn
    if (processes)
      for (const l of spawnedFleet!) {
        const missed = missedInARow.get(l.id) ?? 0;
        if (missed < RESPAWN_AFTER_MISSED_CYCLES || !processes.isRunning(l.id)) continue;
        const pid = processes.pid(l.id) ?? null;
        await processes.kill(l.id); // SIGKILL: it also ends a stopped (SIGSTOP) process
        processes.spawn(l); // if its old connection is still closing, the new one retries "id in use"
        missedInARow.set(l.id, 0);
        stats.respawned++;
        emit({ type: 'respawned', learner: l.id, pid, missed_cycles: missed });
      }
    spawnMissing();
    const absent = await hub.waitFor(allIds, config.join_timeout_s * 1000, opts.signal);
    checkAbort(); // Ctrl-C while waiting: not "not connected"
    if (absent.length) emit({ type: 'not-connected', learners: absent });
  };

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
    off_schedule_learner_cycles: stats.offSchedule,
    worst_phase_lag_s: stats.worstPhaseLag,
    killed: stats.killed,
    dropped_results: stats.dropped,
    diverged_cycles: stats.diverged,
    respawned: stats.respawned,
    hub: snakeKeys(hub.stats),
    orchestrator_peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    learner_peak_rss_mb: stats.learnerPeakRssKb / 1024,
  });
  try {
    emit({ type: 'waiting', K: config.K, url: reachable[0] });
    await ensureLearners();
    const fleet = spawnedFleet ?? fixedFleet ?? fleetFromHub(config, hub);
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
      emit({ type: 'resuming', out: opts.out, after: [...states.entries()].map(([scheme, st]) => ({ scheme, cycle: st.cycle })) });
    }
    setupWall = monotonicSeconds() - runStart;
    emit({ type: 'setup-done', wall_s: setupWall, engine: engine.name, allocations: allocationBriefs(allocations) });
    if (!config.tau_max)
      for (const [scheme, a] of allocations)
        if (a.tau > TAU_OVERTRAINING_WARN) emit({ type: 'tau-large', scheme, tau: a.tau, threshold: TAU_OVERTRAINING_WARN, min_batch: Math.min(...a.batch.filter((b) => b > 0)) });
    const limit = pLimit(config.compute_slots);
    const buffers = new BufferPool();
    let runningScheme = config.schemes[0];
    const faultyHub = withFaults(hub, config.faults, config.seed, (id, cycle) => {
      if (!processes) return emit({ type: 'killed', learner: id, pid: null, scheme: runningScheme, cycle });
      stats.killed++;
      emit({ type: 'killed', learner: id, pid: processes.pid(id) ?? null, scheme: runningScheme, cycle });
      pendingKills.push(processes.kill(id));
    });
    let sessionLeft = config.schemes.reduce((n, s) => n + config.cycles - states.get(s)!.cycle, 0);

    for (const scheme of config.schemes) {
      runningScheme = scheme;
      const allocation = allocations.get(scheme)!;
      const state = states.get(scheme)!;
      const active = allocation.batch.filter((b) => b > 0).length;
      for (let cycle = state.cycle + 1; cycle <= config.cycles; cycle++) {
        checkAbort();
        await ensureLearners();
        const cycleStart = monotonicSeconds();
        emit({ type: 'cycle-start', scheme, cycle, cycles: config.cycles, tau: allocation.tau, active });
        const outcome = await runCycle(
          {
            config,
            hub: faultyHub,
            buffers,
            fleet,
            train,
            test,
            engine,
            limit,
            onLearnerDone: (r) => {
              if (r.status === 'missing') emit({ type: 'missing', scheme, cycle, learner: r.learner, reason: r.reason ?? 'unknown' });
              else if (r.status !== 'idle') emit({ type: 'task-done', scheme, cycle, learner: r.learner, status: r.status, t_total_s: r.phases?.t_total_s ?? 0 });
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
        for (const r of outcome.records) {
          const missedForNoFault = r.status === 'missing' && !isInjectedFault(r.reason);
          if (missedForNoFault) missedInARow.set(r.learner, (missedInARow.get(r.learner) ?? 0) + 1);
          else if (r.status === 'ok' || r.status === 'late') missedInARow.set(r.learner, 0);
        }
        Object.assign(state, { cycle, weights: outcome.weights, emulated_s: state.emulated_s + outcome.duration_s, wall_s: state.wall_s + wall });
        writer.commitCycle(scheme, cycle, allocation.tau, outcome, state);
        // This session's timings so far, so that even a SIGKILL keeps them for the summary.
        writeSessions(opts.out, [...ctx.previous, session()]);
        if (outcome.diverged) emit({ type: 'diverged', scheme, cycle });
        const missing = outcome.records.filter((r) => r.status === 'missing').map((r) => ({ learner: r.learner, reason: r.reason ?? 'unknown' }));
        emit({
          type: 'cycle-done',
          scheme,
          cycle,
          cycles: config.cycles,
          tau: allocation.tau,
          accuracy: outcome.accuracy,
          loss: outcome.loss,
          late: outcome.records.filter((r) => r.status === 'late').length,
          missing,
          diverged: outcome.diverged,
          wall_s: wall,
          session_done: stats.cyclesRun,
          session_left: --sessionLeft,
        });
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
  return summarizeFolder(config, opts.out, sessions, engine!.name, emit, interrupted);
}
