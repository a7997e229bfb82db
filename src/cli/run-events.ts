/**
 * How `npm run experiment` shows a run's events: one line each, as users have read them all
 * along. Pure: event in, text out (null: the event only feeds the status line).
 */
import type { LearnerProfile } from '../model/devices.ts';
import type { ExperimentEvent, RunEvent } from '../orchestrator/events.ts';
import { PEAK_RSS_MB } from '../orchestrator/fleet/memory.ts';
import { formatSummaryTable } from '../orchestrator/store/summary.ts';
import { formatIdRanges } from '../util/id-ranges.ts';

/** External mode prints this many learner commands in full; the rest follow a pattern (and a file holds all). */
export const COMMANDS_SHOWN = 8;

type Listening = Extract<ExperimentEvent, { type: 'listening' }>;

/** The profile flags a learner announces, exactly as the run expects them (shortest round-trip numbers). */
function profileFlags(l: LearnerProfile): string {
  return `--f-hz ${l.f_hz} ${l.distance_m !== undefined ? `--distance-m ${l.distance_m}` : `--rate-bps ${l.rate_bps}`}`;
}

/** One `npm run learner` command per learner id, for the first reachable address. */
export function learnerCommands(e: Listening, K: number): string[] {
  const url = e.reachable_urls[0] ?? e.url;
  return Array.from({ length: K }, (_, id) => {
    const profile = e.expected_fleet?.[id];
    return `MEL_TOKEN=${e.token} npm run learner -- --connect ${url} --learner-id ${id} ${profile ? profileFlags(profile) : '--f-hz <Hz> --distance-m <m>'}`;
  });
}

