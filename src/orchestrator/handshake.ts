/**
 * Whether a hello gets in: a pure decision on (hello, hub state), so every refusal is tested
 * without sockets. Policy the hub does not own (is this profile usable in this run?) comes in as
 * a hook, as ws takes `verifyClient`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { LearnerSpec } from '../model/devices.ts';
import { CLOSE, PROTOCOL_VERSION, type ToOrchestrator } from '../protocol/messages.ts';

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
}

export type CloseReason = (typeof CLOSE)[keyof typeof CLOSE];

/** accept (with the learner's profile), or refuse with a close code, a detail for the log, and which counter it counts in */
export type HandshakeDecision =
  | { accept: true; profile: LearnerSpec }
  | { accept: false; close: CloseReason; detail: string; counts: 'authFailures' | 'handshakeFailures' | null };

export function judgeHello(message: ToOrchestrator, tokenDigest: (token: string) => Buffer, state: HandshakeState): HandshakeDecision {
  const refuse = (close: CloseReason, detail: string, counts: 'authFailures' | 'handshakeFailures' | null = 'handshakeFailures') =>
    ({ accept: false, close, detail, counts }) as const;
  if (state.closing) return refuse(CLOSE.shutdown, 'the run is over', null);
  if (message.type !== 'hello') return refuse(CLOSE.badHandshake, `got "${message.type}"`);
  if (!timingSafeEqual(tokenDigest(message.token), state.tokenDigest)) return refuse(CLOSE.authFailed, `learner id ${message.learner_id}`, 'authFailures');
  if (message.protocol !== PROTOCOL_VERSION) return refuse(CLOSE.badVersion, `learner speaks ${message.protocol}`);
  if (message.learner_id >= state.K) return refuse(CLOSE.badId, `id ${message.learner_id}, K = ${state.K}`);
  if (state.isConnected(message.learner_id)) return refuse(CLOSE.idInUse, `id ${message.learner_id}`);
  const profile = message.profile ?? state.fleetProfile?.(message.learner_id);
  if (!profile) return refuse(CLOSE.badProfile, `learner ${message.learner_id}: its hello names no profile and this run has no fleet to take one from`);
  const problem = state.checkProfile?.(profile, message.learner_id) ?? null;
  if (problem !== null) return refuse(CLOSE.badProfile, `learner ${message.learner_id}: ${problem}`);
  return { accept: true, profile };
}
