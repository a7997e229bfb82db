/**
 * A learner's life across sessions: join, train until the run ends, and rejoin after a lost
 * connection within a retry window. A learner host runs many of these at once in one process,
 * sharing one engine and the global models it has received: each learner keeps its own WebSocket
 * session (auth, heartbeat, frame checks, link pacing, faults), so one learner's failure never ends
 * its siblings'.
 */
import type { LearnerSpec } from '../model/devices.ts';
import { createEngine, type Engine, type EngineChoice } from '../nn/mlp.ts';
import { CLOSE, FATAL_CLOSE_CODES } from '../protocol/messages.ts';
import { formatIdRanges } from '../util/id-ranges.ts';
import { runLearnerSession, type SessionEnd } from './client.ts';
import type { TlsTrust } from './tls.ts';
import type { ModelCache } from './model-cache.ts';

export interface ServeOptions {
  url: string;
  token: string;
  /** keep trying to (re)connect this long after a lost connection, s */
  retryS: number;
  /** the engine for a run's choice; a host passes one shared by all its learners */
  engineFor: (choice: EngineChoice) => Promise<Engine>;
  /** the global models this process holds, shared by all its learners */
  models: ModelCache;
  /** routine news of one learner */
  log: (id: number, line: string) => void;
  /** problems worth a line even with --quiet */
  warn: (id: number, line: string) => void;
  /** a problem of the whole process (its connection cannot work): said once, not once per learner */
  warnHost: (line: string) => void;
  /** how a wss:// orchestrator is trusted */
  tls?: TlsTrust;
  /** the ids were granted to this claim (--learner-ids auto:N): every hello names it */
  claim?: string;
}

/** Exit status of one learner: the run ended (0), the retry window closed (1), a refusal retrying cannot fix (2). */
export type ServeCode = 0 | 1 | 2;

/** One engine per choice for the whole process: a learner that rejoins, and every learner of a host, use the same. */
export function sharedEngines(log: (line: string) => void): (choice: EngineChoice) => Promise<Engine> {
  const engines = new Map<string, Promise<Engine>>();
  return (choice) => {
    const shape = choice.input ? `${choice.input.channels}x${choice.input.height}x${choice.input.width}` : '';
    const key = `${choice.engine}/${choice.backend}/${choice.model ?? ''}/${shape}`;
    if (!engines.has(key)) engines.set(key, createEngine(choice, log, ['train']));
    return engines.get(key)!;
  };
}

/**
 * Sessions of learner `id` until the run ends. `profile` undefined: the hello names none and the
 * orchestrator gives this id its fleet's entry.
 */
export async function serveLearner(
  id: number,
  profile: LearnerSpec | undefined,
  o: ServeOptions,
  /** called once: when the first session joined, or with how it ended */
  onFirstSession?: (first: 'joined' | SessionEnd) => void,
): Promise<ServeCode> {
  const log = (line: string) => o.log(id, line);
  let first = onFirstSession;
  const settle = (outcome: 'joined' | SessionEnd) => {
    first?.(outcome);
    first = undefined;
  };
  // The retry window restarts whenever a session was joined: it bounds one outage, not the whole run.
  let deadline = Date.now() + o.retryS * 1000;
  let attempt = 0;
  for (;;) {
    const end = await runLearnerSession({
      url: o.url,
      token: o.token,
      learnerId: id,
      profile,
      log,
      engineFor: o.engineFor,
      models: o.models,
      tls: o.tls,
      claim: o.claim,
      onJoined: () => settle('joined'),
    });
    settle(end);
    if (end.kind === 'bye') {
      log(`run finished after ${end.tasksDone} task(s) in this session`);
      return 0;
    }
    if (end.kind === 'rejected') {
      o.warnHost(`error: cannot connect to ${o.url}: ${end.reason}`);
      return 2;
    }
    const detail = end.kind === 'unreachable' ? end.reason : `${end.code}${end.reason ? ' ' + end.reason : ''}`;
    // Wrong token, version or id will not change by retrying. "id in use" (4003) will: after a
    // dropped connection the orchestrator may not have noticed yet that our old one is gone.
    if (end.kind === 'refused' && FATAL_CLOSE_CODES.has(end.code)) {
      o.warn(id, `error: the orchestrator refused this learner: ${detail}`);
      return 2;
    }
    if (end.kind === 'lost') {
      deadline = Date.now() + o.retryS * 1000;
      attempt = 0;
    }
    if (Date.now() > deadline) {
      const what =
        end.kind === 'unreachable'
          ? `cannot connect to ${o.url} (${detail}) after trying for ${o.retryS} s`
          : `connection to ${o.url} ended (${detail})`;
      o.warn(id, `error: ${what}; is the orchestrator running and reachable?`);
      return 1;
    }
    attempt++;
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    if (end.kind === 'unreachable') {
      // Say it once; a learner started before its orchestrator is normal.
      if (attempt === 1) o.warn(id, `cannot connect to ${o.url} yet (${detail}); retrying for up to ${left} s`);
    } else log(`connection ended (${detail}); retrying for up to ${left} s (attempt ${attempt})`);
    await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))));
  }
}

/** Learners a host starts at a time: the next ones start once these have joined or been turned away. */
export const START_BATCH = 64;

/**
 * Every learner of a host (ids ascending), started in batches; the worst of their exit statuses.
 * Once the run refuses an id as out of range (id ≥ K), no higher id is started: a host told
 * 0-99999 against K = 20 opens a batch of sessions, not 100 000.
 */
export async function serveHost(
  learners: { id: number; profile?: LearnerSpec }[],
  o: ServeOptions,
): Promise<ServeCode> {
  const said = new Set<string>();
  const warnHost = (line: string) => {
    if (!said.has(line)) o.warnHost(line);
    said.add(line);
  };
  const runs: Promise<ServeCode>[] = [];
  const outOfRange = { lowest: Infinity };
  let started = 0;
  while (started < learners.length && learners[started].id < outOfRange.lowest) {
    const batch = learners.slice(started, started + START_BATCH);
    started += batch.length;
    const firstSessions = batch.map(
      (l) =>
        new Promise<void>((settled) =>
          runs.push(
            serveLearner(l.id, l.profile, { ...o, warnHost }, (first) => {
              if (first !== 'joined' && first.kind === 'refused' && first.code === CLOSE.badId.code)
                outOfRange.lowest = Math.min(outOfRange.lowest, l.id);
              settled();
            }),
          ),
        ),
    );
    await Promise.all(firstSessions);
  }
  const skipped = learners.slice(started).map((l) => l.id);
  if (skipped.length)
    o.warn(
      outOfRange.lowest,
      `error: learners ${formatIdRanges(skipped)} not started: the run refused learner ${outOfRange.lowest} as out of range (its ids are below K)`,
    );
  const codes = await Promise.all(runs);
  return codes.reduce<ServeCode>((worst, c) => (c > worst ? c : worst), skipped.length ? 2 : 0);
}
