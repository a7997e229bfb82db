/**
 * Authentication and handshake refusals on a live LearnerHub over loopback sockets, plus the
 * real learner CLI against a wrong token.
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../../../src/emulation/clock.ts';
import { LearnerHub } from '../../../src/orchestrator/transport/hub.ts';
import { specProblem } from '../../../src/model/devices.ts';
import {
  CLOSE,
  decodeToLearner,
  encodeMessage,
  maxFrameToOrchestrator,
  PROTOCOL_VERSION,
} from '../../../src/protocol/messages.ts';
import {
  helloFrame,
  hubSettings,
  RawClient,
  startHub,
  startLearnerCli,
  type LogCollector,
} from '../../reliability/helpers.ts';

const TOKEN = 'right-token';
const P = 1000;

describe('authentication and handshake', () => {
  let hub: LearnerHub;
  let url: string;
  let log: LogCollector;

  beforeAll(async () => {
    ({ hub, url, log } = await startHub({ token: TOKEN, K: 3, settings: hubSettings(P), handshakeTimeoutMs: 400 }));
  });
  afterAll(() => hub.close());

  /** Resolves when learner `id` leaves the hub after now (the hub's own 'left' event). */
  const nextLeft = (id: number) => {
    const seen = log.events.length;
    return log.whenEvent('left', (e) => e.learner === id && log.events.indexOf(e) >= seen);
  };

  const refusedWith = async (first: Buffer | string) => {
    const c = await RawClient.connect(url);
    c.send(first);
    return c.closed;
  };

  it('binds to loopback: the URL names 127.0.0.1 and no other interface answers', async () => {
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(url).port);
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) await expect(RawClient.connect(`ws://${external.address}:${port}`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('wrong, missing and empty tokens: closed with 4001 and a clear reason, counted and logged', async () => {
    const before = hub.stats.authFailures;
    for (const token of ['wrong-token', undefined, '', TOKEN + ' ']) {
      const closed = await refusedWith(helloFrame(token, 0));
      expect(closed.code).toBe(4001);
      expect(closed.reason).toBe(CLOSE.authFailed.reason);
      expect(closed.reason).toMatch(/authentication failed: wrong or missing token/);
    }
    expect(hub.stats.authFailures - before).toBe(4);
    expect(log.lines.filter((l) => /^refused 127\.0\.0\.1:\d+: authentication failed/.test(l))).toHaveLength(4);
    expect(hub.connectedIds()).toEqual([]);
  });

  it('the token is checked before the version and the id', async () => {
    const closed = await refusedWith(helloFrame('nope', 99, { protocol: 99 }));
    expect(closed.code).toBe(4001);
  });

  it('an absurd profile (f 1e300 Hz, distance 1e300 m) is refused at the handshake with 4009 and the reason, not later by the solver', async () => {
    const strict = await startHub({
      token: TOKEN,
      K: 3,
      settings: hubSettings(P),
      checkProfile: (spec) => specProblem(spec),
    });
    try {
      for (const profile of [
        { f_hz: 1e300, rate_bps: 1e8 },
        { f_hz: 1e9, distance_m: 1e300 },
      ]) {
        const c = await RawClient.connect(strict.url);
        c.send(helloFrame(TOKEN, 0, { profile }));
        const closed = await c.closed;
        expect(closed.code).toBe(CLOSE.badProfile.code);
        expect(closed.reason).toBe(CLOSE.badProfile.reason);
      }
      expect(
        strict.log.lines.filter((l) =>
          /refused .*learner profile unusable in this run \(learner 0: (f_hz|distance_m) must be/.test(l),
        ),
      ).toHaveLength(2);
      expect(strict.hub.connectedIds()).toEqual([]);
    } finally {
      await strict.hub.close();
    }
  });

  it('wrong protocol version → 4002; id out of range → 4005; not a hello → 4004', async () => {
    expect((await refusedWith(helloFrame(TOKEN, 0, { protocol: PROTOCOL_VERSION + 1 }))).code).toBe(
      CLOSE.badVersion.code,
    );
    expect((await refusedWith(helloFrame(TOKEN, 3))).code).toBe(CLOSE.badId.code);
    expect((await refusedWith(helloFrame(TOKEN, 1_000_000))).code).toBe(CLOSE.badId.code);
    const done = encodeMessage({
      type: 'compute_done',
      task_id: 't',
      train_wall_s: 0,
      compute_wall_s: 0,
      overrun_s: 0,
    });
    expect((await refusedWith(done)).code).toBe(CLOSE.badHandshake.code);
    expect((await refusedWith(Buffer.from([1, 2, 3]))).code).toBe(CLOSE.badHandshake.code);
    expect((await refusedWith('{"type":"hello"}')).code).toBe(CLOSE.badHandshake.code); // text frame
    expect(hub.connectedIds()).toEqual([]);
  });

  it('a duplicate id → 4003 while the first connection stays joined', async () => {
    const first = await RawClient.connect(url);
    first.send(helloFrame(TOKEN, 1));
    const welcome = await first.next((f) => decodeToLearner(f.data, null).type === 'welcome');
    expect(decodeToLearner(welcome.data, null)).toMatchObject({ type: 'welcome', learner_id: 1 });
    const second = await refusedWith(helloFrame(TOKEN, 1));
    expect(second).toEqual({ code: CLOSE.idInUse.code, reason: CLOSE.idInUse.reason });
    expect(hub.connectedIds()).toEqual([1]);
    expect(first.open).toBe(true);
    const left = nextLeft(1);
    first.close();
    await left;
    expect(hub.connectedIds()).toEqual([]);
  });

  it('no hello within the handshake timeout → 4006', async () => {
    const c = await RawClient.connect(url);
    const t0 = Date.now();
    const closed = await c.closed;
    expect(closed).toEqual({ code: CLOSE.handshakeTimeout.code, reason: CLOSE.handshakeTimeout.reason });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('a frame over maxPayload is refused (1009) before and after joining, and the hub keeps serving', async () => {
    const tooBig = Buffer.alloc(maxFrameToOrchestrator(P) + 1);
    const stranger = await RawClient.connect(url);
    stranger.send(tooBig);
    expect((await stranger.closed).code).toBe(1009);

    const joined = await RawClient.connect(url);
    joined.send(helloFrame(TOKEN, 2));
    await joined.next(() => true);
    expect(hub.connectedIds()).toEqual([2]);
    const left = nextLeft(2);
    joined.send(tooBig);
    expect((await joined.closed).code).toBe(1009);
    await left;
    expect(hub.connectedIds()).toEqual([]);

    // Still serving: a proper learner joins.
    const after = await RawClient.connect(url);
    after.send(helloFrame(TOKEN, 2));
    const welcome = await after.next(() => true);
    expect(decodeToLearner(welcome.data, null).type).toBe('welcome');
    after.close();
    await after.closed;
  });

  it('a run token must not be empty', () => {
    const opts = {
      host: '127.0.0.1',
      port: 0,
      token: '',
      K: 1,
      settings: hubSettings(P),
      clock: createClock('virtual'),
      heartbeatMs: 1000,
      handshakeTimeoutMs: 1000,
      log: () => {},
    };
    expect(() => new LearnerHub(opts)).toThrow(/token must not be empty/);
  });
});

describe('the learner CLI', () => {
  it('with a wrong token exits 2 with one clear line on stderr', async () => {
    const { hub, url } = await startHub({ token: TOKEN });
    try {
      const run = startLearnerCli(
        ['--connect', url, '--learner-id', '0', '--f-hz', '1e9', '--rate-bps', '1e8'],
        'not-the-token',
      );
      const { code, stderr } = await run.exited;
      expect(code).toBe(2);
      const lines = stderr.trim().split('\n');
      expect(lines).toEqual([
        `[learner 0] error: the orchestrator refused this learner: 4001 ${CLOSE.authFailed.reason}`,
      ]);
      expect(hub.stats.authFailures).toBe(1);
    } finally {
      await hub.close();
    }
  });

  it('without any token exits 2 before connecting', async () => {
    const run = startLearnerCli(
      ['--connect', 'ws://127.0.0.1:9', '--learner-id', '0', '--f-hz', '1e9', '--rate-bps', '1e8'],
      undefined,
    );
    const { code, stderr } = await run.exited;
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([
      'error: --token (or MEL_TOKEN) is required: the orchestrator prints it at start',
    ]);
  });
  it('with no orchestrator there: says once that it cannot connect and retries, then exits 1 naming the address', async () => {
    const run = startLearnerCli(
      ['--connect', 'ws://127.0.0.1:9', '--learner-id', '0', '--f-hz', '1e9', '--rate-bps', '1e8', '--retry-s', '1'],
      'token',
    );
    const { code, stderr } = await run.exited;
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toMatch(
      /^\[learner 0\] cannot connect to ws:\/\/127\.0\.0\.1:9 yet \(connect ECONNREFUSED 127\.0\.0\.1:9\); retrying for up to 1 s$/,
    );
    expect(lines[lines.length - 1]).toMatch(
      /^\[learner 0\] error: cannot connect to ws:\/\/127\.0\.0\.1:9 \(connect ECONNREFUSED .*\) after trying for 1 s; is the orchestrator running and reachable\?$/,
    );
    expect(stderr).not.toMatch(/1006/);
  });
});
