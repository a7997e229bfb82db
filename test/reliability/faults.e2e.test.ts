/**
 * Learner faults in real runs: a learner process killed mid-cycle, every result lost on the way
 * back, a learner that goes silent (SIGSTOP) and wakes up, and one that never wakes up — each
 * detected, recorded with its reason in learners.csv and survived, with no learner process left
 * behind afterwards.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { firstN, loadMnist, subset, type ImageSet } from '../../src/data/mnist.ts';
import { createEngine, fedAvg, initWeights, PARAM_COUNT, type Engine } from '../../src/nn/mlp.ts';
import { loadCheckpoint } from '../../src/orchestrator/store/checkpoint.ts';
import type { ExperimentConfig } from '../../src/orchestrator/config.ts';
import { cycleDataOrder, trainingSeed } from '../../src/orchestrator/cycle.ts';
import { eventsOf } from '../../src/orchestrator/events.ts';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import type { RunResult } from '../../src/orchestrator/run-context.ts';
import { readCycles as cycleRows, readLearners as learnerRows } from '../helpers/run-files.ts';
import type { LearnerRow } from '../../src/run-folder/schema.ts';
import { collectLog, fastConfig, isAlive, joinedPids, tmpDir, type LogCollector } from './helpers.ts';

function expectNoLearnerLeft(log: LogCollector): number[] {
  const pids = [...joinedPids(log.lines).values()].flat();
  expect(pids.length).toBeGreaterThan(0);
  for (const pid of pids) expect(isAlive(pid), `learner pid ${pid} still alive`).toBe(false);
  return pids;
}

let engine: Engine;
const faultTally = { faultsInjected: 0, runsCompleted: 0, learnerCyclesLost: 0 };

describe('learner faults in real runs', () => {
  let train: ImageSet;
  let test: ImageSet;
  beforeAll(async () => {
    const mnist = await loadMnist();
    const config = fastConfig();
    train = firstN(mnist.train, config.train_samples);
    test = firstN(mnist.test, config.test_samples);
    engine = await createEngine(config); // the learners' engine, so in-process training matches theirs
  });

  /** Cycle 1 of `scheme` as the learners computed it: train each of `who` in-process, average by d_k. */
  async function cycleOneAverage(
    config: ExperimentConfig,
    rows: LearnerRow[],
    scheme: string,
    tau: number,
    who: number[],
  ): Promise<Float32Array> {
    const mine = rows.filter((r) => r.scheme === scheme && r.cycle === 1).sort((a, b) => a.learner - b.learner);
    const order = cycleDataOrder(config.train_samples, config.seed, 1);
    const offsets: number[] = [];
    for (let k = 0; k < mine.length; k++) offsets.push(k === 0 ? 0 : offsets[k - 1] + mine[k - 1].batch);
    const initial = initWeights(config.seed);
    const updates = [];
    for (const k of who) {
      const batch = subset(train, order.subarray(offsets[k], offsets[k] + mine[k].batch));
      const trained = await engine.train(initial, batch, {
        iterations: tau,
        minibatch: config.minibatch,
        lr: config.lr,
        mode: config.local_iteration,
        seed: trainingSeed(config.seed, 1, k, mine[k].batch),
      });
      updates.push({ weights: trained.weights, samples: mine[k].batch });
    }
    return fedAvg(updates);
  }

  it('a learner killed mid-cycle is left out of that cycle (average re-normalised), respawned, and back in the next', async () => {
    const config = fastConfig({ faults: { kill: [{ learner: 1, cycle: 1 }], drop_prob: 0, kill_host: [] } });
    const log = collectLog();
    const run: RunResult = await runExperiment(config, { out: tmpDir('fault-kill'), ...log.sinks });
    expect(run.interrupted).toBe(false);
    faultTally.faultsInjected++;
    faultTally.runsCompleted++;

    const rows = learnerRows(run.out);
    const status = (cycle: number, learner: number) =>
      rows.find((r) => r.cycle === cycle && r.learner === learner)!.status;
    expect([0, 1, 2].map((k) => status(1, k))).toEqual(['on-time', 'missing', 'on-time']);
    expect([0, 1, 2].map((k) => status(2, k))).toEqual(['on-time', 'on-time', 'on-time']);
    // learners.csv says why: the fault plan killed it (not just "disconnected").
    expect(rows.filter((r) => r.status === 'missing').map((r) => r.reason)).toEqual(['killed (--fail 1@1)']);
    expect(rows.filter((r) => r.status !== 'missing').every((r) => r.reason === null)).toBe(true);
    const [killed] = eventsOf(log.events, 'killed');
    expect(killed).toMatchObject({ learner: 1, scheme: 'optimal', cycle: 1, pid: expect.any(Number) });
    expect(eventsOf(log.events, 'missing')).toEqual([
      {
        type: 'missing',
        scheme: 'optimal',
        cycle: 1,
        learner: 1,
        reason: 'killed (--fail 1@1)',
        bytes_sent: expect.any(Number),
      },
    ]);
    expect(log.lines).toContain(`fault injection: killing learner 1 (pid ${killed.pid}) in optimal cycle 1`);

    // The learner process was replaced: two different pids joined as learner 1.
    const pids = joinedPids(log.lines);
    expect(pids.get(1)).toHaveLength(2);
    expect(new Set(pids.get(1)).size).toBe(2);

    // Cycle 1's global model is exactly the d_k-weighted average of learners 0 and 2 only.
    const tau = cycleRows(run.out)[0].tau;
    const { weights: saved } = loadCheckpoint(run.out, 'optimal', 1, PARAM_COUNT);
    const withoutOne = await cycleOneAverage(config, rows, 'optimal', tau, [0, 2]);
    const withAll = await cycleOneAverage(config, rows, 'optimal', tau, [0, 1, 2]);
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(maxDiff(saved, withoutOne)).toBeLessThan(1e-6);
    expect(maxDiff(saved, withAll)).toBeGreaterThan(1e-3);
    // ... and its accuracy is that model's accuracy, not the fault-free one.
    const accuracy = cycleRows(run.out)[0].testAccuracy;
    expect(accuracy).toBeCloseTo((await engine.evaluate(withoutOne, test)).accuracy, 6);
    expect(accuracy).not.toBe((await engine.evaluate(withAll, test)).accuracy);

    const summary = JSON.parse(readFileSync(join(run.out, 'summary.json'), 'utf8'));
    expect(summary.faults).toMatchObject({ killed: 1, dropped_results: 0, lost_learner_cycles: 1 });
    expect(summary.schemes.optimal.missing_learner_cycles).toBe(1);
    expect(summary.schemes.optimal.cycles).toBe(2);
    faultTally.learnerCyclesLost += summary.faults.lost_learner_cycles;

    expectNoLearnerLeft(log);
  });

  it('drop_prob = 1 loses every result: weights and accuracy stay at their initial values, the run completes', async () => {
    const config = fastConfig({ faults: { kill: [], drop_prob: 1, kill_host: [] } });
    const log = collectLog();
    const run = await runExperiment(config, { out: tmpDir('fault-drop'), ...log.sinks });
    expect(run.interrupted).toBe(false);
    faultTally.faultsInjected += config.K * config.cycles;
    faultTally.runsCompleted++;

    const rows = learnerRows(run.out);
    expect(rows).toHaveLength(config.K * config.cycles);
    expect(rows.every((r) => r.status === 'missing' && r.reason === 'result dropped (--drop-prob)')).toBe(true);
    expect(eventsOf(log.events, 'missing')).toHaveLength(config.K * config.cycles);
    const initial = initWeights(config.seed);
    const initialAccuracy = (await engine.evaluate(initial, test)).accuracy;
    const cycles = cycleRows(run.out);
    expect(cycles.map((c) => c.cycle)).toEqual([1, 2]);
    for (const c of cycles) expect(c.testAccuracy).toBe(initialAccuracy);
    const { weights } = loadCheckpoint(run.out, 'optimal', config.cycles, PARAM_COUNT);
    expect(
      Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength).equals(Buffer.from(initial.buffer)),
    ).toBe(true);

    const summary = JSON.parse(readFileSync(join(run.out, 'summary.json'), 'utf8'));
    expect(summary.faults).toMatchObject({
      killed: 0,
      dropped_results: config.K * config.cycles,
      lost_learner_cycles: config.K * config.cycles,
    });
    expect(summary.schemes.optimal.missing_learner_cycles).toBe(config.K * config.cycles);
    faultTally.learnerCyclesLost += summary.faults.lost_learner_cycles;
    expectNoLearnerLeft(log);
  });

  it("drop_prob = 0.5 loses the same learners' results in every scheme (the fault plan is paired)", async () => {
    const config = fastConfig({ schemes: ['optimal', 'eta'], faults: { kill: [], drop_prob: 0.5, kill_host: [] } });
    const log = collectLog();
    const run = await runExperiment(config, { out: tmpDir('fault-drop-paired'), ...log.sinks });
    const lost = (scheme: string) =>
      learnerRows(run.out)
        .filter((r) => r.scheme === scheme && r.status === 'missing')
        .map((r) => `${r.cycle}:${r.learner}`)
        .sort();
    expect(lost('optimal').length).toBeGreaterThan(0);
    expect(lost('optimal').length).toBeLessThan(config.K * config.cycles);
    expect(lost('eta')).toEqual(lost('optimal'));
    faultTally.runsCompleted++;
    expectNoLearnerLeft(log);
  });

  it('a learner that goes silent (SIGSTOP) is detected by the heartbeat, marked missing, and rejoins the next cycle once awake', async () => {
    const config = fastConfig({ heartbeat_s: 1, join_timeout_s: 30 });
    const log = collectLog();
    let stoppedPid = 0;
    const running = runExperiment(config, { out: tmpDir('fault-silent'), ...log.sinks });
    const joined = await log.when(/^learner 1 joined from .* \(pid (\d+)\)/);
    stoppedPid = Number(joined[1]);
    process.kill(stoppedPid, 'SIGSTOP');
    const t0 = Date.now();
    await log.when(/^learner 1 missed its heartbeat/);
    const detectedAfter_s = (Date.now() - t0) / 1000;
    process.kill(stoppedPid, 'SIGCONT'); // it wakes to a closed connection and reconnects with its id
    const run = await running;
    expect(run.interrupted).toBe(false);
    faultTally.faultsInjected++;
    faultTally.runsCompleted++;

    const rows = learnerRows(run.out);
    const status = (cycle: number, learner: number) =>
      rows.find((r) => r.cycle === cycle && r.learner === learner)!.status;
    expect([0, 1, 2].map((k) => status(1, k))).toEqual(['on-time', 'missing', 'on-time']);
    expect(status(2, 1)).toBe('on-time'); // back for cycle 2
    expect(joinedPids(log.lines).get(1)).toEqual([stoppedPid, stoppedPid]); // the same process, rejoined
    expect(detectedAfter_s).toBeLessThan(10);
    expect(log.lines.some((l) => /^learner 1 missed its heartbeat/.test(l))).toBe(true);
    expect(eventsOf(log.events, 'cycle-done')[0].missing).toEqual([
      { learner: 1, reason: expect.stringMatching(/^missed heartbeat/) },
    ]);
    expect(rows.find((r) => r.cycle === 1 && r.learner === 1)!.reason).toMatch(
      /^missed heartbeat \(silent for 2 beats\)/,
    );
    expect(eventsOf(log.events, 'respawned')).toEqual([]); // one missed cycle: it recovers by itself
    const summary = JSON.parse(readFileSync(join(run.out, 'summary.json'), 'utf8'));
    expect(summary.hub.heartbeat_timeouts).toBe(1); // summary.json is snake_case throughout
    expect(summary.faults.lost_learner_cycles).toBe(1);
    faultTally.learnerCyclesLost += summary.faults.lost_learner_cycles;

    const pids = expectNoLearnerLeft(log);
    expect(pids).toContain(stoppedPid);
    console.log(
      `FAULTS silent learner detected after ${detectedAfter_s.toFixed(2)} s (heartbeat ${config.heartbeat_s} s); tally ${JSON.stringify(faultTally)}`,
    );
  });
  it('a spawned learner that stays stopped (SIGSTOP) misses one cycle, is then killed and respawned at once (no join timeout waited), and trains again', async () => {
    // A join timeout far beyond the test's: waiting it for the stopped learner would time the test out.
    const config = fastConfig({ cycles: 3, heartbeat_s: 0.5, join_timeout_s: 600 });
    const log = collectLog();
    const running = runExperiment(config, { out: tmpDir('fault-stopped'), ...log.sinks });
    const joined = await log.when(/^learner 1 joined from .* \(pid (\d+)\)/);
    const stoppedPid = Number(joined[1]);
    process.kill(stoppedPid, 'SIGSTOP'); // its process still "runs", stopped: it can neither answer nor rejoin
    const run = await running;
    expect(run.interrupted).toBe(false);

    const respawned = eventsOf(log.events, 'respawned');
    expect(respawned).toEqual([
      { type: 'respawned', learner: 1, pid: stoppedPid, missed_cycles: 1, how: 'process', stopped: true },
    ]);
    expect(log.lines).toContain(
      `learner 1 missed a cycle and its process (pid ${stoppedPid}) is stopped (SIGSTOP), so it cannot rejoin: killed it and started a new one`,
    );
    expect(isAlive(stoppedPid)).toBe(false);
    const rows = learnerRows(run.out).filter((r) => r.learner === 1);
    expect(rows.map((r) => r.status)).toEqual(['missing', 'on-time', 'on-time']); // back in cycle 2
    // Stopped before or during cycle 1: the heartbeat drops it, or it was dropped before the tasks went out.
    expect(rows[0].reason).toMatch(/^(missed heartbeat|not connected)/);
    const pids = joinedPids(log.lines).get(1)!;
    expect(pids).toHaveLength(2);
    expect(pids[0]).toBe(stoppedPid);
    expect(pids[1]).not.toBe(stoppedPid);
    const summary = JSON.parse(readFileSync(join(run.out, 'summary.json'), 'utf8'));
    expect(summary.faults).toMatchObject({ respawned: 1, killed: 0, lost_learner_cycles: 1 });
    expectNoLearnerLeft(log);
  });

  it("a learner host that stays stopped (SIGSTOP): all its learners miss one cycle, the host is then killed and started again, the other host's learners never miss", async () => {
    const config = fastConfig({ K: 4, hosts: 2, cycles: 3, heartbeat_s: 0.5, join_timeout_s: 600 });
    const log = collectLog();
    const running = runExperiment(config, { out: tmpDir('fault-stopped-host'), ...log.sinks });
    const joined = await log.when(/^learner 1 joined from .* \(pid (\d+)\)/); // host 1 runs learners 1 and 3
    // Stopped before learner 3 joined, the start would wait the (600 s) join timeout for it: only cycles check for stops.
    await log.when(/^learner 3 joined from /);
    const stoppedPid = Number(joined[1]);
    process.kill(stoppedPid, 'SIGSTOP');
    const run = await running;
    expect(run.interrupted).toBe(false);
    expect(eventsOf(log.events, 'host-respawned')).toEqual([
      { type: 'host-respawned', host: 1, learners: '1,3', pid: stoppedPid, missed_cycles: 1, stopped: true },
    ]);
    expect(eventsOf(log.events, 'respawned')).toEqual([]);
    expect(isAlive(stoppedPid)).toBe(false);
    const rows = learnerRows(run.out);
    for (const k of [1, 3])
      expect(rows.filter((r) => r.learner === k).map((r) => r.status)).toEqual(['missing', 'on-time', 'on-time']);
    for (const k of [0, 2])
      expect(rows.filter((r) => r.learner === k).map((r) => r.status)).toEqual(['on-time', 'on-time', 'on-time']);
    const summary = JSON.parse(readFileSync(join(run.out, 'summary.json'), 'utf8'));
    expect(summary.faults).toMatchObject({ respawned: 1, killed: 0, lost_learner_cycles: 2 });
    expectNoLearnerLeft(log);
  });
});
