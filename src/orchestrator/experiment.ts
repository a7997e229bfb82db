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
import { isBuiltinScheme, schemeRegistry } from '../allocation/index.ts';
import type { SchemeRegistry } from '../allocation/scheme.ts';
import type { FeasibleAllocation, SchemeName } from '../allocation/types.ts';
import { openSchemes } from '../schemes/index.ts';
import { InputError } from '../errors.ts';
import { MODEL_EXCHANGE_TOO_LONG } from '../allocation/infeasible.ts';
import { firstN, subset, type ImageSet } from '../data/mnist.ts';
import { datasetCounts, datasetShape, loadDataset, runLayout } from '../data/datasets.ts';
import { dirichletShards, iidShards } from '../data/partition.ts';
import { createClock, monotonicSeconds } from '../emulation/clock.ts';
import { wireCoefficients } from '../emulation/wire-coefficients.ts';
import {
  assertUsableFleet,
  generateFleet,
  parseLearnersJson,
  profileFromSpec,
  specProblem,
  type LearnerProfile,
  type LearnerSpec,
} from '../model/devices.ts';
import { createEngine, initWeights, type Engine } from '../nn/mlp.ts';
import { inputField, type LearnerSettings } from '../protocol/messages.ts';
import { isLoopback, reachableUrls } from './transport/addresses.ts';
import { certFingerprint, type TlsFiles } from './transport/listener.ts';
import { runEnergyParams, TAU_OVERTRAINING_WARN, type ExperimentConfig } from './config.ts';
export { energyBudgets } from './config.ts';
import { BufferPool } from './buffer-pool.ts';
import { runCycle, type CycleOutcome, type CycleServices, type LearnerRecord } from './cycle.ts';
import { Measurements, measureFromRow, measureFromTimeline, Planner, type CyclePlan } from './planner.ts';
import { createWorld, type World } from './world.ts';
import type { AllocationBrief, ExperimentEvent, RunEvent } from './events.ts';
import { everyLearnerDiverged, TrainingDiverged } from './divergence.ts';
import { withFaults, type TaskSender } from './transport/faults.ts';
import { realClockPacing } from './real-clock-pacing.ts';
import { identicalGroups, identicalGroupsFromRows } from './identical-allocations.ts';
import { PHASE_TOLERANCE_TEXT } from '../emulation/faithfulness.ts';
import { LearnerHub } from './transport/hub.ts';
import { parseCycles, parseLearners } from '../run-folder/read.ts';
import type { CycleRow, LearnerRow, RunConfigFile, RunSummaryFile, SchemeSummary } from '../run-folder/schema.ts';
import { ResultsWriter, type SchemeState } from './store/results-writer.ts';
import { writeJsonAtomic } from './store/run-files.ts';
import { checkRunRows, checkSettingsDigest, settingsDigest } from './store/run-integrity.ts';
import { lockRunFolder, type RunFolderLock } from './store/run-lock.ts';
import { removeStaleTemps } from './store/run-folder-contents.ts';
import { EventLog } from './store/event-log.ts';
import { readSessions, totalOf, writeSessions, type SessionRecord } from './store/sessions.ts';
import { SessionStats } from './store/session-stats.ts';
import { LearnerUpkeep } from './fleet/learner-upkeep.ts';
import { learnerEntryArgs } from './fleet/learner-entry.ts';
import { availableMemory, memoryRefusal, memoryVerdict } from './fleet/memory.ts';
import { hostBlocks, LearnerHosts } from './fleet/spawn.ts';
import { PROJECT_ROOT } from '../util/project-root.ts';
import { summarizeScheme } from './store/summary.ts';
import { formatIdRanges } from '../util/id-ranges.ts';
import { readInputFile } from '../util/input-file.ts';

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
  /** serve wss:// with this certificate and key (spawned hosts trust exactly this certificate) */
  tls?: TlsFiles;
}

export { RESPAWN_AFTER_MISSED_CYCLES } from './fleet/learner-upkeep.ts';

export { TAU_OVERTRAINING_WARN } from './config.ts';

export type { RunSummaryFile } from '../run-folder/schema.ts';

export interface RunResult {
  out: string;
  summary: RunSummaryFile;
  interrupted: boolean;
  /** cycle rows in the folder (all sessions): 0 means there is nothing to resume */
  completedCycles: number;
}

class Interrupted extends Error {}

