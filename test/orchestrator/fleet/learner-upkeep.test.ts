/**
 * Who the upkeep restarts before a cycle: a learner that missed RESPAWN_AFTER_MISSED_CYCLES cycles
 * while its host runs, or at once (after one missed cycle) a host that is stopped, which can neither
 * answer nor rejoin — waiting the join timeout for it would be waste (issue #28).
 */
import { describe, expect, it } from 'vitest';
import type { LearnerRecord } from '../../../src/orchestrator/cycle.ts';
import type { ExperimentEvent } from '../../../src/orchestrator/events.ts';
import { LearnerUpkeep, RESPAWN_AFTER_MISSED_CYCLES } from '../../../src/orchestrator/fleet/learner-upkeep.ts';
import { processIsStopped } from '../../../src/orchestrator/fleet/spawn.ts';

function fleet(opts: { blocks: number[][]; stopped?: Set<number> }) {
  const kills: number[] = [];
  const cuts: number[] = [];
  const events: ExperimentEvent[] = [];
  const hosts = {
    count: opts.blocks.length,
    blocks: opts.blocks,
    isRunning: () => true,
    isStopped: (h: number) => opts.stopped?.has(h) ?? false,
    pid: (h: number) => 100 + h,
    kill: async (h: number) => void kills.push(h),
    spawn: () => {},
    hostOf: (id: number) => opts.blocks.findIndex((ids) => ids.includes(id)),
  };
  const hub = { isConnected: () => false, cut: (id: number) => void cuts.push(id), waitFor: async () => [] };
  const K = opts.blocks.flat().length;
  const upkeep = new LearnerUpkeep(hub as any, hosts as any, {
    K,
    joinTimeoutMs: 1000,
    emit: (e) => events.push(e),
    onRespawn: () => {},
  });
  return { upkeep, kills, cuts, events };
}

const missed = (learner: number) =>
  ({
    learner,
    batch: 10,
    tau: 1,
    f_hz: 1e9,
    rate_bps: 1e8,
    status: 'missing',
    reason: 'not connected',
  }) as LearnerRecord;
const ok = (learner: number) =>
  ({ learner, batch: 10, tau: 1, f_hz: 1e9, rate_bps: 1e8, status: 'ok' }) as LearnerRecord;

describe('learner upkeep', () => {
  it(`a learner whose running host is not stopped is restarted only after ${RESPAWN_AFTER_MISSED_CYCLES} missed cycles`, async () => {
    const f = fleet({ blocks: [[0]] });
    for (let c = 1; c < RESPAWN_AFTER_MISSED_CYCLES; c++) {
      f.upkeep.noteCycle([missed(0)]);
      await f.upkeep.ensure();
    }
    expect(f.kills).toEqual([]);
    f.upkeep.noteCycle([missed(0)]);
    await f.upkeep.ensure();
    expect(f.kills).toEqual([0]);
    expect(f.events).toEqual([
      { type: 'respawned', learner: 0, pid: 100, missed_cycles: RESPAWN_AFTER_MISSED_CYCLES, how: 'process' },
    ]);
  });

  it('a stopped host is killed and started again after one missed cycle, not left to cost the join timeout', async () => {
    const f = fleet({
      blocks: [
        [0, 2],
        [1, 3],
      ],
      stopped: new Set([1]),
    });
    f.upkeep.noteCycle([ok(0), missed(1), ok(2), missed(3)]);
    await f.upkeep.ensure();
    expect(f.kills).toEqual([1]);
    expect(f.cuts).toEqual([]);
    expect(f.events).toEqual([
      { type: 'host-respawned', host: 1, learners: '1,3', pid: 101, missed_cycles: 1, stopped: true },
    ]);
  });

  it('a stopped host none of whose learners missed a cycle is left alone (it may be continued)', async () => {
    const f = fleet({ blocks: [[0], [1]], stopped: new Set([1]) });
    f.upkeep.noteCycle([ok(0), ok(1)]);
    await f.upkeep.ensure();
    expect(f.kills).toEqual([]);
    expect(f.events).toEqual([]);
  });

  it('reads a process state from /proc: this process runs', () => {
    expect(processIsStopped(process.pid)).toBe(false);
    expect(processIsStopped(2 ** 30)).toBe(false); // no such process
  });
});
