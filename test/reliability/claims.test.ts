/** Hosts that ask for their ids (--learner-ids auto:N): the claim decision and the claim check of a hello, no sockets. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { judgeClaim, judgeHello, type HandshakeState } from '../../src/orchestrator/transport/handshake.ts';
import {
  CLOSE,
  decodeToLearner,
  decodeToOrchestrator,
  encodeMessage,
  PROTOCOL_VERSION,
  type Claim,
  type Hello,
} from '../../src/protocol/messages.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
const claimMsg = (over: Partial<Claim> = {}): Claim => ({
  type: 'claim',
  protocol: PROTOCOL_VERSION,
  token: 'secret',
  count: 2,
  ...over,
});
const hello = (over: Partial<Hello> = {}): Hello => ({
  type: 'hello',
  protocol: PROTOCOL_VERSION,
  token: 'secret',
  learner_id: 1,
  profile: { f_hz: 1e9, rate_bps: 1e8 },
  ...over,
});

/** K = 8; ids 0-1 held by claim "a", 3 connected by a learner with a fixed id. */
const claims = new Map([
  [0, 'a'],
  [1, 'a'],
]);
const state = (over: Partial<HandshakeState> = {}): HandshakeState => ({
  closing: false,
  tokenDigest: digest('secret'),
  K: 8,
  isConnected: (id) => id === 3 || claims.has(id),
  claimOf: (id) => claims.get(id),
  ...over,
});

describe('judgeClaim', () => {
  it('grants the lowest ids neither claimed nor connected', () => {
    expect(judgeClaim(claimMsg(), digest, state())).toEqual({ accept: true, ids: [2, 4] });
    expect(judgeClaim(claimMsg({ count: 4 }), digest, state())).toEqual({ accept: true, ids: [2, 4, 5, 6] });
    // Ids whose claim ended and whose learners left are granted again.
    expect(judgeClaim(claimMsg(), digest, state({ claimOf: () => undefined, isConnected: () => false }))).toEqual({
      accept: true,
      ids: [0, 1],
    });
  });

  it('refuses more ids than are free, saying how many are', () => {
    const d = judgeClaim(claimMsg({ count: 6 }), digest, state());
    expect(d.accept).toBe(false);
    if (!d.accept) {
      expect(d.close).toBe(CLOSE.tooManyIds);
      expect(d.detail).toBe(
        'asked for 6 ids of K = 8; only 5 are free (2,4-7): the others are claimed by running hosts or connected',
      );
    }
    const none = judgeClaim(claimMsg({ count: 1 }), digest, state({ isConnected: () => true }));
    expect(none.accept ? '' : none.detail).toMatch(/; none is free:/);
  });

  it('judges shutdown, token and version first, as a hello', () => {
    const code = (d: ReturnType<typeof judgeClaim>) => (d.accept ? 'accepted' : `${d.close.code} ${d.counts}`);
    expect(code(judgeClaim(claimMsg(), digest, state({ closing: true })))).toBe(`${CLOSE.shutdown.code} null`);
    expect(code(judgeClaim(claimMsg({ token: 'guess', count: 99 }), digest, state()))).toBe(
      `${CLOSE.authFailed.code} authFailures`,
    );
    expect(code(judgeClaim(claimMsg({ protocol: PROTOCOL_VERSION - 1 }), digest, state()))).toBe(
      `${CLOSE.badVersion.code} handshakeFailures`,
    );
  });
});

describe('a hello for a claimed id', () => {
  const free = state({ isConnected: () => false });
  it('is accepted only when it names the claim that holds the id', () => {
    expect(judgeHello(hello({ learner_id: 1, claim: 'a' }), digest, free)).toMatchObject({ accept: true });
    const other = judgeHello(hello({ learner_id: 1, claim: 'b' }), digest, free);
    expect(other.accept ? '' : `${other.close.code} ${other.detail}`).toBe(
      `${CLOSE.notClaimed.code} id 1 is held by another host's claim`,
    );
    const fixed = judgeHello(hello({ learner_id: 1 }), digest, free);
    expect(fixed.accept ? '' : fixed.close.code).toBe(CLOSE.notClaimed.code);
  });

  it('naming a claim that no longer holds the id is refused; a hello without a claim for an unclaimed id is as before', () => {
    const stale = judgeHello(hello({ learner_id: 5, claim: 'a' }), digest, free);
    expect(stale.accept ? '' : `${stale.close.code} ${stale.detail}`).toBe(
      `${CLOSE.notClaimed.code} id 5 is held by no claim (its host's claim ended)`,
    );
    expect(judgeHello(hello({ learner_id: 5 }), digest, free)).toMatchObject({ accept: true });
  });
});

describe('claim and grant on the wire', () => {
  it('round-trip, and a claim without a token is an authentication failure', () => {
    expect(decodeToOrchestrator(encodeMessage(claimMsg({ pid: 7 })), 10)).toEqual(claimMsg({ pid: 7 }));
    expect(() => decodeToOrchestrator(encodeMessage(claimMsg({ token: '' })), 10)).toThrow(
      expect.objectContaining({ code: 'auth_failed' }),
    );
    expect(() => decodeToOrchestrator(encodeMessage(claimMsg({ count: 0 })), 10)).toThrow(/count/);
    expect(decodeToOrchestrator(encodeMessage(hello({ claim: 'a' })), 10)).toMatchObject({ claim: 'a' });
    // A grant comes before any welcome.
    expect(decodeToLearner(encodeMessage({ type: 'grant', claim: 'c', ids: '0-3,8' }), null)).toEqual({
      type: 'grant',
      claim: 'c',
      ids: '0-3,8',
    });
    expect(() => decodeToLearner(encodeMessage({ type: 'grant', claim: 'c', ids: 'all' }), null)).toThrow(/id ranges/);
  });
});
