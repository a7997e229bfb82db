/**
 * Fault injection as a wrapper around the hub: the cycle sends its tasks to "a hub" and does not
 * know faults exist.
 *   --fail L@C     learner L's process is killed right after its cycle-C task was sent (every scheme);
 *   --drop-prob p  a finished result is lost on the way back, drawn per (cycle, learner) only, so every
 *                  scheme loses the same learners' results and the comparison stays paired.
 */
import { createRng, deriveSeed } from '../util/rng.ts';
import type { FaultPlan } from './config.ts';
import type { SendOptions, TaskHandle } from './hub.ts';
import type { Task } from '../protocol/messages.ts';

export const DROPPED_REASON = 'result dropped (--drop-prob)';
export const killedReason = (learner: number, cycle: number) => `killed (--fail ${learner}@${cycle})`;

/** A learner missing because the fault plan said so: it is not misbehaving. */
export function isInjectedFault(reason: string | undefined): boolean {
  return reason === DROPPED_REASON || /^killed \(--fail \d+@\d+\)$/.test(reason ?? '');
}

/** What the cycle needs of a hub: send a task, get a handle. */
export interface TaskSender {
  sendTask(id: number, task: Task, timeoutMs: number, opts: SendOptions): TaskHandle;
}

export function withFaults(hub: TaskSender, plan: FaultPlan, seed: number, kill: (learner: number, cycle: number) => void): TaskSender {
  if (plan.kill.length === 0 && plan.drop_prob === 0) return hub;
  return {
    sendTask(id, task, timeoutMs, opts) {
      const handle = hub.sendTask(id, task, timeoutMs, opts);
      const killNow = plan.kill.some((f) => f.learner === id && f.cycle === task.cycle);
      if (killNow) void handle.sent.then(() => kill(id, task.cycle));
      const outcome = handle.outcome.then((o) => {
        // The record says why: killed by the plan, not merely "disconnected".
        if (o.status === 'missing') return killNow ? { ...o, reason: killedReason(id, task.cycle) } : o;
        if (o.status !== 'ok' || createRng(deriveSeed(seed, 'drop', task.cycle, id)).next() >= plan.drop_prob) return o;
        return { ...o, status: 'lost' as const, reason: DROPPED_REASON };
      });
      return { ...handle, outcome };
    },
  };
}
