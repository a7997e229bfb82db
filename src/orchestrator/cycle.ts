/**
 * One global cycle of one scheme, top to bottom:
 *   1. slice this cycle's data order into the allocated batches d_k,
 *   2. send every learner with d_k > 0 its task (global weights + batch) at once; at most
 *      `compute_slots` of them train at the same time, largest batches first,
 *   3. collect results; emulate each learner's timeline from the bytes that really moved,
 *      and classify it on time / late / missing,
 *   4. FedAvg the included updates weighted by d_k (re-normalised over who made it),
 *   5. evaluate on the test set.
 */
import type pLimit from 'p-limit';
import type { FeasibleAllocation, SchemeName } from '../allocation/types.ts';
import { subset, type ImageSet } from '../data/mnist.ts';
import { fedAvg, type Engine } from '../nn/mlp.ts';
import { permutation } from '../data/partition.ts';
import type { PhaseTimes } from '../model/coefficients.ts';
import type { LearnerProfile } from '../model/devices.ts';
import { emulatedPhases } from '../emulation/timing.ts';
import type { Task } from '../protocol/messages.ts';
import { createRng, deriveSeed } from '../util/rng.ts';
import type { ExperimentConfig } from './config.ts';
import type { LearnerHub, TaskWall } from './hub.ts';

export type LearnerStatus = 'ok' | 'late' | 'missing' | 'idle';

export interface LearnerRecord {
  learner: number;
  f_hz: number;
  rate_bps: number;
  batch: number;
  status: LearnerStatus;
  reason?: string; // why missing
  phases?: PhaseTimes; // emulated timeline (absent when the learner never answered)
  t_send_s?: number; // known even for a missing learner whose task was sent
  wall?: TaskWall;
  train_wall_s?: number;
  overrun_s?: number;
  /** the learner process's peak resident memory (kB), as it reported */
  max_rss_kb?: number;
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
  max_learner_time_s: number;
  duration_s: number; // emulated length of this cycle: T, or longer under --late wait
  eval_wall_s: number;
  train_wall_sum_s: number;
}

export interface CycleServices {
  config: ExperimentConfig;
  hub: LearnerHub;
  fleet: LearnerProfile[];
  train: ImageSet;
  test: ImageSet;
  /** evaluates the averaged model */
  engine: Engine;
  limit: ReturnType<typeof pLimit>;
  /** Fault injection: kill this learner now (spawned learners only). */
  killLearner: (id: number) => void;
  /** Progress: called as each learner's task ends. */
  onLearnerDone?: (record: LearnerRecord) => void;
}

const EPS = 1e-9;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
export const DROPPED_REASON = 'result dropped (--drop-prob)';

/** The data order of a cycle: identical for every scheme, so schemes differ only in how it is cut. */
export function cycleDataOrder(d: number, seed: number, cycle: number): Uint32Array {
  return permutation(d, deriveSeed(seed, 'data-order', cycle));
}

/**
 * The device as it really is this cycle. With --speed-jitter σ its CPU speed and link rate are the
 * profiled ones × exp(σ·N(0,1)), seeded per (cycle, learner) so every scheme meets the same devices;
 * the allocation was computed from the profile, so a slowed learner may be late.
 */
export function actualProfile(profile: LearnerProfile, sigma: number, seed: number, cycle: number): LearnerProfile {
  if (sigma === 0) return profile;
  const rng = createRng(deriveSeed(seed, 'speed-jitter', cycle, profile.id));
  return { ...profile, f_hz: profile.f_hz * Math.exp(sigma * rng.normal()), rate_bps: profile.rate_bps * Math.exp(sigma * rng.normal()) };
}

