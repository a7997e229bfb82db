/**
 * One global cycle of one scheme, in the paper's order:
 *   0. meet the world as it really is this cycle (world.ts): each learner's true speed, rate and
 *      presence; an offline learner was allocated nothing and sits the cycle out;
 *   1. cut this cycle's data order into the allocated batches d_k;
 *   2. send every learner with d_k > 0 its task (global weights + batch) at once; the compute
 *      slots (`limit`) decide who trains when, largest batches first;
 *   3. collect the results and emulate each learner's timeline from the bytes that really moved:
 *      on time, late, or missing;
 *   4. average the included updates weighted by d_k (re-normalised over who made it): FedAvg, or
 *      FedNova when the learners ran different τ_k; folded in as they arrive, in dispatch order (a
 *      fixed order: float64 sums depend on it), so a model is dropped once added and K of them are
 *      never held at once;
 *   5. evaluate the new global model on the test set.
 */
import pLimit from 'p-limit';
import type { FeasibleAllocation, SchemeName } from '../allocation/types.ts';
import { UNAVAILABLE_REASON } from '../run-folder/schema.ts';
import { sampleBytes, subset, type ImageSet } from '../data/mnist.ts';
import { createAggregator, type Engine } from '../nn/mlp.ts';
import { computeEnergyJ, radioEnergyJ, type EnergyBreakdown, type EnergyParams } from '../model/energy.ts';
import { permutation } from '../data/partition.ts';
import type { PhaseTimes } from '../model/coefficients.ts';
import type { LearnerProfile } from '../model/devices.ts';
import type { WorldState } from '../model/dynamics.ts';
import { emulatedPhases } from '../emulation/timing.ts';
import type { Task } from '../protocol/messages.ts';
import type { BufferPool } from './buffer-pool.ts';
import { deriveSeed } from '../util/rng.ts';
import type { ExperimentConfig } from './config.ts';
import type { TaskSender } from './transport/faults.ts';
import type { TaskHandle, TaskOutcome, TaskWall } from './transport/hub.ts';
import type { World } from './world.ts';
import type { LearnerPhase } from './events.ts';

/** idle: allocated nothing; unavailable: offline this cycle (so allocated nothing) — neither is a failure. */
export type LearnerStatus = 'ok' | 'late' | 'missing' | 'idle' | 'unavailable';

export interface LearnerRecord {
  learner: number;
  f_hz: number;
  rate_bps: number;
  batch: number;
  /** the learner's own τ_k this cycle (0 when it sat out) */
  tau: number;
  status: LearnerStatus;
  reason?: string; // why missing
  phases?: PhaseTimes; // emulated timeline (absent when the learner never answered)
  t_send_s?: number; // known even for a missing learner whose task was sent
  bytes_returned?: number; // the update's bytes on the wire (with its emulated t_return_s: the measured rate)
  bytes_sent?: number; // the task frame's bytes that reached the socket (0 when it never left)
  wall?: TaskWall;
  train_wall_s?: number;
  overrun_s?: number;
  /** the learner process's peak resident memory (kB), as it reported */
  max_rss_kb?: number;
  /** joules spent on its emulated timeline (absent when it never answered) */
  energy?: EnergyBreakdown;
}

/** One learner's part of a cycle: its record, and its weights when it delivered them. */
interface LearnerRun {
  record: LearnerRecord;
  weights?: Float32Array;
}

export interface CycleOutcome {
  weights: Float32Array;
  accuracy: number;
  loss: number;
  /** the averaged model was unusable (non-finite test loss) and the previous one was kept */
  diverged: boolean;
  records: LearnerRecord[];
  included: number; // updates averaged
  tasked: number; // learners given a batch
  unavailable: number; // learners offline this cycle
  max_learner_time_s: number;
  duration_s: number; // emulated length of this cycle: T, or longer under --late wait
  eval_wall_s: number;
  train_wall_sum_s: number;
}

/** What a cycle reads of the run's configuration. */
export type CycleSettings = Pick<
  ExperimentConfig,
  'T' | 'seed' | 'scenario' | 'train_samples' | 'late' | 'task_timeout_s' | 'aggregate'
> & {
  params: Pick<ExperimentConfig['params'], 'flops_per_sample'>;
};

