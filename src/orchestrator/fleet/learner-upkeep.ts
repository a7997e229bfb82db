/**
 * Keeping the fleet present between cycles: spawned hosts that died are started again, learners
 * that missed RESPAWN_AFTER_MISSED_CYCLES cycles in a row while their host still runs (hung, stuck
 * reconnecting) are restarted — a host seen stopped (SIGSTOP) after one missed cycle at once — and
 * then everyone is waited for.
 */
import type { ExperimentEvent } from '../events.ts';
import type { LearnerRecord } from '../cycle.ts';
import { isTrainingDiverged } from '../divergence.ts';
import { isInjectedFault } from '../transport/faults.ts';
import type { LearnerHub } from '../transport/hub.ts';
import type { LearnerHosts } from './spawn.ts';
import { formatIdRanges } from '../../util/id-ranges.ts';

/**
 * One missed cycle can be a passing disconnect the learner recovers from by itself (it retries for
 * --retry-s); two in a row cost two cycles of its data, while a fresh process costs only its start-up.
 */
export const RESPAWN_AFTER_MISSED_CYCLES = 2;

export class LearnerUpkeep {
  private readonly missedInARow = new Map<number, number>();
  private readonly pendingKills: Promise<void>[] = [];

  constructor(
    private readonly hub: LearnerHub,
    /** spawned learner hosts; null for external learners */
    private readonly hosts: LearnerHosts | null,
    private readonly opts: {
      K: number;
      joinTimeoutMs: number;
      signal?: AbortSignal;
      emit: (e: ExperimentEvent) => void;
      onRespawn: () => void;
    },
  ) {}

  /** Start every spawned host that is not running while one of its learners is absent. */
  spawnMissing(): void {
    if (!this.hosts) return;
    this.hosts.blocks.forEach((ids, h) => {
      if (!this.hosts!.isRunning(h) && ids.some((id) => !this.hub.isConnected(id))) this.hosts!.spawn(h);
    });
  }

  /**
   * Fault injection: learner `id` dies now. Alone in its process, the process is killed; in a shared
   * host only its connection is cut without a close frame (as a crash looks from here) and it
   * rejoins by itself, so its siblings never notice. The next ensure() waits until a killed process is gone.
   */
  kill(id: number): { pid: number | null; how: 'process' | 'connection' } {
    if (!this.hosts) return { pid: null, how: 'process' };
    const h = this.hosts.hostOf(id);
    const pid = this.hosts.pid(h) ?? null;
    if (this.hosts.blocks[h].length > 1) {
      this.hub.cut(id, 'connection cut (fault injection)');
      return { pid, how: 'connection' };
    }
    this.pendingKills.push(this.hosts.kill(h));
    return { pid, how: 'process' };
  }

  /** Fault injection: a whole host process dies now; the next ensure() starts it again. */
  killHost(h: number): number | null {
    if (!this.hosts) return null;
    const pid = this.hosts.pid(h) ?? null;
    this.pendingKills.push(this.hosts.kill(h));
    return pid;
  }

  /** Before a cycle: restart who must be, then wait for all K; resolves with the ids still absent. */
  async ensure(): Promise<number[]> {
    await Promise.all(this.pendingKills.splice(0)); // a killed process must be gone before we look for who to respawn
    if (this.hosts) await this.restartStuck(this.hosts);
    this.spawnMissing();
    return this.hub.waitFor(
      Array.from({ length: this.opts.K }, (_, i) => i),
      this.opts.joinTimeoutMs,
      this.opts.signal,
    );
  }

  /**
   * Learners that missed RESPAWN_AFTER_MISSED_CYCLES cycles in a row while their host still runs
   * (hung, stuck reconnecting): a host all of whose learners are stuck is killed and started afresh;
   * a stuck learner among working siblings only has its connection cut, and rejoins. A host seen
   * stopped (SIGSTOP) once one of its learners missed a cycle is killed and started afresh at once:
   * none of its learners can rejoin while it is stopped, so waiting the join timeout for them is waste.
   */
  private async restartStuck(hosts: LearnerHosts): Promise<void> {
    const missedOf = (id: number) => this.missedInARow.get(id) ?? 0;
    const stuck = (id: number) => missedOf(id) >= RESPAWN_AFTER_MISSED_CYCLES;
    for (let h = 0; h < hosts.count; h++) {
      const ids = hosts.blocks[h];
      if (!hosts.isRunning(h)) continue;
      const stopped = ids.some((id) => missedOf(id) > 0) && hosts.isStopped(h);
      if (!stopped && !ids.some(stuck)) continue;
      const missed = Math.max(...ids.map(missedOf));
      const pid = hosts.pid(h) ?? null;
      if (stopped || ids.every(stuck)) {
        await hosts.kill(h); // SIGKILL: it also ends a stopped (SIGSTOP) process
        hosts.spawn(h); // if an old connection is still closing, the new one retries "id in use"
        for (const id of ids) this.missedInARow.set(id, 0);
        this.opts.onRespawn();
        const why = stopped ? { stopped: true as const } : {};
        this.opts.emit(
          ids.length === 1
            ? { type: 'respawned', learner: ids[0], pid, missed_cycles: missed, how: 'process', ...why }
            : { type: 'host-respawned', host: h, learners: formatIdRanges(ids), pid, missed_cycles: missed, ...why },
        );
        continue;
      }
      for (const id of ids.filter(stuck)) {
        this.hub.cut(id, `connection cut after ${this.missedInARow.get(id)} missed cycles`);
        this.missedInARow.set(id, 0);
        this.opts.onRespawn();
        this.opts.emit({ type: 'respawned', learner: id, pid, missed_cycles: missed, how: 'connection' });
      }
    }
  }

  /** After a cycle: who missed it for no planned reason (dropped results and planned kills are the plan, not the learner). */
  noteCycle(records: LearnerRecord[]): void {
    for (const r of records) {
      // A learner whose training diverged answered: it is alive, not stuck.
      if (r.status === 'ok' || r.status === 'late' || isTrainingDiverged(r.reason)) this.missedInARow.set(r.learner, 0);
      else if (r.status === 'missing' && !isInjectedFault(r.reason))
        this.missedInARow.set(r.learner, (this.missedInARow.get(r.learner) ?? 0) + 1);
    }
  }
}
