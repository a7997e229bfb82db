/**
 * Learner hosts: many learners in one process. Spreading the learners over 2 hosts or giving each
 * its own process gives the same results; an external host started with --learner-ids takes the
 * run's fleet; faults hit one learner inside a host (its siblings carry on) or a whole host (only
 * that cycle's updates of its learners are lost), and nothing is left running.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { hostKilledReason, killedReason, DROPPED_REASON } from '../../src/orchestrator/transport/faults.ts';
import type { RunEvent } from '../../src/orchestrator/events.ts';
import { createRng, deriveSeed } from '../../src/util/rng.ts';
import { readCycles, readLearners, withoutWall } from '../helpers/run-files.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { collectLog, isAlive, startLearnerCli, tmpDir, type CliRun } from '../reliability/helpers.ts';

const joinedPids = (events: RunEvent[]) =>
  new Set(events.flatMap((e) => (e.type === 'joined' && e.pid !== null ? [e.pid] : [])));

describe('learner hosts', () => {
  it('--hosts 2 and one process per learner (--hosts K) give identical cycles.csv and learners.csv (K = 8)', async () => {
    const config = smallConfig({ K: 8, cycles: 2 });
    const two = collectLog();
    const each = collectLog();
    const a = await runExperiment({ ...config, hosts: 2 }, { out: tmpDir('hosts2'), ...two.sinks });
    const b = await runExperiment({ ...config, hosts: 8 }, { out: tmpDir('hosts8'), ...each.sinks });
    expect(joinedPids(two.events).size).toBe(2);
    expect(joinedPids(each.events).size).toBe(8);
    expect(withoutWall(readCycles(a.out))).toEqual(withoutWall(readCycles(b.out)));
    expect(readFileSync(join(a.out, 'learners.csv'), 'utf8')).toBe(readFileSync(join(b.out, 'learners.csv'), 'utf8'));
    expect(readLearners(a.out).every((r) => r.status === 'on-time')).toBe(true);
    expect(JSON.parse(readFileSync(join(a.out, 'config.json'), 'utf8')).hosts).toBe(2);
    // With two hosts of four learners every task named its model, and each host fetched each distinct
    // model once: one per scheme and cycle, but every scheme starts from the same initial model.
    // Learners with a process of their own got it in every task. The files above are the same.
    const hub = (out: string) => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).hub;
    const schemes = config.schemes.length;
    expect(hub(a.out)).toMatchObject({
      tasks_naming_model: 8 * schemes * 2,
      models_sent: 2 * (schemes * 2 - (schemes - 1)),
    });
    expect(hub(b.out)).toMatchObject({ tasks_naming_model: 0, models_sent: 0 });
  }, 300_000); // two runs, one of them with 8 learner processes: slow on a loaded 2-core machine

  it("an external host (npm run learner -- --learner-ids 0-3) brings four learners with the fleet's profiles and matches the spawned run", async () => {
    const config = smallConfig({ K: 4, cycles: 1, schemes: ['optimal'] });
    const spawned = await runExperiment({ ...config, hosts: 2 }, { out: tmpDir('spawned'), log: () => {} });
    const log = collectLog();
    let host: CliRun | null = null;
    try {
      const result = await runExperiment(
        { ...config, external: true },
        {
          out: tmpDir('external-host'),
          log: log.log,
          onEvent: (e) => {
            log.onEvent(e);
            if (e.type === 'listening') host = startLearnerCli(['--connect', e.url, '--learner-ids', '0-3'], e.token);
          },
        },
      );
      const exit = await host!.exited;
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stderr).toMatch(/\[host 0-3: learner 2\] joined run/);
      expect(joinedPids(log.events)).toEqual(new Set([host!.pid]));
      expect(withoutWall(readCycles(result.out))).toEqual(withoutWall(readCycles(spawned.out)));
      expect(readFileSync(join(result.out, 'learners.csv'), 'utf8')).toBe(
        readFileSync(join(spawned.out, 'learners.csv'), 'utf8'),
      );
    } finally {
      (host as CliRun | null)?.kill();
    }
  });

  it('at K = 200 in 2 hosts: --fail cuts one learner (siblings unharmed), --drop-prob loses the drawn results, --fail-host loses one cycle of a host; the run completes, nothing is left running', async () => {
    const K = 200;
    const config = smallConfig({
      K,
      T: 30,
      cycles: 3,
      schemes: ['optimal'],
      hosts: 2,
      tau_max: 2,
      train_samples: 4000,
      test_samples: 500,
      faults: { kill: [{ learner: 7, cycle: 1 }], drop_prob: 0.1, kill_host: [{ host: 1, cycle: 2 }] },
    });
    const log = collectLog();
    const result = await runExperiment(config, { out: tmpDir('hosts-faults'), ...log.sinks });
    expect(result.interrupted).toBe(false);
    const rows = readLearners(result.out);
    expect(rows).toHaveLength(3 * K);
    const dropped = (cycle: number, k: number) =>
      createRng(deriveSeed(config.seed, 'drop', cycle, k)).next() < config.faults.drop_prob;
    for (const r of rows) {
      const inHost1 = r.learner % 2 === 1; // dealt round-robin
      const expected =
        r.cycle === 1 && r.learner === 7
          ? killedReason(7, 1)
          : r.cycle === 2 && inHost1
            ? hostKilledReason(1, 2)
            : dropped(r.cycle, r.learner)
              ? DROPPED_REASON
              : null;
      expect(r.reason, `cycle ${r.cycle} learner ${r.learner}`).toBe(expected);
      expect(r.status).toBe(expected ? 'missing' : 'on-time');
    }
    // The killed learner's host kept running: its siblings answered in cycle 1 (unless drawn to drop) and it was back for cycle 2.
    expect(log.events.some((e) => e.type === 'killed' && e.learner === 7 && e.how === 'connection')).toBe(true);
    expect(log.events.filter((e) => e.type === 'host-killed')).toMatchObject([
      { host: 1, learners: '1-199/2', cycle: 2 },
    ]);
    const cycles = readCycles(result.out);
    expect(cycles.map((c) => c.cycle)).toEqual([1, 2, 3]);
    const summary = JSON.parse(readFileSync(join(result.out, 'summary.json'), 'utf8'));
    expect(summary.faults.killed).toBe(2);
    expect(summary.faults.respawned).toBe(0); // planned faults are not the learners' fault
    // Every host process that ever joined is gone.
    const pids = [...joinedPids(log.events)];
    expect(pids.length).toBe(3); // two hosts, and host 1 once more after it was killed
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});