export interface CycleServices {
  config: CycleSettings;
  /** sends tasks (the hub, possibly wrapped by fault injection) */
  hub: TaskSender;
  fleet: LearnerProfile[];
  /** what each learner really is, cycle by cycle (the same for every scheme) */
  world: Pick<World, 'truth'>;
  train: ImageSet;
  test: ImageSet;
  /** evaluates the averaged model */
  engine: Engine;
  /** compute slots: at most this many learners train at once */
  limit: ReturnType<typeof pLimit>;
  /**
   * The process that trains learner k: learners of one host train one at a time (its engine runs on
   * one thread; two at once would only interleave, each slower). Absent: every learner its own.
   */
  hostOf?: (k: number) => string;
  /** Progress: called as each learner's task ends. */
  onLearnerDone?: (record: LearnerRecord) => void;
  /** Progress: a learner's task moved on in wall time (sent, waiting for a slot, training, returning). */
  onLearnerPhase?: (learner: number, phase: LearnerPhase) => void;
  /** per-learner batch and frame buffers kept from cycle to cycle */
  buffers?: BufferPool;
  /** the energy model (κ, P_tx, P_rx); absent = energy not recorded */
  energy?: EnergyParams;
}

const EPS = 1e-9;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The data order of a cycle: identical for every scheme, so schemes differ only in how it is cut. */
export function cycleDataOrder(d: number, seed: number, cycle: number): Uint32Array {
  return permutation(d, deriveSeed(seed, 'data-order', cycle));
}

/**
 * The seed of learner k's mini-batch order: common random numbers across schemes, so two schemes
 * that give k the same batch train it identically and paired comparisons stay paired.
 */
export function trainingSeed(seed: number, cycle: number, k: number, samples: number): number {
  return deriveSeed(seed, 'train', cycle, k, samples);
}

export async function runCycle(
  s: CycleServices,
  scheme: SchemeName,
  cycle: number,
  allocation: CycleAllocation,
  globalWeights: Float32Array,
): Promise<CycleOutcome> {
  return new CycleRun(s, scheme, cycle, allocation, globalWeights).run();
}

type CycleAllocation = Pick<FeasibleAllocation, 'tau' | 'batch' | 'tau_per_learner'>;

/** One cycle in progress: who was sent what, whose results are in, and the running average. */
class CycleRun {
  /** 0. The world this cycle: what each device really is (the allocation saw only what it knew). */
  private readonly devices: WorldState[];
  /** 1. This cycle's batches: consecutive slices of one data order (federated learners hold shards). */
  private readonly batchOf: ReturnType<typeof batchCutter>;
  /** Largest batch first (ties by id): the order tasks go out and results are folded in. */
  private readonly dispatchOrder: number[];
  /** runs[k]: learner k's part once it has ended (or sat the cycle out) */
  private readonly runs: LearnerRun[];
  private readonly finished: Promise<void>[] = [];
  /** 4. FedAvg or FedNova over who made it, folded in dispatch order. */
  private readonly sum: ReturnType<typeof createAggregator>;
  /** dispatchOrder[0 .. folded) are in the sum (or left out) */
  private folded = 0;
  /** the latest emulated finish among the updates averaged */
  private includedMax = 0;
  private readonly hostSlots = new Map<string, ReturnType<typeof pLimit>>();

  constructor(
    private readonly s: CycleServices,
    private readonly scheme: SchemeName,
    private readonly cycle: number,
    private readonly allocation: CycleAllocation,
    private readonly globalWeights: Float32Array,
  ) {
    const { fleet } = s;
    this.devices = fleet.map((_, k) => s.world.truth(k, cycle));
    this.batchOf = batchCutter(s, cycle, allocation.batch);
    this.dispatchOrder = fleet.map((_, k) => k).sort((a, b) => allocation.batch[b] - allocation.batch[a] || a - b);
    this.runs = new Array<LearnerRun>(fleet.length);
    this.sum = createAggregator(s.config.aggregate, globalWeights);
  }

  async run(): Promise<CycleOutcome> {
    // 2. Every task travels now, largest batch first; training waits for a compute slot.
    // Let the task just queued go out (and its learner start training) while the next one is built.
    for (const k of this.dispatchOrder) if (this.dispatch(k)) await yieldToEventLoop();
    await Promise.all(this.finished);
    this.foldReady();
    // Nobody made it: the global model stays as it was.
    const averaged = this.sum.added > 0 ? this.sum.average() : this.globalWeights;
    return this.outcome(await this.evaluate(averaged));
  }

  /** Learner k's part: sits out (offline, or allocated nothing), or is sent its task (true). */
  private dispatch(k: number): boolean {
    const { allocation, devices } = this;
    const base = {
      learner: k,
      f_hz: devices[k].f_hz,
      rate_bps: devices[k].rate_bps,
      batch: allocation.batch[k],
      tau: allocation.batch[k] > 0 ? allocation.tau_per_learner[k] : 0,
    };
    if (!devices[k].available) {
      // Presence is known when allocating, so an offline learner was given nothing.
      if (base.batch > 0)
        throw new Error(`learner ${k} is offline in cycle ${this.cycle} but was allocated ${base.batch} samples`);
      this.runs[k] = { record: { ...base, status: 'unavailable', reason: UNAVAILABLE_REASON } };
      return false;
    }
    if (base.batch === 0) {
      this.runs[k] = { record: { ...base, status: 'idle' } };
      this.foldReady();
      return false;
    }
    this.send(k, base);
    return true;
  }

