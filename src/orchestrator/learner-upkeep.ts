/**
 * Keeping the fleet present between cycles: spawned learners that died are started again, one that
 * missed RESPAWN_AFTER_MISSED_CYCLES cycles in a row while its process still runs (stopped, hung,
 * stuck reconnecting) is killed and started afresh, and then everyone is waited for.
 */
import type { LearnerProfile } from '../model/devices.ts';
import type { ExperimentEvent } from './events.ts';
import type { LearnerRecord } from './cycle.ts';
import { isInjectedFault } from './faults.ts';
import type { LearnerHub } from './hub.ts';
import type { LearnerProcesses } from './spawn.ts';

/**
 * One missed cycle can be a passing disconnect the learner recovers from by itself (it retries for
 * --retry-s); two in a row cost two cycles of its data, while a fresh process costs ~1–2 s to start.
 */
export const RESPAWN_AFTER_MISSED_CYCLES = 2;

export class LearnerUpkeep {
  private readonly missedInARow = new Map<number, number>();
  private readonly pendingKills: Promise<void>[] = [];

  constructor(
    private readonly hub: LearnerHub,
    /** spawned learners and their profiles; null for external learners */
    private readonly spawned: { processes: LearnerProcesses; fleet: LearnerProfile[] } | null,
    private readonly opts: { K: number; joinTimeoutMs: number; signal?: AbortSignal; emit: (e: ExperimentEvent) => void; onRespawn: () => void },
  ) {}

  /** Start every spawned learner that is neither connected nor running. */
  spawnMissing(): void {
    if (!this.spawned) return;
    const { processes, fleet } = this.spawned;
    for (const l of fleet) if (!this.hub.isConnected(l.id) && !processes.isRunning(l.id)) processes.spawn(l);
  }

  /** Fault injection: kill a spawned learner now; the next ensure() waits until it is gone. */
  kill(id: number): number | null {
    if (!this.spawned) return null;
    const pid = this.spawned.processes.pid(id) ?? null;
    this.pendingKills.push(this.spawned.processes.kill(id));
    return pid;
  }

  /** Before a cycle: restart who must be, then wait for all K; resolves with the ids still absent. */
  async ensure(): Promise<number[]> {
    await Promise.all(this.pendingKills.splice(0)); // a killed learner must be gone before we look for who to respawn
    if (this.spawned) {
      const { processes, fleet } = this.spawned;
      for (const l of fleet) {
        const missed = this.missedInARow.get(l.id) ?? 0;
        if (missed < RESPAWN_AFTER_MISSED_CYCLES || !processes.isRunning(l.id)) continue;
        const pid = processes.pid(l.id) ?? null;
        await processes.kill(l.id); // SIGKILL: it also ends a stopped (SIGSTOP) process
        processes.spawn(l); // if its old connection is still closing, the new one retries "id in use"
        this.missedInARow.set(l.id, 0);
        this.opts.onRespawn();
        this.opts.emit({ type: 'respawned', learner: l.id, pid, missed_cycles: missed });
      }
    }
    this.spawnMissing();
    return this.hub.waitFor(
      Array.from({ length: this.opts.K }, (_, i) => i),
      this.opts.joinTimeoutMs,
      this.opts.signal,
    );
  }

  /** After a cycle: who missed it for no planned reason (dropped results and planned kills are the plan, not the learner). */
  noteCycle(records: LearnerRecord[]): void {
    for (const r of records) {
      if (r.status === 'missing' && !isInjectedFault(r.reason)) this.missedInARow.set(r.learner, (this.missedInARow.get(r.learner) ?? 0) + 1);
      else if (r.status === 'ok' || r.status === 'late') this.missedInARow.set(r.learner, 0);
    }
  }
}
