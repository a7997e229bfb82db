/**
 * What a run reports while it goes, as typed data rather than log prose: the hub and the
 * experiment emit these through one callback, the CLI turns them into the lines users read
 * (src/cli/run-events.ts), and tests assert on them.
 */
import type { RunSummaryFile } from '../run-folder/schema.ts';
import type { SchemeName } from '../allocation/types.ts';
import type { PhaseTimes } from '../model/coefficients.ts';
import type { LearnerProfile } from '../model/devices.ts';
import type { SchemeSummary } from '../run-folder/schema.ts';
import type { ExperimentConfig } from '../run-folder/schema.ts';

/** Transport: who came, who went, who was turned away (emitted by the hub). */
export type HubEvent =
  | { type: 'joined'; learner: number; remote: string; pid: number | null }
  /** the connection ended (reason: "disconnected (1006)", "missed heartbeat (…)") */
  | { type: 'left'; learner: number; reason: string }
  | { type: 'heartbeat-missed'; learner: number; beats: number; heartbeat_ms: number }
  | { type: 'refused'; remote: string; reason: string; detail: string }
  /** a host without ids (--learner-ids auto:N) was granted these */
  | { type: 'claimed'; remote: string; pid: number | null; ids: string }
  /** a host's claim connection ended: its ids are free for the next host that asks */
  | { type: 'claim-ended'; ids: string; reason: string }
  /** an error frame outside any task (peer text, already on one line) */
  | { type: 'learner-error'; learner: number; code: string; message: string };

/** Where a learner's task stands in wall time (the emulated timeline comes with task-done). */
export const LEARNER_PHASES = ['receiving', 'waiting', 'computing', 'returning'] as const;
export type LearnerPhase = (typeof LEARNER_PHASES)[number];

/** A finished task: its emulated phases (seconds of the cycle) and the task and result frames' bytes on the wire. */
export type EmulatedTimeline = PhaseTimes & { bytes_sent: number; bytes_returned: number };

export interface AllocationBrief {
  scheme: SchemeName;
  /** τ, or the minimum τ_k of a per-learner scheme */
  tau: number;
  /** per-learner schemes with staleness > 0: the largest τ_k */
  tau_max?: number;
  min_batch: number;
  max_batch: number;
  tau_relaxed?: number;
}