export async function runCycle(
  s: CycleServices,
  scheme: SchemeName,
  cycle: number,
  allocation: FeasibleAllocation,
  globalWeights: Float32Array,
): Promise<CycleOutcome> {
  const { config, hub, fleet } = s;
  const parallel = config.scenario === 'parallel';
  const order = parallel ? cycleDataOrder(config.train_samples, config.seed, cycle) : null;
  const offsets: number[] = [];
  allocation.batch.reduce((acc, b, k) => ((offsets[k] = acc), acc + b), 0);

  const runLearner = async (k: number): Promise<LearnerRun> => {
    const profile = actualProfile(fleet[k], config.speed_jitter ?? 0, config.seed, cycle);
    const batch = allocation.batch[k];
    const base = { learner: k, f_hz: profile.f_hz, rate_bps: profile.rate_bps, batch };
    if (batch === 0) return { record: { ...base, status: 'idle' } };
    const data = order ? subset(s.train, order.subarray(offsets[k], offsets[k] + batch)) : null;
    const task: Task = {
      type: 'task',
      task_id: `${scheme}-${cycle}-${k}`,
      cycle,
      scheme,
      tau: allocation.tau,
      samples: batch,
      seed: deriveSeed(config.seed, 'train', scheme, cycle, k),
      f_hz: profile.f_hz,
      rate_bps: profile.rate_bps,
      source: data ? 'batch' : 'shard',
      weights: globalWeights,
      ...(data ? { images: data.images, labels: data.labels } : {}),
    };
    const killNow = config.faults.kill.some((f) => f.learner === k && f.cycle === cycle);
    const outcome = await hub.runTask(k, task, config.task_timeout_s * 1000, {
      onSent: killNow ? () => s.killLearner(k) : undefined,
      slot: s.limit, // the batch travels now; training waits for a compute slot
    });
    const t_send_s = outcome.bytesSent > 0 ? (8 * outcome.bytesSent) / profile.rate_bps : undefined;
    if (outcome.status === 'missing') return { record: { ...base, status: 'missing', reason: outcome.reason, t_send_s } };
    const phases = emulatedPhases({
      bytesSent: outcome.bytesSent,
      bytesReturned: outcome.bytesReturned,
      tau: allocation.tau,
      samples: batch,
      flops_per_sample: config.params.flops_per_sample,
      f_hz: profile.f_hz,
      rate_bps: profile.rate_bps,
    });
    const measured = {
      phases,
      t_send_s: phases.t_send_s,
      wall: outcome.wall,
      train_wall_s: outcome.computeDone.train_wall_s,
      overrun_s: outcome.computeDone.overrun_s,
      max_rss_kb: outcome.result.max_rss_kb,
    };
    // Fault injection: the result is lost on the way back. Seeded by (cycle, learner) only, so every
    // scheme loses the same learners' results and the comparison stays paired.
    const lostRoll = createRng(deriveSeed(config.seed, 'drop', cycle, k)).next();
    if (lostRoll < config.faults.drop_prob) return { record: { ...base, ...measured, status: 'missing', reason: DROPPED_REASON } };
    const late = phases.t_total_s > config.T * (1 + EPS);
    return { record: { ...base, ...measured, status: late ? 'late' : 'ok' }, weights: outcome.result.weights };
  };

  // Largest batches get compute slots first: with fewer slots than learners this shortens the cycle's tail.
  const dispatchOrder = fleet.map((_, k) => k).sort((a, b) => allocation.batch[b] - allocation.batch[a] || a - b);
  const runs = new Array<LearnerRun>(fleet.length);
  const finished: Promise<void>[] = [];
  for (const k of dispatchOrder) {
    finished.push(runLearner(k).then((r) => void ((runs[k] = r), s.onLearnerDone?.(r.record))));
    // Let the task just queued go out (and its learner start training) while the next one is built.
    await yieldToEventLoop();
  }
  await Promise.all(finished);

  const records = runs.map((r) => r.record);
  const included = runs.filter((r) => r.weights && (r.record.status === 'ok' || (r.record.status === 'late' && config.late === 'wait')));
  // Nobody made it: keep the global model as it was rather than invent one.
  const averaged = included.length > 0 ? fedAvg(included.map((r) => ({ weights: r.weights!, samples: r.record.batch }))) : globalWeights;

  const evalStart = performance.now();
  let weights = averaged;
  let evaluation = await s.engine.evaluate(averaged, s.test);
  // Finite but absurd updates (say 1e30 from a hostile learner) can make the average useless: a model
  // whose test loss is not finite is never adopted; the previous one carries on and the cycle is flagged.
  const diverged = !Number.isFinite(evaluation.loss);
  if (diverged) {
    weights = globalWeights;
    evaluation = await s.engine.evaluate(weights, s.test);
  }
  const eval_wall_s = (performance.now() - evalStart) / 1000;

  const timed = records.filter((r) => r.phases);
  const max_learner_time_s = timed.reduce((m, r) => Math.max(m, r.phases!.t_total_s), 0);
  const includedMax = included.reduce((m, r) => Math.max(m, r.record.phases!.t_total_s), 0);
  return {
    weights,
    accuracy: evaluation.accuracy,
    loss: evaluation.loss,
    diverged,
    records,
    included: included.length,
    max_learner_time_s,
    duration_s: config.late === 'wait' ? Math.max(config.T, includedMax) : config.T,
    eval_wall_s,
    train_wall_sum_s: timed.reduce((sum, r) => sum + (r.train_wall_s ?? 0), 0),
  };
}
