/**
 * Fault injection as a wrapper around the hub: the cycle sends its tasks to "a hub" and does not
 * know faults exist.
 *   --fail L@C     learner L dies right after its cycle-C task was sent (every scheme);
 *   --fail-host H@C  learner host H's process is killed right after its first cycle-C task was sent;
 *   --drop-prob p  a finished result is lost on the way back, drawn per (cycle, learner) only, so every
 *                  scheme loses the same learners' results and the comparison stays paired.
 */
import { createRng, deriveSeed } from '../../util/rng.ts';
import type { FaultPlan } from '../config.ts';
import type { SendOptions, TaskHandle } from './task-channel.ts';
import type { Task } from '../../protocol/messages.ts';

export const DROPPED_REASON = 'result dropped (--drop-prob)';
export const killedReason = (learner: number, cycle: number) => `killed (--fail ${learner}@${cycle})`;
export const hostKilledReason = (host: number, cycle: number) => `host killed (--fail-host ${host}@${cycle})`;

/** A learner missing because the fault plan said so: it is not misbehaving. */
export function isInjectedFault(reason: string | undefined): boolean {
  return reason === DROPPED_REASON || /^(host )?killed \(--fail(-host)? \d+@\d+\)$/.test(reason ?? '');
}

/** How the fault wrapper makes faults happen: kill a learner, kill a host, and which host a learner is in. */
export interface FaultActions {
  kill: (learner: number, cycle: number) => void;
  killHost: (host: number, cycle: number) => void;
  hostOf: (learner: number) => number;
}

/** What the cycle needs of a hub: send a task, get a handle. */
export interface TaskSender {
  sendTask(id: number, task: Task, timeoutMs: number, opts: SendOptions): TaskHandle;
}

export function withFaults(hub: TaskSender, plan: FaultPlan, seed: number, act: FaultActions): TaskSender {
  const hostKills = plan.kill_host;
  if (plan.kill.length === 0 && hostKills.length === 0 && plan.drop_prob === 0) return hub;
  const hostsKilled = new Set<string>(); // `${scheme} ${cycle} ${host}`: each planned host kill happens once per scheme
  return {
    sendTask(id, task, timeoutMs, opts) {
      const handle = hub.sendTask(id, task, timeoutMs, opts);
      const killNow = plan.kill.some((f) => f.learner === id && f.cycle === task.cycle);
      if (killNow) void handle.sent.then(() => act.kill(id, task.cycle));
      const host = hostKills.length ? act.hostOf(id) : -1;
      const hostKill = hostKills.some((f) => f.host === host && f.cycle === task.cycle);
      const key = `${task.scheme} ${task.cycle} ${host}`;
      if (hostKill && !hostsKilled.has(key)) {
        hostsKilled.add(key);
        void handle.sent.then(() => act.killHost(host, task.cycle));
      }
      const outcome = handle.outcome.then((o) => {
        // The record says why: killed by the plan, not merely "disconnected".
        if (o.status === 'missing' && hostKill) return { ...o, reason: hostKilledReason(host, task.cycle) };
        if (o.status === 'missing') return killNow ? { ...o, reason: killedReason(id, task.cycle) } : o;
        if (o.status !== 'ok' || createRng(deriveSeed(seed, 'drop', task.cycle, id)).next() >= plan.drop_prob) return o;
        return { ...o, status: 'lost' as const, reason: DROPPED_REASON };
      });
      return { ...handle, outcome };
    },
  };
}