function packageVersion(packageDir: string): string {
  try {
    return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** The commit the code ran from (with "-dirty" when it had uncommitted changes), or null outside a git checkout. */
function gitCommit(): string | null {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', PROJECT_ROOT, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    return git('rev-parse', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '-dirty' : '');
  } catch {
    return null;
  }
}

/** Fleet of the run: the user's learners file, or generated from the seed. */
export function buildFleet(config: ExperimentConfig): LearnerProfile[] {
  const fleet = config.learners_file
    ? parseLearnersJson(readInputFile(config.learners_file, '--learners'), config.params)
    : generateFleet(config.K, config.fleet_seed === null ? config.seed : config.fleet_seed, config.params);
  if (fleet.length !== config.K)
    throw new InputError(`--learners file describes ${fleet.length} learners but K is ${config.K}`);
  assertUsableFleet(fleet);
  return fleet;
}

/** The run's world: the seeded dynamics, or the --trace file replayed (a bad file: TraceError naming file and line). */
export function loadWorld(config: ExperimentConfig, fleet: LearnerProfile[]): World {
  if (!config.trace_file) return createWorld(config, fleet, config.params);
  return createWorld(config, fleet, config.params, {
    text: readInputFile(config.trace_file, '--trace'),
    file: config.trace_file,
  });
}

/**
 * Every scheme's allocation before anything is measured (every learner on), or an InputError
 * naming the scheme and the binding learners.
 */
export async function allocateAll(
  config: ExperimentConfig,
  fleet: LearnerProfile[],
  schemes: SchemeRegistry = schemeRegistry(),
  planner = new Planner(config, fleet, loadWorld(config, fleet), schemes),
): Promise<Map<SchemeName, FeasibleAllocation>> {
  const out = new Map<SchemeName, FeasibleAllocation>();
  for (const scheme of config.schemes) {
    let a: Awaited<ReturnType<Planner['initial']>>;
    try {
      a = await planner.initial(scheme);
    } catch (e) {
      // validateProblem's refusals (a coefficient that is not finite, T out of range) come from the settings.
      if (e instanceof RangeError)
        throw new InputError(`scheme ${scheme} cannot allocate with these settings: ${e.message}`);
      throw e;
    }
    if (!a.feasible) {
      if (!isBuiltinScheme(scheme))
        throw new InputError(`scheme ${scheme} answered infeasible before the first cycle: ${a.reason}`);
      const fix = a.reason.includes(MODEL_EXCHANGE_TOO_LONG)
        ? 'Raise --T above it, or give the links more rate (--bandwidth-hz, --tx-power-dbm, a smaller --radius-m)'
        : scheme === 'energy'
          ? "Raise --energy-j (or the learners file's energy_j), raise --T, lower --train-samples"
          : `Raise --T, lower --train-samples${scheme === 'robust' ? ', raise --epsilon' : ''}`;
      throw new InputError(
        `scheme ${scheme} has no feasible allocation with τ ≥ 1: ${a.reason}. ${fix}, or leave ${scheme} out of --schemes`,
      );
    }
    out.set(scheme, a);
  }
  return out;
}

function fleetFromHub(config: ExperimentConfig, hub: LearnerHub): LearnerProfile[] {
  return Array.from({ length: config.K }, (_, id) => {
    const p = hub.profileOf(id);
    if (!p)
      throw new InputError(`external learner ${id} did not join within --join-timeout-s ${config.join_timeout_s}`);
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
function profileProblem(
  config: ExperimentConfig,
  spec: LearnerSpec,
  id: number,
  fixed: LearnerProfile[] | null,
): string | null {
  const problem = specProblem(spec);
  if (problem) return problem;
  let got: LearnerProfile;
  try {
    got = profileFromSpec(spec, id, config.params);
    assertUsableFleet([got]);
  } catch (e) {
    return (e as Error).message;
  }
  // External learners without a --learners file make the fleet: one that cannot even exchange the
  // model within T is refused now, not found infeasible after everyone joined.
  if (config.external && !config.learners_file) {
    const { c0_s } = wireCoefficients(got, config.params, config.scenario);
    if (!(c0_s < config.T))
      return `its link of ${got.rate_bps} bit/s needs ${c0_s} s to exchange the model alone, not under T = ${config.T} s`;
  }
  const want = fixed?.[id];
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  if (want && !(same(got.f_hz, want.f_hz) && same(got.rate_bps, want.rate_bps)))
    return `learner ${id} announced f_hz ${got.f_hz}, rate ${Math.round(got.rate_bps)} bit/s; the --learners file says f_hz ${want.f_hz}, rate ${Math.round(want.rate_bps)} bit/s`;
  return null;
}

function makeShards(config: ExperimentConfig, train: ImageSet): ImageSet[] {
  const indices =
    config.alpha === null
      ? iidShards(train.count, config.K, config.seed)
      : dirichletShards(train.labels, config.K, config.alpha, config.seed);
  return indices.map((ix) => subset(train, ix));
}

/** Schemes allocated once whose allocations coincide train identically: say so, and whether --tau-max made them so. */
async function noteIdenticalAllocations(
  config: ExperimentConfig,
  fleet: LearnerProfile[],
  planner: Planner,
  allocations: Map<SchemeName, FeasibleAllocation>,
  ctx: Pick<RunContext, 'emit' | 'schemes'>,
): Promise<void> {
  const fixed = new Map([...allocations].filter(([scheme]) => !planner.perCycle(scheme)));
  const groups = identicalGroups(fixed);
  if (groups.length === 0) return;
  const uncapped = config.tau_max ? await allocateAll({ ...config, tau_max: null }, fleet, ctx.schemes) : allocations;
  const by_cap = groups.map(
    (g) => identicalGroups(new Map(g.map((scheme) => [scheme, uncapped.get(scheme)!]))).length === 0,
  );
  ctx.emit({ type: 'identical-allocations', groups, by_cap, tau_max: config.tau_max });
}

function allocationBriefs(allocations: Map<SchemeName, FeasibleAllocation>): AllocationBrief[] {
  return [...allocations.entries()].map(([scheme, a]) => ({
    scheme,
    tau: a.tau,
    ...(a.staleness > 0 ? { tau_max: Math.max(...a.tau_per_learner) } : {}),
    min_batch: Math.min(...a.batch),
    max_batch: Math.max(...a.batch),
    ...(a.tau_relaxed !== undefined ? { tau_relaxed: a.tau_relaxed } : {}),
  }));
}

function learnerSettings(config: ExperimentConfig, runId: string): LearnerSettings {
  return {
    run_id: runId,
    param_count: runLayout(config).count,
    ...(config.model !== undefined ? { model: config.model } : {}),
    ...inputField(datasetShape(config.dataset)),
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
  const counts = await datasetCounts(config.dataset, config.data_dir);
  if (counts.train !== null && config.train_samples > counts.train)
    throw new InputError(`--train-samples ${config.train_samples} exceeds the ${counts.train} training images`);
  if (counts.test !== null && config.test_samples > counts.test)
    throw new InputError(`--test-samples ${config.test_samples} exceeds the ${counts.test} test images`);
}

/** K learners in their host processes must fit in memory: refuse (exit 2) when they cannot, warn when it is tight. */
function checkMemory(K: number, hosts: number, memoryMb: number | undefined, emit: (e: ExperimentEvent) => void): void {
  const available = memoryMb !== undefined ? { mb: memoryMb, source: '--memory-mb' } : availableMemory();
  const v = memoryVerdict(K, hosts, available.mb);
  if (v.verdict === 'too-much') throw new InputError(memoryRefusal(K, hosts, v, available));
  if (v.verdict === 'tight')
    emit({
      type: 'memory-tight',
      need_mb: v.need_mb,
      available_mb: Math.round(available.mb),
      source: available.source,
    });
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

/** Before a resume appends: the settings are as the run wrote them, and the rows are what they wrote. */
function checkResumedFolder(out: string, config: ExperimentConfig): void {
  checkSettingsDigest(out, JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')));
  const cyclesPath = join(out, 'cycles.csv');
  const learnersPath = join(out, 'learners.csv');
  const learners = existsSync(learnersPath) ? parseLearners(readFileSync(learnersPath, 'utf8'), learnersPath) : [];
  checkRunRows(out, config, parseCycles(readFileSync(cyclesPath, 'utf8'), cyclesPath), learners);
}

/** config.json as written: the run's record plus the digest that ties later resumes to these settings. */
function withSettingsDigest(file: RunConfigFile): RunConfigFile {
  return { ...file, settings_sha256: settingsDigest(file) };
}

function completedPerScheme(out: string): Map<string, number> {
  const path = join(out, 'cycles.csv');
  const done = new Map<string, number>();
  for (const r of parseCycles(readFileSync(path, 'utf8'), path))
    done.set(r.scheme, Math.max(done.get(r.scheme) ?? 0, r.cycle));
  return done;
}

/** summary.json: results from the CSV files, timings and faults added up over every session of the run. */
function buildSummary(
  config: ExperimentConfig,
  cycleRows: CycleRow[],
  learnerRows: LearnerRow[],
  sessions: SessionRecord[],
  engine: string,
): RunSummaryFile {
  const schemes: Record<string, SchemeSummary> = {};
  for (const scheme of config.schemes)
    schemes[scheme] = summarizeScheme(
      cycleRows.filter((r) => r.scheme === scheme),
      learnerRows.filter((r) => r.scheme === scheme),
      config.energy.budget_j,
      config.targets,
    );
  const t = totalOf(sessions);
  // Overhead: cycle wall time spent neither training (spread over the compute slots) nor evaluating.
  const overhead = Math.max(0, t.cycles_wall_s - t.eval_wall_s - t.train_process_s / config.compute_slots);
  return {
    schemes,
    identical_allocations: identicalGroupsFromRows(config.schemes, learnerRows),
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
      definition:
        'cycle wall time − evaluation − (Σ learner training seconds ÷ compute slots), over all sessions of the run',
    },
    ...(config.clock === 'real'
      ? { real_clock_pacing: realClockPacing(config.time_scale, cycleRows, t.cycles_wall_s, t.eval_wall_s) }
      : {}),
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

/** What every step of a run shares: its log and events, its start, the fleet and the schemes. */
interface RunContext {
  log: (line: string) => void;
  emit: (e: RunEvent) => void;
  runStart: number;
  fleet: LearnerProfile[];
  /** every scheme's allocation of `fleet` before anything is measured (the check before anything started) */
  allocations: Map<SchemeName, FeasibleAllocation>;
  schemes: SchemeRegistry;
}

export async function runExperiment(config: ExperimentConfig, opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  // Every event goes to the caller and to events.jsonl (held back until the folder is ours).
  let events: EventLog | null = null;
  const early: { event: RunEvent; at: Date }[] = [];
  const emit = (event: RunEvent) => {
    if (events) events.write(event);
    else early.push({ event, at: new Date() });
    opts.onEvent?.(event);
  };
  const runStart = monotonicSeconds();

  // ---- set-up: bad input fails here, before the run folder is touched or any process starts ----
  await checkDataCounts(config);
  // The fleet the run expects: spawned learners get exactly these profiles; external ones are told to
  // announce them (from --learners, or the seeded fleet), so feasibility is known before anyone joins.
  const fleet = buildFleet(config);
  // The user's schemes: modules loaded, processes started once for the whole run (stopped at its end).
  const schemes = await openSchemes(config.user_schemes, { timeout_s: config.scheme_timeout_s, log });
  try {
    // Infeasible T or d: say so now, not after K learners joined.
    const allocations = await allocateAll(config, fleet, schemes.registry);
    if (!config.external) checkMemory(config.K, config.hosts, opts.memoryMb, emit);
    const eventLog = {
      open: () => {
        events = new EventLog(opts.out, { fresh: !opts.resume }, log);
        emit({ type: 'session-start', out: opts.out, resume: Boolean(opts.resume), pid: process.pid, config });
        for (const e of early) events.write(e.event, e.at);
      },
      close: () => events?.close(),
    };
    const ctx = { log, emit, runStart, fleet, allocations, schemes: schemes.registry };
    return await runInFolder(config, opts, { ...ctx, events: eventLog });
  } finally {
    await schemes.close();
  }
}

/** The run in its folder: locked for us alone; a resumed run continues after its last complete cycle. */
async function runInFolder(
  config: ExperimentConfig,
  opts: RunOptions,
  ctx: RunContext & { events: { open: () => void; close: () => void } },
): Promise<RunResult> {
  const { emit } = ctx;

  // ---- the run folder: creatable, writable, not another run's, and ours alone until we end ----
  const lock = lockRunFolder(opts.out, { resume: Boolean(opts.resume) });
  try {
    ctx.events.open();
    const result = await runFolder(config, opts, { ...ctx, lock });
    emit({ type: 'session-end', status: result.interrupted ? 'interrupted' : 'finished' });
    return result;
  } catch (e) {
    emit({ type: 'session-end', status: 'failed', message: (e as Error).message });
    throw e;
  } finally {
    ctx.events.close();
    lock.release();
  }
}

/** The run in its locked folder: resumed or new, complete already or run now. */
async function runFolder(
  config: ExperimentConfig,
  opts: RunOptions,
  ctx: RunContext & { lock: RunFolderLock },
): Promise<RunResult> {
  const { emit, lock } = ctx;
  if (lock.staleHolder) emit({ type: 'lock-taken-over', pid: lock.staleHolder.pid });
  let previous: SessionRecord[] = [];
  if (opts.resume) {
    checkResumedFolder(opts.out, config);
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
  if (opts.signal?.aborted)
    return summarizeFolder(config, opts.out, previous, previous.at(-1)?.engine ?? 'unknown', emit, true); // Ctrl-C during the checks
  return await runSession(config, opts, { ...ctx, previous });
}

function summarizeFolder(
  config: ExperimentConfig,
  out: string,
  sessions: SessionRecord[],
  engine: string,
  emit: (e: ExperimentEvent) => void,
  interrupted: boolean,
): RunResult {
  const cyclesPath = join(out, 'cycles.csv');
  const learnersPath = join(out, 'learners.csv');
  const cycleRows = existsSync(cyclesPath) ? parseCycles(readFileSync(cyclesPath, 'utf8'), cyclesPath) : [];
  const learnerRows = existsSync(learnersPath) ? parseLearners(readFileSync(learnersPath, 'utf8'), learnersPath) : [];
  const summary = buildSummary(config, cycleRows, learnerRows, sessions, engine);
  if (cycleRows.length === 0) return { out, summary, interrupted, completedCycles: 0 }; // no result to write or show
  writeJsonAtomic(join(out, 'summary.json'), summary);
  emit({ type: 'summary', schemes: summary.schemes, targets: config.targets });
  if (!summary.overruns.faithful) emit({ type: 'unfaithful', ...summary.overruns });
  return { out, summary, interrupted, completedCycles: cycleRows.length };
}

/**
 * One session of the run: the learners started, the data loaded, then every scheme's remaining
 * cycles (ExperimentSession), and the summary of what the folder holds.
 */
async function runSession(
  config: ExperimentConfig,
  opts: RunOptions,
  ctx: RunContext & { previous: SessionRecord[] },
): Promise<RunResult> {
  const { hub, processes } = await startLearners(config, opts, ctx);
  const stats = new SessionStats(config.clock === 'real' ? config.time_scale : null);
  const upkeep = new LearnerUpkeep(hub, processes, {
    K: config.K,
    joinTimeoutMs: config.join_timeout_s * 1000,
    signal: opts.signal,
    emit: ctx.emit,
    onRespawn: () => stats.counts.respawned++,
  });
  upkeep.spawnMissing();
  const data = await loadRunDataOrStop(config, opts, ctx.log, { hub, processes });
  if (data === null) {
    const engine = ctx.previous.at(-1)?.engine ?? 'unknown';
    return summarizeFolder(config, opts.out, ctx.previous, engine, ctx.emit, true);
  }
  if (config.scenario === 'federated') shipShards(config, hub, data.train);
  return new ExperimentSession(config, opts, ctx, { hub, processes, stats, upkeep, data }).run();
}

type RunData = { engine: Engine; train: ImageSet; test: ImageSet };

/**
 * The run's data and evaluating engine, or null on Ctrl-C while they load (learners may already be
 * joining: it stops at once, as it does while waiting). Either way but success, the learners stop.
 */
async function loadRunDataOrStop(
  config: ExperimentConfig,
  opts: RunOptions,
  log: (line: string) => void,
  learners: { hub: LearnerHub; processes: LearnerHosts | null },
): Promise<RunData | null> {
  const aborted = new Promise<never>((_, reject) =>
    opts.signal?.addEventListener('abort', () => reject(new Interrupted()), { once: true }),
  );
  try {
    return await Promise.race([loadRunData(config, log), aborted]);
  } catch (e) {
    await learners.hub.close(e instanceof Interrupted ? 'orchestrator interrupted' : 'orchestrator failed to start');
    await learners.processes?.stopAll();
    if (e instanceof Interrupted) return null;
    throw e;
  }
}

/** What a session runs with once it started: the hub and learner processes, their upkeep, its timings and the data. */
interface SessionParts {
  hub: LearnerHub;
  processes: LearnerHosts | null;
  stats: SessionStats;
  upkeep: LearnerUpkeep;
  data: RunData;
}

/** What the cycles run on, set up once the learners joined. */
interface CyclesSetup {
  /** what each scheme knows and allocates, cycle by cycle */
  planner: Planner;
  writer: ResultsWriter;
  allocations: Map<SchemeName, FeasibleAllocation>;
  /** each scheme's progress: last cycle, weights, emulated and wall time */
  states: Map<SchemeName, SchemeState>;
  /** what each scheme has measured of each learner (csi last, robust on a trace) */
  measurements: Map<SchemeName, Measurements>;
  /** the services every cycle gets (its progress callbacks are added per cycle) */
  services: Omit<CycleServices, 'onLearnerDone' | 'onLearnerPhase'>;
}

/** A session's cycles, scheme after scheme, each committed to disk before the next starts. */
class ExperimentSession {
  /** the scheme whose cycles are running (named in fault events) */
  private scheme: SchemeName;
  /** cycles this session still has to run, for progress */
  private cyclesLeft = 0;
  private setupWall = 0;
  private interrupted = false;
  private diverged: TrainingDiverged | null = null;

  constructor(
    private readonly config: ExperimentConfig,
    private readonly opts: RunOptions,
    private readonly ctx: RunContext & { previous: SessionRecord[] },
    private readonly parts: SessionParts,
  ) {
    this.scheme = config.schemes[0];
  }

  async run(): Promise<RunResult> {
    try {
      await this.runCycles();
    } catch (e) {
      if (e instanceof TrainingDiverged) this.diverged = e;
      else if (!(e instanceof Interrupted)) throw e;
      else this.interrupted = true;
    } finally {
      await this.parts.hub.close(this.interrupted ? 'orchestrator interrupted' : 'run finished');
      await this.parts.processes?.stopAll();
    }
    return this.summarize();
  }

  /** The summary, from the files (a resumed run covers every cycle) and every session's timings. */
  private summarize(): RunResult {
    const { config, opts, ctx, parts } = this;
    const ran = parts.stats.counts.cycles_run > 0;
    const sessions = ran ? [...ctx.previous, this.record()] : ctx.previous;
    if (ran) writeSessions(opts.out, sessions);
    const result = summarizeFolder(config, opts.out, sessions, parts.data.engine.name, ctx.emit, this.interrupted);
    if (this.diverged) throw this.diverged; // after the summary of what completed: one line saying why and what to change
    return result;
  }

  /** This session's timings so far. */
  private record(): SessionRecord {
    const { parts } = this;
    return parts.stats.record({
      engine: parts.data.engine.name,
      wall_s: monotonicSeconds() - this.ctx.runStart,
      setup_wall_s: this.setupWall,
      hub: parts.hub.stats,
    });
  }

  private checkAbort(): void {
    if (this.opts.signal?.aborted) throw new Interrupted();
  }

  private async runCycles(): Promise<void> {
    const setup = await this.setUpCycles();
    this.setupDone(setup.allocations);
    this.cyclesLeft = this.config.schemes.reduce((n, s) => n + this.config.cycles - setup.states.get(s)!.cycle, 0);
    for (const scheme of this.config.schemes) {
      this.scheme = scheme;
      await this.runScheme(setup, scheme);
    }
  }

  /** With the learners joined: the fleet, world, planner and allocations, the writer, and each scheme's state. */
  private async setUpCycles(): Promise<CyclesSetup> {
    const { config, opts, ctx, parts } = this;
    await ensureLearners(parts.upkeep, ctx.emit, () => this.checkAbort());
    // External learners without a --learners file make the fleet with the profiles they announced.
    const announced = config.external && !config.learners_file;
    const fleet = announced ? fleetFromHub(config, parts.hub) : ctx.fleet;
    const world = loadWorld(config, fleet);
    const planner = new Planner(config, fleet, world, ctx.schemes);
    // The check before anything started allocated the expected fleet: a fleet announced since is allocated anew.
    const allocations = announced ? await allocateAll(config, fleet, ctx.schemes, planner) : ctx.allocations;
    await noteIdenticalAllocations(config, fleet, planner, allocations, ctx);
    const writer = openResults(config, opts, fleet, parts.data.engine);
    const initial = initWeights(config.seed, runLayout(config)); // every scheme starts from the same weights
    const states = new Map<SchemeName, SchemeState>(
      config.schemes.map((scheme) => [scheme, { cycle: 0, weights: initial, emulated_s: 0, wall_s: 0 }]),
    );
    const measurements = new Map(config.schemes.map((scheme) => [scheme, new Measurements(config.K)]));
    if (opts.resume) this.resume(writer, states, measurements);
    const services = this.cycleServices(fleet, world);
    return { planner, writer, allocations, states, measurements, services };
  }

  /** A resumed run reads back each scheme's last cycle and weights, and what it measured. */
  private resume(
    writer: ResultsWriter,
    states: Map<SchemeName, SchemeState>,
    measurements: Map<SchemeName, Measurements>,
  ): void {
    writer.resume(states, runLayout(this.config).count);
    for (const row of writer.readLearners())
      measurements.get(row.scheme as SchemeName)?.add(row.learner, measureFromRow(row));
    this.ctx.emit({
      type: 'resuming',
      out: this.opts.out,
      after: [...states.entries()].map(([scheme, st]) => ({ scheme, cycle: st.cycle })),
    });
  }

  private cycleServices(fleet: LearnerProfile[], world: World): CyclesSetup['services'] {
    const { config, parts } = this;
    return {
      config,
      hub: this.faultyHub(),
      buffers: new BufferPool(),
      fleet,
      world,
      train: parts.data.train,
      test: parts.data.test,
      engine: parts.data.engine,
      limit: pLimit(config.compute_slots),
      hostOf: (k) => parts.hub.hostKeyOf(k),
      energy: runEnergyParams(config),
    };
  }

  /** The hub as the cycles see it: with the run's faults injected (a kill is counted and told). */
  private faultyHub(): TaskSender {
    const { config, parts, ctx } = this;
    const { upkeep, processes, stats } = parts;
    return withFaults(parts.hub, config.faults, config.seed, {
      kill: (id, cycle) => {
        const { pid, how } = upkeep.kill(id);
        if (processes) stats.counts.killed++;
        ctx.emit({ type: 'killed', learner: id, pid, how, scheme: this.scheme, cycle });
      },
      killHost: (h, cycle) => {
        const pid = upkeep.killHost(h);
        if (pid !== null) stats.counts.killed++;
        const learners = formatIdRanges(processes?.blocks[h] ?? []);
        ctx.emit({ type: 'host-killed', host: h, learners, pid, scheme: this.scheme, cycle });
      },
      hostOf: (id) => processes?.hostOf(id) ?? -1,
    });
  }

  /** Set-up is over: its wall time, the allocations, and a warning for a τ so large it overtrains. */
  private setupDone(allocations: Map<SchemeName, FeasibleAllocation>): void {
    const { config, ctx } = this;
    this.setupWall = monotonicSeconds() - ctx.runStart;
    ctx.emit({
      type: 'setup-done',
      wall_s: this.setupWall,
      engine: this.parts.data.engine.name,
      allocations: allocationBriefs(allocations),
    });
    if (config.tau_max) return;
    for (const [scheme, a] of allocations)
      if (Math.max(...a.tau_per_learner) > TAU_OVERTRAINING_WARN)
        ctx.emit({
          type: 'tau-large',
          scheme,
          tau: Math.max(...a.tau_per_learner),
          threshold: TAU_OVERTRAINING_WARN,
          min_batch: Math.min(...a.batch.filter((b) => b > 0)),
        });
  }

  /** One scheme's remaining cycles. */
  private async runScheme(setup: CyclesSetup, scheme: SchemeName): Promise<void> {
    const state = setup.states.get(scheme)!;
    for (let cycle = state.cycle + 1; cycle <= this.config.cycles; cycle++) {
      this.checkAbort();
      await ensureLearners(this.parts.upkeep, this.ctx.emit, () => this.checkAbort());
      await this.runOneCycle(setup, scheme, cycle);
    }
  }

  /** Plans, runs and commits one cycle; a cycle in which every learner diverged stops the run. */
  private async runOneCycle(setup: CyclesSetup, scheme: SchemeName, cycle: number): Promise<void> {
    const { config, parts } = this;
    const { emit } = this.ctx;
    const state = setup.states.get(scheme)!;
    const measurements = setup.measurements.get(scheme)!;
    const cycleStart = monotonicSeconds();
    const plan = await this.planCycle(setup, scheme, cycle);
    const outcome = await runCycle(
      {
        ...setup.services,
        onLearnerDone: (r) => emit(learnerDoneEvent(scheme, cycle, r)),
        onLearnerPhase: (learner, phase) => emit({ type: 'learner-phase', scheme, cycle, learner, phase }),
      },
      scheme,
      cycle,
      plan,
      state.weights,
    );
    for (const r of outcome.records)
      measurements.add(r.learner, measureFromTimeline(r, config.params.flops_per_sample));
    this.checkAbort(); // an interrupted cycle is never written half
    const wall = monotonicSeconds() - cycleStart;
    parts.stats.add(outcome, wall);
    parts.upkeep.noteCycle(outcome.records);
    Object.assign(state, {
      cycle,
      weights: outcome.weights,
      emulated_s: state.emulated_s + outcome.duration_s,
      wall_s: state.wall_s + wall,
    });
    setup.writer.commitCycle(scheme, cycle, plan.tau, outcome, state);
    writeSessions(this.opts.out, [...this.ctx.previous, this.record()]); // even a SIGKILL keeps this session's timings
    if (outcome.diverged) emit({ type: 'diverged', scheme, cycle });
    this.cyclesLeft--;
    emit(this.cycleDone(scheme, cycle, plan.tau, outcome, wall));
    if (everyLearnerDiverged(outcome.records)) throw new TrainingDiverged(scheme, cycle, config.lr);
  }

  /** A cycle is committed: its accuracy and loss, who was late or missing, and the session's progress. */
  private cycleDone(scheme: SchemeName, cycle: number, tau: number, outcome: CycleOutcome, wall_s: number): RunEvent {
    return {
      type: 'cycle-done',
      scheme,
      cycle,
      cycles: this.config.cycles,
      tau,
      accuracy: outcome.accuracy,
      loss: outcome.loss,
      late: outcome.records.filter((r) => r.status === 'late').length,
      missing: outcome.records
        .filter((r) => r.status === 'missing')
        .map((r) => ({ learner: r.learner, reason: r.reason ?? 'unknown' })),
      unavailable: outcome.unavailable,
      diverged: outcome.diverged,
      wall_s,
      session_done: this.parts.stats.counts.cycles_run,
      session_left: this.cyclesLeft,
    };
  }

  /** This cycle's allocation: the first one, or a new one where the world or the scheme's knowledge changes. */
  private async planCycle(setup: CyclesSetup, scheme: SchemeName, cycle: number): Promise<CyclePlan> {
    const { emit } = this.ctx;
    const plan: CyclePlan = setup.planner.perCycle(scheme)
      ? await setup.planner.plan(scheme, cycle, setup.measurements.get(scheme)!)
      : setup.allocations.get(scheme)!;
    if (plan.idleReason) emit({ type: 'nobody-allocated', scheme, cycle, reason: plan.idleReason });
    const active = plan.batch.filter((b) => b > 0).length;
    emit({ type: 'cycle-start', scheme, cycle, cycles: this.config.cycles, tau: plan.tau, active });
    return plan;
  }
}

/** The hub listening and, unless the learners are external, their processes starting (they boot while we load the data). */
async function startLearners(
  config: ExperimentConfig,
  opts: RunOptions,
  ctx: { log: (line: string) => void; emit: (e: RunEvent) => void; fleet: LearnerProfile[] },
): Promise<{ hub: LearnerHub; processes: LearnerHosts | null; reachable: string[] }> {
  const token = opts.token ?? randomBytes(16).toString('hex');
  const fixedFleet = config.learners_file ? ctx.fleet : null;
  const hub = new LearnerHub({
    host: config.host,
    port: config.port,
    token,
    K: config.K,
    settings: learnerSettings(config, opts.out),
    clock: createClock(config.clock, config.time_scale),
    heartbeatMs: config.heartbeat_s * 1000,
    handshakeTimeoutMs: 10_000,
    log: ctx.log,
    checkProfile: (spec, id) => profileProblem(config, spec, id, fixedFleet),
    // Spawned hosts name no profiles: their learners take the run's fleet, as may external ones.
    fleetProfile: (id) => {
      const l = ctx.fleet[id];
      return l && { f_hz: l.f_hz, rate_bps: l.rate_bps };
    },
    onEvent: ctx.emit,
    tls: opts.tls,
  });
  const url = await hub.start();
  opts.signal?.addEventListener('abort', () => hub.failPending('orchestrator interrupted'));
  if (!opts.tls && !isLoopback(config.host)) ctx.emit({ type: 'cleartext', host: config.host });
  const reachable = config.external
    ? reachableUrls(config.host, Number(new URL(url).port), undefined, opts.tls ? 'wss' : 'ws')
    : [url];
  ctx.emit({
    type: 'listening',
    url,
    token,
    out: opts.out,
    reachable_urls: reachable,
    expected_fleet: config.external ? ctx.fleet : null,
  });
  ctx.emit({ type: 'waiting', K: config.K, url: reachable[0] }); // before any learner can join and say so
  const processes = config.external
    ? null
    : new LearnerHosts({
        entry: await learnerEntryArgs(PROJECT_ROOT),
        url,
        token,
        logDir: join(opts.out, 'logs'),
        log: ctx.log,
        blocks: hostBlocks(config.K, config.hosts),
        learnerFlags: ['--engine', config.engine, '--backend', config.backend],
        learnerEnv: opts.tls ? { MEL_TLS_PIN: certFingerprint(opts.tls.cert) } : {},
      });
  return { hub, processes, reachable };
}

/** The engine that evaluates and the data sets, checked against the run's sizes. */
async function loadRunData(
  config: ExperimentConfig,
  log: (line: string) => void,
): Promise<{ engine: Engine; train: ImageSet; test: ImageSet }> {
  const engine = await createEngine({ ...config, input: datasetShape(config.dataset) }, log, ['evaluate']);
  const mnist = await loadDataset(config.dataset, config.data_dir);
  if (config.train_samples > mnist.train.count)
    throw new InputError(`--train-samples ${config.train_samples} exceeds the ${mnist.train.count} training images`);
  if (config.test_samples > mnist.test.count)
    throw new InputError(`--test-samples ${config.test_samples} exceeds the ${mnist.test.count} test images`);
  return { engine, train: firstN(mnist.train, config.train_samples), test: firstN(mnist.test, config.test_samples) };
}

/** Federated learners hold their shard: sent once on joining (again after a reconnect). */
function shipShards(config: ExperimentConfig, hub: LearnerHub, train: ImageSet): void {
  const shards = makeShards(config, train);
  const sendShard = (id: number) =>
    void hub
      .sendShard(id, { type: 'shard', samples: shards[id].count, images: shards[id].images, labels: shards[id].labels })
      .catch(() => {});
  hub.onJoin(sendShard);
  hub.connectedIds().forEach(sendShard);
}

async function ensureLearners(
  upkeep: LearnerUpkeep,
  emit: (e: RunEvent) => void,
  checkAbort: () => void,
): Promise<void> {
  const absent = await upkeep.ensure();
  checkAbort(); // Ctrl-C while waiting: not "not connected"
  if (absent.length) emit({ type: 'not-connected', learners: absent });
}

/** The run folder's writer; config.json records the fleet, the engine that ran, versions and the commit. */
function openResults(
  config: ExperimentConfig,
  opts: RunOptions,
  fleet: LearnerProfile[],
  engine: Engine,
): ResultsWriter {
  return new ResultsWriter(opts.out, {
    resume: Boolean(opts.resume),
    realClock: config.clock === 'real',
    config: (): RunConfigFile =>
      withSettingsDigest({
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
}

/** A learner's task ended: its emulated timeline and bytes, or why it is missing. */
function learnerDoneEvent(scheme: SchemeName, cycle: number, r: LearnerRecord): RunEvent {
  if (r.status !== 'ok' && r.status !== 'late') {
    return {
      type: 'missing',
      scheme,
      cycle,
      learner: r.learner,
      reason: r.reason ?? 'unknown',
      bytes_sent: r.bytes_sent ?? 0,
    };
  }
  const p = r.phases!;
  return {
    type: 'task-done',
    scheme,
    cycle,
    learner: r.learner,
    status: r.status,
    batch: r.batch,
    tau: r.tau,
    t_send_s: p.t_send_s,
    t_compute_s: p.t_compute_s,
    t_return_s: p.t_return_s,
    t_total_s: p.t_total_s,
    bytes_sent: r.bytes_sent ?? 0,
    bytes_returned: r.bytes_returned ?? 0,
  };
}