/** What external mode prints once it listens: where learners connect and the command for each. */
export function externalInstructions(e: Listening, K: number, commandsFile: string | null): string {
  const commands = learnerCommands(e, K);
  const shown = commands.slice(0, K > COMMANDS_SHOWN + 1 ? COMMANDS_SHOWN : K);
  const lines = [
    `orchestrator listening on ${e.url}` +
      (e.reachable_urls[0] !== e.url ? `; learners connect to ${e.reachable_urls.join(' or ')}` : ''),
    `start each learner (on its machine, in the repository, after npm ci) with:`,
    ...shown.map((c) => `  ${c}`),
  ];
  if (shown.length < K)
    lines.push(
      `  … learners ${shown.length}..${K - 1}: the same with --learner-id <id> and that learner's profile${commandsFile ? ` — all ${K} commands are in ${commandsFile}` : ''}`,
    );
  // A fleet the orchestrator knows can be joined by learner hosts that announce no profiles.
  if (e.expected_fleet)
    lines.push(
      `or start learner hosts, many learners per process with the fleet's profiles (--learner-ids auto:N: granted N free ids), e.g. all ${K} in one:`,
      `  MEL_TOKEN=${e.token} npm run learner -- --connect ${e.reachable_urls[0] ?? e.url} --learner-ids ${K === 1 ? '0' : `0-${K - 1}`}`,
    );
  if (e.url.startsWith('wss:'))
    lines.push(`learners whose system does not trust the certificate add --ca FILE (the CA that signed --tls-cert)`);
  return lines.join('\n');
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Who was missing and why, each reason once: "0-9: training diverged …; 12: disconnected (1006)". */
function missingReasons(missing: { learner: number; reason: string }[]): string {
  const byReason = new Map<string, number[]>();
  for (const m of missing) byReason.set(m.reason, [...(byReason.get(m.reason) ?? []), m.learner]);
  return [...byReason].map(([reason, ids]) => `${formatIdRanges(ids)}: ${reason}`).join('; ');
}

function cycleLine(e: Extract<ExperimentEvent, { type: 'cycle-done' }>): string {
  const why = e.missing.length ? ` (${missingReasons(e.missing)})` : '';
  return (
    `${e.scheme.padEnd(10)} cycle ${String(e.cycle).padStart(3)}/${e.cycles}  τ=${e.tau}  accuracy ${(100 * e.accuracy).toFixed(2)} %` +
    `  loss ${e.loss.toFixed(4)}  late ${e.late}  missing ${e.missing.length}${why}${e.unavailable ? `  offline ${e.unavailable}` : ''}  cycle wall ${e.wall_s.toFixed(1)} s` +
    (e.diverged ? '  DIVERGED: the averaged model had a non-finite loss; the previous model was kept' : '')
  );
}

/** Join lines shown before a run's set-up ends; beyond them (K = 1000 is 1000 lines) one count says the rest. */
export const JOINS_SHOWN = 8;

/**
 * formatRunEvent for one run's console: the same lines, except that joins during set-up beyond
 * JOINS_SHOWN are counted and summed up in one line when set-up ends (rejoins later still show).
 */
export function runEventLines(): (e: RunEvent) => string | null {
  let joins = 0;
  let setUp = false;
  return (e) => {
    if (e.type === 'joined' && !setUp && ++joins > JOINS_SHOWN) return null;
    if (e.type === 'setup-done' && !setUp) {
      setUp = true;
      const text = formatRunEvent(e);
      return joins > JOINS_SHOWN
        ? `… and ${joins - JOINS_SHOWN} more learners joined (${joins} in all)${text ? '\n' + text : ''}`
        : text;
    }
    return formatRunEvent(e);
  };
}

/** The real clock did not keep the emulated timeline: what happened, in plain words, and what to change. */
function unfaithfulText(e: Extract<ExperimentEvent, { type: 'unfaithful' }>): string {
  const what: string[] = [];
  if (e.learner_cycles > 0)
    what.push(
      `${plural(e.learner_cycles, 'learner-cycle')} needed more wall time to train than emulated compute time × time scale ` +
        `(${e.total_s.toFixed(2)} s too long in all, waiting for a free compute slot included)`,
    );
  if (e.off_schedule_learner_cycles > 0)
    what.push(
      `${plural(e.off_schedule_learner_cycles, 'learner-cycle')} had a transfer or training end late (up to ${e.worst_phase_lag_s.toFixed(2)} s; allowed: ${e.tolerance})`,
    );
  return (
    `WARNING: the real clock fell behind the emulated timeline: ${what.join(', and ')}. ` +
    'learners.csv still holds the emulated times; wall_phases.csv the measured ones. ' +
    'To keep up, give every emulated second more wall time (a larger --time-scale), or let fewer learners wait for a slot (--compute-slots, a smaller --K).'
  );
}

export function formatRunEvent(e: RunEvent): string | null {
  switch (e.type) {
    // ---- the hub ----
    case 'joined':
    case 'left':
    case 'heartbeat-missed':
    case 'refused':
    case 'claimed':
    case 'claim-ended':
    case 'cleartext':
    case 'learner-error':
      return hubEventText(e);
    // ---- the experiment ----
    case 'listening':
      return `run folder: ${e.out}`;
    case 'lock-taken-over':
      return `took over the lock of a run that ended without releasing it (pid ${e.pid})`;
    case 'extended':
      return `extending the run from ${e.from} to ${e.to} cycles per scheme`;
    case 'complete':
      return `${e.out} is complete (${e.cycles} cycles per scheme); nothing to resume — pass a larger --cycles to extend it`;
    case 'waiting':
      return `waiting for ${plural(e.K, 'learner')} to join ${e.url} ...`;
    case 'not-connected':
      return `learners not connected: ${e.learners.join(', ')} (recorded as missing this cycle)`;
    case 'resuming':
      return `resuming ${e.out}: ${e.after.map((a) => `${a.scheme} after cycle ${a.cycle}`).join(', ')}`;
    case 'setup-done':
      return (
        `set-up took ${e.wall_s.toFixed(1)} s (engine ${e.engine}); ` +
        e.allocations
          .map(
            (a) =>
              `${a.scheme}: τ=${a.tau}${a.tau_max !== undefined ? `..${a.tau_max}` : ''}, d_k ${a.min_batch}..${a.max_batch}${a.tau_relaxed !== undefined ? ` (τ*=${a.tau_relaxed.toFixed(3)})` : ''}`,
          )
          .join('; ')
      );
    case 'memory-tight':
    case 'tau-large':
    case 'identical-allocations':
      return adviceText(e);
    case 'killed':
    case 'host-killed':
    case 'respawned':
    case 'host-respawned':
      return faultText(e);
    case 'cycle-done':
      return cycleLine(e);
    case 'nobody-allocated':
      return `${e.scheme} cycle ${e.cycle}: nobody trains this cycle (${e.reason}); the global model stays as it was`;
    case 'summary':
      return '\n' + formatSummaryTable(e.schemes, e.targets);
    case 'unfaithful':
      return unfaithfulText(e);
    case 'session-start': // the run folder line says where it goes
    case 'session-end': // the closing lines say how it ended
    case 'learner-phase':
    case 'cycle-start':
    case 'task-done':
    case 'missing': // the cycle line lists who was missing and why
    case 'diverged': // … and says when the model diverged
      return null;
  }
}

/** Who came, who went, who was turned away. */
function hubEventText(
  e: Extract<
    RunEvent,
    {
      type:
        | 'joined'
        | 'left'
        | 'heartbeat-missed'
        | 'refused'
        | 'claimed'
        | 'claim-ended'
        | 'cleartext'
        | 'learner-error';
    }
  >,
): string {
  switch (e.type) {
    case 'joined':
      return `learner ${e.learner} joined from ${e.remote}${e.pid ? ` (pid ${e.pid})` : ''}`;
    case 'left':
      return `learner ${e.learner} ${e.reason}`;
    case 'heartbeat-missed':
      return `learner ${e.learner} missed its heartbeat (silent for ${e.beats} beats of ${e.heartbeat_ms} ms): dropping the connection`;
    case 'refused':
      return `refused ${e.remote}: ${e.reason}${e.detail ? ` (${e.detail})` : ''}`;
    case 'claimed':
      return `host at ${e.remote}${e.pid ? ` (pid ${e.pid})` : ''} claimed learner ids ${e.ids}`;
    case 'claim-ended':
      return `the claim on learner ids ${e.ids} ended (${e.reason}): they are free for the next host that asks`;
    case 'cleartext':
      return (
        `warning: listening on ${e.host} without TLS: the run token and every model's weights travel in clear text; ` +
        `give --tls-cert FILE --tls-key FILE to serve wss://`
      );
    case 'learner-error':
      return `learner ${e.learner} reports ${e.code}: ${e.message}`;
  }
}

/** What the user may want to change before trusting the run. */
function adviceText(e: Extract<RunEvent, { type: 'memory-tight' | 'tau-large' | 'identical-allocations' }>): string {
  switch (e.type) {
    case 'memory-tight':
      return (
        `warning: memory is tight: the run needs about ${e.need_mb} MB (${PEAK_RSS_MB.learner_process} MB per learner process + ${PEAK_RSS_MB.orchestrator} MB), ` +
        `${e.available_mb} MB are available (${e.source}); if the machine starts swapping or processes get killed, lower --K`
      );
    case 'tau-large':
      return (
        `warning: ${e.scheme} gives τ = ${e.tau} local iterations per cycle (more than ${e.threshold}) on batches of ${e.min_batch}+ samples: ` +
        `each learner over-trains its small batch and drifts from the others, which can make adaptive allocation lose to ETA; ` +
        `cap it with --tau-max (e.g. --tau-max ${e.threshold}) or raise --train-samples`
      );
    case 'identical-allocations':
      return e.groups
        .map(
          (g, i) =>
            `note: ${g.join(' and ')} get identical allocations (the same d_k and τ for every learner)` +
            (e.by_cap[i] ? ` because --tau-max ${e.tau_max} caps their τ` : '') +
            `: they train identically, so their results are the same${e.by_cap[i] ? `; raise --tau-max to compare them` : ''}`,
        )
        .join('\n');
  }
}

/** Injected faults and the restarts that heal them. */
function faultText(e: Extract<RunEvent, { type: 'killed' | 'host-killed' | 'respawned' | 'host-respawned' }>): string {
  switch (e.type) {
    case 'killed':
      if (e.pid === null) return `--fail ${e.learner}@${e.cycle}: learner ${e.learner} is external; cannot kill it`;
      return e.how === 'process'
        ? `fault injection: killing learner ${e.learner} (pid ${e.pid}) in ${e.scheme} cycle ${e.cycle}`
        : `fault injection: cutting learner ${e.learner}'s connection (its host, pid ${e.pid}, keeps running) in ${e.scheme} cycle ${e.cycle}`;
    case 'host-killed':
      return e.pid === null
        ? `--fail-host ${e.host}@${e.cycle}: host ${e.host} is not running; nothing to kill`
        : `fault injection: killing learner host ${e.host} (learners ${e.learners}, pid ${e.pid}) in ${e.scheme} cycle ${e.cycle}`;
    case 'respawned':
      if (e.stopped)
        return `learner ${e.learner} missed a cycle and its process${e.pid ? ` (pid ${e.pid})` : ''} is stopped (SIGSTOP), so it cannot rejoin: killed it and started a new one`;
      return e.how === 'process'
        ? `learner ${e.learner} missed ${e.missed_cycles} cycles in a row while its process${e.pid ? ` (pid ${e.pid})` : ''} still ran: killed it and started a new one`
        : `learner ${e.learner} missed ${e.missed_cycles} cycles in a row while its host${e.pid ? ` (pid ${e.pid})` : ''} still ran: cut its connection so it rejoins`;
    case 'host-respawned':
      if (e.stopped)
        return `learner host ${e.host} (learners ${e.learners}${e.pid ? `, pid ${e.pid}` : ''}) is stopped (SIGSTOP) and its learners missed a cycle, so none can rejoin: killed it and started a new one`;
      return `every learner of host ${e.host} (learners ${e.learners}) missed cycles (up to ${e.missed_cycles} in a row) while it still ran${e.pid ? ` (pid ${e.pid})` : ''}: killed it and started a new one`;
  }
}
