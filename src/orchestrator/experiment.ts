/**
 * An experiment run: set up (data, fleet, allocations, learners, run folder), then for each
 * scheme run the global cycles — each one committed to disk before the next starts — and
 * finally summarise. Shared by `npm run experiment` and the tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSchemes } from '../schemes/index.ts';
import { InputError } from '../errors.ts';
import { datasetCounts } from '../data/datasets.ts';
import { monotonicSeconds } from '../emulation/clock.ts';
import type { ExperimentConfig } from './config.ts';
import type { ExperimentEvent, RunEvent } from './events.ts';
import { parseCycles, parseLearners } from '../run-folder/read.ts';
import type { RunConfigFile } from '../run-folder/schema.ts';
import { writeJsonAtomic } from './store/run-files.ts';
import { checkRunRows, checkSettingsDigest } from './store/run-integrity.ts';
import { lockRunFolder, type RunFolderLock } from './store/run-lock.ts';
import { removeStaleTemps } from './store/run-folder-contents.ts';
import { EventLog } from './store/event-log.ts';
import { readSessions, type SessionRecord } from './store/sessions.ts';
import { SessionStats } from './store/session-stats.ts';
import { LearnerUpkeep } from './fleet/learner-upkeep.ts';
import { availableMemory, memoryRefusal, memoryVerdict } from './fleet/memory.ts';
import type { RunOptions, RunResult, RunContext } from './run-context.ts';
import { ExperimentSession } from './session.ts';
import { buildFleet, allocateAll } from './run-plan.ts';
import { startLearners, loadRunDataOrStop, shipShards } from './learners-start.ts';
import { summarizeFolder, completedPerScheme } from './run-summary.ts';

export { RESPAWN_AFTER_MISSED_CYCLES } from './fleet/learner-upkeep.ts';

export type { RunSummaryFile } from '../run-folder/schema.ts';

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
