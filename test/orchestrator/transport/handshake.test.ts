/** The handshake decision on its own: every way in and every refusal, no sockets. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { judgeHello, type HandshakeState } from '../../../src/orchestrator/transport/handshake.ts';
import { CLOSE, PROTOCOL_VERSION, type Hello } from '../../../src/protocol/messages.ts';
import { generateFleet, specProblem } from '../../../src/model/devices.ts';
import { PAPER_PRESET } from '../../../src/model/params.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
const hello = (over: Partial<Hello> = {}): Hello => ({
  type: 'hello',
  protocol: PROTOCOL_VERSION,
  token: 'secret',
  learner_id: 1,
  profile: { f_hz: 1e9, rate_bps: 1e8 },
  ...over,
});
const state = (over: Partial<HandshakeState> = {}): HandshakeState => ({
  closing: false,
  tokenDigest: digest('secret'),
  K: 4,
  isConnected: (id) => id === 2,
  checkProfile: (spec) => specProblem(spec),
  ...over,
});
const refusal = (h: Parameters<typeof judgeHello>[0], s = state()) => {
  const d = judgeHello(h, digest, s);
  return d.accept ? 'accepted' : `${d.close.code} ${d.counts}`;
};

describe('judgeHello', () => {
  it('accepts a hello with the token, the version, a free id in range and a usable profile', () => {
    expect(judgeHello(hello(), digest, state())).toEqual({ accept: true, profile: { f_hz: 1e9, rate_bps: 1e8 } });
    expect(judgeHello(hello({ learner_id: 0, profile: { f_hz: 7e8, distance_m: 31 } }), digest, state())).toEqual({
      accept: true,
      profile: { f_hz: 7e8, distance_m: 31 },
    });
  });

  it("a hello without a profile gets its id's fleet entry (learner hosts), held to the same check; no fleet: refused", () => {
    const fleetProfile = (id: number) => (id < 4 ? { f_hz: 5e8 + id, rate_bps: 2e8 } : undefined);
    expect(judgeHello(hello({ profile: undefined }), digest, state({ fleetProfile }))).toEqual({
      accept: true,
      profile: { f_hz: 5e8 + 1, rate_bps: 2e8 },
    });
    // A profile the learner names wins over the fleet's (the --learners file check is checkProfile's).
    expect(judgeHello(hello({ profile: { f_hz: 7e8, rate_bps: 1e8 } }), digest, state({ fleetProfile }))).toMatchObject(
      { profile: { f_hz: 7e8 } },
    );
    const d = judgeHello(hello({ profile: undefined }), digest, state());
    expect(d.accept ? 'accepted' : `${d.close.code} ${d.detail}`).toBe(
      `${CLOSE.badProfile.code} learner 1: its hello names no profile and this run has no fleet to take one from`,
    );
    expect(refusal(hello({ profile: undefined }), state({ fleetProfile: () => ({ f_hz: 1e300, rate_bps: 1 }) }))).toBe(
      `${CLOSE.badProfile.code} handshakeFailures`,
    );
  });

  it('refuses, in this order: shutting down, not a hello, wrong token, wrong version, id out of range, id in use, unusable profile', () => {
    expect(refusal(hello(), state({ closing: true }))).toBe(`${CLOSE.shutdown.code} null`);
    expect(refusal({ type: 'error', code: 'x', message: 'y' })).toBe(`${CLOSE.badHandshake.code} handshakeFailures`);
    // The token is judged before anything else the hello says.
    expect(refusal(hello({ token: 'guess', protocol: 99, learner_id: 99 }))).toBe(
      `${CLOSE.authFailed.code} authFailures`,
    );
    expect(refusal(hello({ protocol: PROTOCOL_VERSION + 1 }))).toBe(`${CLOSE.badVersion.code} handshakeFailures`);
    expect(refusal(hello({ learner_id: 4 }))).toBe(`${CLOSE.badId.code} handshakeFailures`);
    expect(refusal(hello({ learner_id: 2 }))).toBe(`${CLOSE.idInUse.code} handshakeFailures`);
    expect(refusal(hello({ profile: { f_hz: 1e300, rate_bps: 1e8 } }))).toBe(
      `${CLOSE.badProfile.code} handshakeFailures`,
    );
    expect(refusal(hello({ profile: { f_hz: 1e9, distance_m: 1e300 } }))).toBe(
      `${CLOSE.badProfile.code} handshakeFailures`,
    );
    expect(refusal(hello({ profile: { f_hz: 1e9 } }))).toBe(`${CLOSE.badProfile.code} handshakeFailures`);
  });

  it('names the learner and the problem in the refusal detail', () => {
    const d = judgeHello(hello({ learner_id: 3, profile: { f_hz: 1e300, rate_bps: 1e8 } }), digest, state());
    expect(d.accept).toBe(false);
    if (!d.accept)
      expect(d.detail).toMatch(/^learner 3: f_hz must be a finite number > 0 and <= 10000000000000, got 1e\+300$/);
  });

  it('without a profile check, any profile the protocol decoded is accepted (the hook is the policy)', () => {
    expect(
      judgeHello(hello({ profile: { f_hz: 1e300, rate_bps: 1e8 } }), digest, state({ checkProfile: undefined })),
    ).toMatchObject({ accept: true });
  });
});

describe('specProblem', () => {
  it('accepts every learner of a Table I fleet and refuses absurd or missing values', () => {
    for (const l of generateFleet(20, 1, PAPER_PRESET))
      expect(specProblem({ f_hz: l.f_hz, distance_m: l.distance_m })).toBeNull();
    expect(specProblem({ f_hz: 0, rate_bps: 1 })).toMatch(/f_hz/);
    expect(specProblem({ f_hz: 1e9, rate_bps: Infinity })).toMatch(/rate_bps/);
    expect(specProblem({ f_hz: 1e9, distance_m: -1 })).toMatch(/distance_m/);
    expect(specProblem({ f_hz: 1e9, distance_m: 1e8 })).toMatch(/distance_m/);
  });
});
