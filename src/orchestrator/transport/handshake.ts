/**
 * Whether a hello gets in: a pure decision on (hello, hub state), so every refusal is tested
 * without sockets. Policy the hub does not own (is this profile usable in this run?) comes in as
 * a hook, as ws takes `verifyClient`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { LearnerSpec } from '../../model/devices.ts';
import { CLOSE, MAX_GRANT_CHARS, PROTOCOL_VERSION, type ToOrchestrator } from '../../protocol/messages.ts';
import { formatIdRanges } from '../../util/id-ranges.ts';

export interface HandshakeState {
  /** the run is over or shutting down */
  closing: boolean;
  /** SHA-256 of the run token (compared in constant time) */
  tokenDigest: Buffer;
  K: number;
  isConnected: (id: number) => boolean;
  /** the run's own test of a learner's profile: a reason to refuse, or null */
  checkProfile?: (spec: LearnerSpec, id: number) => string | null;
  /** the run's fleet entry for an id: the profile of a learner whose hello names none */
  fleetProfile?: (id: number) => LearnerSpec | undefined;
  /** the claim that holds an id (--learner-ids auto:N hosts), if any */
  claimOf?: (id: number) => string | undefined;
}

export type CloseReason = (typeof CLOSE)[keyof typeof CLOSE];

/** accept (with the learner's profile), or refuse with a close code, a detail for the log, and which counter it counts in */
export type HandshakeDecision =
  | { accept: true; profile: LearnerSpec }
  | { accept: false; close: CloseReason; detail: string; counts: 'authFailures' | 'handshakeFailures' | null };

type Refusal = Extract<HandshakeDecision, { accept: false }>;

const refuse = (
  close: CloseReason,
  detail: string,
  counts: 'authFailures' | 'handshakeFailures' | null = 'handshakeFailures',
): Refusal => ({ accept: false, close, detail, counts }) as const;

/** What every first message must pass: the run still admits, the token, the protocol version. */
function judgeEntry(
  message: ToOrchestrator & { type: 'hello' | 'claim' },
  tokenDigest: (token: string) => Buffer,
  state: HandshakeState,
  who: string,
): Refusal | null {
  if (state.closing) return refuse(CLOSE.shutdown, 'the run is over', null);
  if (!timingSafeEqual(tokenDigest(message.token), state.tokenDigest))
    return refuse(CLOSE.authFailed, who, 'authFailures');
  if (message.protocol !== PROTOCOL_VERSION)
    return refuse(CLOSE.badVersion, `${message.type === 'claim' ? 'host' : 'learner'} speaks ${message.protocol}`);
  return null;
}

export function judgeHello(
  message: ToOrchestrator,
  tokenDigest: (token: string) => Buffer,
  state: HandshakeState,
): HandshakeDecision {
  if (state.closing) return refuse(CLOSE.shutdown, 'the run is over', null);
  if (message.type !== 'hello') return refuse(CLOSE.badHandshake, `got "${message.type}"`);
  const entry = judgeEntry(message, tokenDigest, state, `learner id ${message.learner_id}`);
  if (entry) return entry;
  if (message.learner_id >= state.K) return refuse(CLOSE.badId, `id ${message.learner_id}, K = ${state.K}`);
  if (state.isConnected(message.learner_id)) return refuse(CLOSE.idInUse, `id ${message.learner_id}`);
  const holder = state.claimOf?.(message.learner_id);
  if (holder !== message.claim)
    return refuse(
      CLOSE.notClaimed,
      holder === undefined
        ? `id ${message.learner_id} is held by no claim (its host's claim ended)`
        : `id ${message.learner_id} is held by another host's claim`,
    );
  const profile = message.profile ?? state.fleetProfile?.(message.learner_id);
  if (!profile)
    return refuse(
      CLOSE.badProfile,
      `learner ${message.learner_id}: its hello names no profile and this run has no fleet to take one from`,
    );
  const problem = state.checkProfile?.(profile, message.learner_id) ?? null;
  if (problem !== null) return refuse(CLOSE.badProfile, `learner ${message.learner_id}: ${problem}`);
  return { accept: true, profile };
}

export type ClaimDecision = { accept: true; ids: number[] } | Refusal;

/**
 * A host's claim for `count` ids: the lowest ones neither held by another claim nor connected
 * (a learner started with a fixed id keeps it), or a refusal that says how many are free.
 */
export function judgeClaim(
  message: ToOrchestrator & { type: 'claim' },
  tokenDigest: (token: string) => Buffer,
  state: HandshakeState,
): ClaimDecision {
  const entry = judgeEntry(message, tokenDigest, state, `host asking for ${message.count} ids`);
  if (entry) return entry;
  const ids: number[] = [];
  for (let id = 0; id < state.K && ids.length < message.count; id++)
    if (state.claimOf?.(id) === undefined && !state.isConnected(id)) ids.push(id);
  if (ids.length < message.count) {
    const free =
      ids.length === 0
        ? 'none is free'
        : `only ${ids.length} ${ids.length === 1 ? 'is' : 'are'} free (${formatIdRanges(ids)})`;
    return refuse(
      CLOSE.tooManyIds,
      `asked for ${message.count} ids of K = ${state.K}; ${free}: the others are claimed by running hosts or connected`,
      null,
    );
  }
  if (formatIdRanges(ids).length > MAX_GRANT_CHARS)
    return refuse(
      CLOSE.tooManyIds,
      `the ${message.count} lowest free ids are too scattered to grant in one claim; ask for fewer`,
      null,
    );
  return { accept: true, ids };
}
