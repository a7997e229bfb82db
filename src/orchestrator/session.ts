/**
 * One orchestrator session of a run (the first, or a --resume): once the learners joined, each
 * scheme's global cycles in turn, each committed to disk before the next starts; then the summary.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { FeasibleAllocation, SchemeName } from '../allocation/types.ts';
import { runLayout } from '../data/datasets.ts';
import { monotonicSeconds } from '../emulation/clock.ts';
import type { LearnerProfile } from '../model/devices.ts';
import { initWeights, type Engine } from '../nn/mlp.ts';
import { runEnergyParams, TAU_OVERTRAINING_WARN, type ExperimentConfig } from './config.ts';
import { BufferPool } from './buffer-pool.ts';
import { runCycle, type CycleOutcome, type CycleServices, type LearnerRecord } from './cycle.ts';
import { Measurements, measureFromRow, measureFromTimeline, Planner, type CyclePlan } from './planner.ts';
import type { World } from './world.ts';
import type { RunEvent } from './events.ts';
import { everyLearnerDiverged, TrainingDiverged } from './divergence.ts';
import { withFaults, type TaskSender } from './transport/faults.ts';
import type { LearnerHub } from './transport/hub.ts';
import type { RunConfigFile } from '../run-folder/schema.ts';
import { ResultsWriter, type SchemeState } from './store/results-writer.ts';
import { settingsDigest } from './store/run-integrity.ts';
import { writeSessions, type SessionRecord } from './store/sessions.ts';
import type { SessionStats } from './store/session-stats.ts';
import type { LearnerUpkeep } from './fleet/learner-upkeep.ts';
import type { LearnerHosts } from './fleet/spawn.ts';
import { PROJECT_ROOT } from '../util/project-root.ts';
import { formatIdRanges } from '../util/id-ranges.ts';
import { Interrupted, type RunContext, type RunData, type RunOptions, type RunResult } from './run-context.ts';
import { summarizeFolder } from './run-summary.ts';
import { ensureLearners } from './learners-start.ts';
import { allocateAll, allocationBriefs, fleetFromHub, loadWorld, noteIdenticalAllocations } from './run-plan.ts';

export function packageVersion(packageDir: string): string {
  try {
    return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** The commit the code ran from (with "-dirty" when it had uncommitted changes), or null outside a git checkout. */
export function gitCommit(): string | null {
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

/** config.json as written: the run's record plus the digest that ties later resumes to these settings. */
export function withSettingsDigest(file: RunConfigFile): RunConfigFile {
  return { ...file, settings_sha256: settingsDigest(file) };
}

/** What a session runs with once it started: the hub and learner processes, their upkeep, its timings and the data. */
export interface SessionParts {
  hub: LearnerHub;
  processes: LearnerHosts | null;
  stats: SessionStats;
  upkeep: LearnerUpkeep;
  data: RunData;
}

/** What the cycles run on, set up once the learners joined. */
export interface CyclesSetup {
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
export class ExperimentSession {
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
    const perCycle = setup.planner.perCycle(scheme);
    // A scheme asked only once may have broken its protocol since (an extra line after its answer).
    if (!perCycle) this.ctx.schemes.get(scheme).check?.();
    const plan: CyclePlan = perCycle
      ? await setup.planner.plan(scheme, cycle, setup.measurements.get(scheme)!)
      : setup.allocations.get(scheme)!;
    if (plan.idleReason) emit({ type: 'nobody-allocated', scheme, cycle, reason: plan.idleReason });
    const active = plan.batch.filter((b) => b > 0).length;
    emit({ type: 'cycle-start', scheme, cycle, cycles: this.config.cycles, tau: plan.tau, active });
    return plan;
  }
}

/** The run folder's writer; config.json records the fleet, the engine that ran, versions and the commit. */
export function openResults(
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
export function learnerDoneEvent(scheme: SchemeName, cycle: number, r: LearnerRecord): RunEvent {
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