/** The run: set-up, faults, each learner's task and each cycle (emitted by the experiment). */
export type ExperimentEvent =
  /** a session of the run starts (resumed: a later session of the same folder): its settings and process */
  | { type: 'session-start'; out: string; resume: boolean; pid: number; config: ExperimentConfig }
  /** the session ended: finished (every cycle done), interrupted (Ctrl-C) or failed (message: why) */
  | { type: 'session-end'; status: 'finished' | 'interrupted' | 'failed'; message?: string }
  | {
      type: 'listening';
      url: string;
      token: string;
      out: string;
      /** external mode: the addresses learners on other machines can use (ws://0.0.0.0 is not one) */
      reachable_urls: string[];
      /** external mode: the profile each learner id should announce (from --learners, or the seeded fleet) */
      expected_fleet: LearnerProfile[] | null;
    }
  /** listening beyond loopback without TLS: the token and the weights are readable on the network */
  | { type: 'cleartext'; host: string }
  | { type: 'lock-taken-over'; pid: number }
  | { type: 'extended'; from: number; to: number }
  | { type: 'complete'; out: string; cycles: number }
  | { type: 'waiting'; K: number; url: string }
  | { type: 'not-connected'; learners: number[] }
  | { type: 'resuming'; out: string; after: { scheme: SchemeName; cycle: number }[] }
  | { type: 'setup-done'; wall_s: number; engine: string; allocations: AllocationBrief[] }
  /** the estimated memory of the run is close to what is available (a refusal is an InputError instead) */
  | { type: 'memory-tight'; need_mb: number; available_mb: number; source: string }
  /**
   * schemes whose learners all get the same batch and τ_k: they train identically; `by_cap[i]`: the
   * --tau-max cap (`tau_max`) made group i identical (without it their allocations differ)
   */
  | { type: 'identical-allocations'; groups: SchemeName[][]; by_cap: boolean[]; tau_max: number | null }
  /** τ so large that learners over-train their batch (suggests --tau-max) */
  | { type: 'tau-large'; scheme: SchemeName; tau: number; threshold: number; min_batch: number }
  /**
   * fault injection (--fail): `pid` (of its host) null when the learner is external and cannot be
   * killed; how: its own process was killed, or (in a shared host) its connection was cut
   */
  | {
      type: 'killed';
      learner: number;
      pid: number | null;
      how: 'process' | 'connection';
      scheme: SchemeName;
      cycle: number;
    }
  /** fault injection (--fail-host): a whole learner host process was killed */
  | { type: 'host-killed'; host: number; learners: string; pid: number | null; scheme: SchemeName; cycle: number }
  /** a spawned learner missed cycles while its host still ran: its process restarted, or (in a shared host) its connection cut so it rejoins */
  | {
      type: 'respawned';
      learner: number;
      pid: number | null;
      missed_cycles: number;
      how: 'process' | 'connection';
      /** its process was stopped (SIGSTOP): restarted after one missed cycle, not RESPAWN_AFTER_MISSED_CYCLES */
      stopped?: true;
    }
  /** every learner of a host missed cycles while it still ran: the host was killed and started afresh */
  | {
      type: 'host-respawned';
      host: number;
      learners: string;
      pid: number | null;
      missed_cycles: number;
      stopped?: true;
    }
  /** nobody could be given work this cycle (nobody available, or no feasible allocation for who is): the model stays */
  | { type: 'nobody-allocated'; scheme: SchemeName; cycle: number; reason: string }
  | { type: 'cycle-start'; scheme: SchemeName; cycle: number; cycles: number; tau: number; active: number }
  /** a learner's task moved on, in wall time: its frame is on the way, it waits for a compute slot, trains, or its result travels back */
  | { type: 'learner-phase'; scheme: SchemeName; cycle: number; learner: number; phase: LearnerPhase }
  /** a learner's result arrived: its emulated timeline (seconds of the cycle) and the bytes that moved */
  | ({
      type: 'task-done';
      scheme: SchemeName;
      cycle: number;
      learner: number;
      status: 'ok' | 'late';
      batch: number;
      tau: number;
    } & EmulatedTimeline)
  /** bytes_sent: what reached the socket for the learner before it went missing (0: nothing) */
  | { type: 'missing'; scheme: SchemeName; cycle: number; learner: number; reason: string; bytes_sent: number }
  /** the averaged model had a non-finite loss: the previous one was kept */
  | { type: 'diverged'; scheme: SchemeName; cycle: number }
  | {
      type: 'cycle-done';
      scheme: SchemeName;
      cycle: number;
      cycles: number;
      tau: number;
      accuracy: number;
      loss: number;
      late: number;
      missing: { learner: number; reason: string }[];
      /** learners offline this cycle (availability, trace): they sat out, not a failure; absent = 0 */
      unavailable?: number;
      diverged: boolean;
      /** this cycle's own wall time (cycles.csv's wall_time_s is cumulative) */
      wall_s: number;
      /** for progress: cycles this session has completed and still has to run (all schemes) */
      session_done: number;
      session_left: number;
    }
  | { type: 'summary'; schemes: Record<string, SchemeSummary>; targets: number[] }
  | ({ type: 'unfaithful' } & RunSummaryFile['overruns']);

export type RunEvent = HubEvent | ExperimentEvent;

/** Narrow an event list to one type (for tests and consumers). */
export function eventsOf<T extends RunEvent['type']>(
  events: readonly RunEvent[],
  type: T,
): Extract<RunEvent, { type: T }>[] {
  return events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
}
