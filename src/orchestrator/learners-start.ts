/**
 * Learners join a run: spawned hosts or external ones, the welcome's settings, the data they train on
 * (federated shards), and waiting until every expected learner is there.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { firstN, subset, type ImageSet } from '../data/mnist.ts';
import { datasetShape, loadDataset, runLayout } from '../data/datasets.ts';
import { dirichletShards, iidShards } from '../data/partition.ts';
import { createClock } from '../emulation/clock.ts';
import { wireCoefficients } from '../emulation/wire-coefficients.ts';
import {
  assertUsableFleet,
  profileFromSpec,
  specProblem,
  type LearnerProfile,
  type LearnerSpec,
} from '../model/devices.ts';
import { createEngine, type Engine } from '../nn/mlp.ts';
import { inputField, type LearnerSettings } from '../protocol/messages.ts';
import { isLoopback, reachableUrls } from './transport/addresses.ts';
import { certFingerprint } from './transport/listener.ts';
import type { ExperimentConfig } from './config.ts';
import type { RunEvent } from './events.ts';
import { LearnerHub } from './transport/hub.ts';
import type { LearnerUpkeep } from './fleet/learner-upkeep.ts';
import { learnerEntryArgs } from './fleet/learner-entry.ts';
import { hostBlocks, LearnerHosts } from './fleet/spawn.ts';
import { PROJECT_ROOT } from '../util/project-root.ts';
import { Interrupted, type RunData, type RunOptions } from './run-context.ts';

/**
 * Why a joining learner's profile cannot take part in this run, or null. With a --learners file the
 * fleet is fixed (its feasibility was checked before waiting): a learner must announce its entry.
 */
export function profileProblem(
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

export function makeShards(config: ExperimentConfig, train: ImageSet): ImageSet[] {
  const indices =
    config.alpha === null
      ? iidShards(train.count, config.K, config.seed)
      : dirichletShards(train.labels, config.K, config.alpha, config.seed);
  return indices.map((ix) => subset(train, ix));
}

export function learnerSettings(config: ExperimentConfig, runId: string): LearnerSettings {
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

/**
 * The run's data and evaluating engine, or null on Ctrl-C while they load (learners may already be
 * joining: it stops at once, as it does while waiting). Either way but success, the learners stop.
 */
export async function loadRunDataOrStop(
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

/** The hub listening and, unless the learners are external, their processes starting (they boot while we load the data). */
export async function startLearners(
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
export async function loadRunData(
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
export function shipShards(config: ExperimentConfig, hub: LearnerHub, train: ImageSet): void {
  const shards = makeShards(config, train);
  const sendShard = (id: number) =>
    void hub
      .sendShard(id, { type: 'shard', samples: shards[id].count, images: shards[id].images, labels: shards[id].labels })
      .catch(() => {});
  hub.onJoin(sendShard);
  hub.connectedIds().forEach(sendShard);
}

export async function ensureLearners(
  upkeep: LearnerUpkeep,
  emit: (e: RunEvent) => void,
  checkAbort: () => void,
): Promise<void> {
  const absent = await upkeep.ensure();
  checkAbort(); // Ctrl-C while waiting: not "not connected"
  if (absent.length) emit({ type: 'not-connected', learners: absent });
}