  /** Sends learner k its task; its outcome, when it comes, becomes its record and is folded in. */
  private send(k: number, base: Omit<LearnerRecord, 'status'>): void {
    const { s, cycle } = this;
    const batch = this.batchOf(k);
    const task = taskFor({
      seed: s.config.seed,
      scheme: this.scheme,
      cycle,
      learner: k,
      tau: base.tau,
      samples: base.batch,
      device: this.devices[k],
      data: batch?.data,
      weights: this.globalWeights,
    });
    // The socket writes the batch and the global weights as they are: the batch buffers go back to
    // the pool only once the frame has left.
    const handle = s.hub.sendTask(k, task, s.config.task_timeout_s * 1000, { hold: true, onFrameFree: batch?.release });
    this.scheduleTraining(k, handle);
    // 3. Each outcome becomes the learner's record: its emulated timeline, on time, late or missing.
    this.finished.push(
      handle.outcome.then((o) => {
        this.runs[k] = learnerRun(s.config, base, o, s.energy);
        s.onLearnerDone?.(this.runs[k].record);
        this.foldReady();
      }),
    );
  }

  /** The host's turn first, then a machine-wide slot: a learner never holds a slot while its host is busy. */
  private scheduleTraining(k: number, handle: TaskHandle): void {
    const { s } = this;
    const phase = (p: LearnerPhase) => () => void (this.runs[k] === undefined && s.onLearnerPhase?.(k, p));
    if (s.onLearnerPhase) {
      phase('receiving')();
      void handle.sent.then(phase('waiting'));
    }
    void this.hostSlot(k)(() =>
      s.limit(async () => {
        await handle.sent;
        handle.start();
        phase('computing')();
        await handle.computed; // the slot is CPU for training: it frees when training ends
        phase('returning')();
      }),
    );
  }

  private hostSlot(k: number): ReturnType<typeof pLimit> {
    const key = this.s.hostOf?.(k) ?? `learner ${k}`;
    if (!this.hostSlots.has(key)) this.hostSlots.set(key, pLimit(1));
    return this.hostSlots.get(key)!;
  }

  /** Folds every run that has ended, in dispatch order up to the first still running; its weights are dropped once added. */
  private foldReady(): void {
    const { runs, dispatchOrder } = this;
    for (; this.folded < dispatchOrder.length && runs[dispatchOrder[this.folded]]; this.folded++) {
      const r = runs[dispatchOrder[this.folded]];
      if (r.weights && (r.record.status === 'ok' || (r.record.status === 'late' && this.s.config.late === 'wait'))) {
        this.sum.add({ weights: r.weights, samples: r.record.batch, steps: r.record.tau });
        this.includedMax = Math.max(this.includedMax, r.record.phases!.t_total_s);
      }
      r.weights = undefined;
    }
  }

  /**
   * 5. Evaluate. Finite but absurd updates (say 1e30 from a hostile learner) can make the average
   * useless: a model whose test loss is not finite is never adopted; the previous one carries on.
   */
  private async evaluate(averaged: Float32Array): Promise<CycleEvaluation> {
    const evalStart = performance.now();
    let weights = averaged;
    let evaluation = await this.s.engine.evaluate(averaged, this.s.test);
    const diverged = !Number.isFinite(evaluation.loss);
    if (diverged) {
      weights = this.globalWeights;
      evaluation = await this.s.engine.evaluate(weights, this.s.test);
    }
    const eval_wall_s = (performance.now() - evalStart) / 1000;
    return { weights, accuracy: evaluation.accuracy, loss: evaluation.loss, diverged, eval_wall_s };
  }

  private outcome(e: CycleEvaluation): CycleOutcome {
    const { config } = this.s;
    const records = this.runs.map((r) => r.record);
    const timed = records.filter((r) => r.phases);
    return {
      weights: e.weights,
      accuracy: e.accuracy,
      loss: e.loss,
      diverged: e.diverged,
      records,
      included: this.sum.added,
      tasked: records.filter((r) => r.batch > 0).length,
      unavailable: records.filter((r) => r.status === 'unavailable').length,
      max_learner_time_s: timed.reduce((m, r) => Math.max(m, r.phases!.t_total_s), 0),
      duration_s: config.late === 'wait' ? Math.max(config.T, this.includedMax) : config.T,
      eval_wall_s: e.eval_wall_s,
      train_wall_sum_s: timed.reduce((sum, r) => sum + (r.train_wall_s ?? 0), 0),
    };
  }
}

type CycleEvaluation = Pick<CycleOutcome, 'weights' | 'accuracy' | 'loss' | 'diverged' | 'eval_wall_s'>;

/**
 * Learner k's batch this cycle (copied when asked for, so the first task leaves before the last is
 * cut; into pooled buffers, released once sent), or undefined when learners train on their own
 * shards (federated).
 */
function batchCutter(
  s: CycleServices,
  cycle: number,
  sizes: number[],
): (k: number) => { data: ImageSet; release: () => void } | undefined {
  if (s.config.scenario !== 'parallel') return () => undefined;
  const order = cycleDataOrder(s.config.train_samples, s.config.seed, cycle);
  const offsets: number[] = [];
  sizes.reduce((offset, d_k, k) => ((offsets[k] = offset), offset + d_k), 0);
  return (k) => {
    const images = s.buffers?.lease(`images ${k}`, sizes[k] * sampleBytes(s.train));
    const labels = s.buffers?.lease(`labels ${k}`, sizes[k]);
    const into = images && labels ? { images: images.buffer, labels: labels.buffer } : undefined;
    const data = subset(s.train, order.subarray(offsets[k], offsets[k] + sizes[k]), into);
    return { data, release: () => (images?.release(), labels?.release()) };
  };
}

/** What learner k's task of one cycle is made of. */
interface TaskParts {
  /** the run's seed (the mini-batch order derives from it) */
  seed: number;
  scheme: SchemeName;
  cycle: number;
  learner: number;
  tau: number;
  samples: number;
  /** the learner's true speed and rate this cycle (its emulated phases follow them) */
  device: WorldState;
  /** its batch; absent: it trains on its own shard (federated) */
  data: ImageSet | undefined;
  weights: Float32Array;
}

function taskFor(t: TaskParts): Task {
  return {
    type: 'task',
    task_id: `${t.scheme}-${t.cycle}-${t.learner}`,
    cycle: t.cycle,
    scheme: t.scheme,
    tau: t.tau,
    samples: t.samples,
    seed: trainingSeed(t.seed, t.cycle, t.learner, t.samples),
    f_hz: t.device.f_hz,
    rate_bps: t.device.rate_bps,
    source: t.data ? 'batch' : 'shard',
    weights: t.weights,
    ...(t.data ? { images: t.data.images, labels: t.data.labels } : {}),
  };
}

/** Joules of one learner's emulated timeline: κ·f²·τ·d·C_m for compute, P_tx·t_R + P_rx·t_S for the radio. */
function timelineEnergy(
  base: Omit<LearnerRecord, 'status'>,
  phases: PhaseTimes,
  flops_per_sample: number,
  e: EnergyParams,
): EnergyBreakdown {
  const compute_j = computeEnergyJ(base.f_hz, base.tau, base.batch, flops_per_sample, e.kappa_j_per_cycle_hz2);
  const radio_j = radioEnergyJ(phases.t_send_s, phases.t_return_s, e);
  return { compute_j, radio_j, total_j: compute_j + radio_j };
}

/** The record of a learner whose task ended with outcome `o`; its weights when they count. */
function learnerRun(
  config: CycleSettings,
  base: Omit<LearnerRecord, 'status'>,
  o: TaskOutcome,
  energy?: EnergyParams,
): LearnerRun {
  const tau = base.tau;
  if (o.status === 'missing') {
    const t_send_s = o.bytesSent > 0 ? (8 * o.bytesSent) / base.rate_bps : undefined;
    return { record: { ...base, status: 'missing', reason: o.reason, t_send_s, bytes_sent: o.bytesSent } };
  }
  const phases = emulatedPhases({
    bytesSent: o.bytesSent,
    bytesReturned: o.bytesReturned,
    tau,
    samples: base.batch,
    flops_per_sample: config.params.flops_per_sample,
    f_hz: base.f_hz,
    rate_bps: base.rate_bps,
  });
  const measured = {
    phases,
    t_send_s: phases.t_send_s,
    bytes_returned: o.bytesReturned,
    bytes_sent: o.bytesSent,
    wall: o.wall,
    train_wall_s: o.computeDone.train_wall_s,
    overrun_s: o.computeDone.overrun_s,
    max_rss_kb: o.result.max_rss_kb,
    ...(energy ? { energy: timelineEnergy(base, phases, config.params.flops_per_sample, energy) } : {}),
  };
  if (o.status === 'lost') return { record: { ...base, ...measured, status: 'missing', reason: o.reason } };
  const late = phases.t_total_s > config.T * (1 + EPS);
  return { record: { ...base, ...measured, status: late ? 'late' : 'ok' }, weights: o.result.weights };
}
