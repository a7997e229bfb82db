/**
 * Liveness on the orchestrator side: the heartbeat drops a silent learner (failing its task) but
 * not a healthy one when the hub itself was stalled; a dropped learner rejoins with its id; the
 * learner processes are stopped even when frozen. Plus peer text never forges log lines.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PIXELS_PER_IMAGE } from '../../../src/data/format.ts';
import { learnerEntryArgs } from '../../../src/orchestrator/fleet/learner-entry.ts';
import { hostBlocks, LearnerHosts } from '../../../src/orchestrator/fleet/spawn.ts';
import { PROJECT_ROOT } from '../../../src/util/project-root.ts';
import { PARAM_COUNT } from '../../../src/nn/mlp.ts';
import { decodeToLearner, encodeMessage, type Task } from '../../../src/protocol/messages.ts';
import {
  helloFrame,
  hubSettings,
  isAlive,
  RawClient,
  startHub,
  startLearnerCli,
  tmpDir,
  waitUntil,
} from '../../reliability/helpers.ts';

const TOKEN = 'right-token';

function smallTask(id: string, P: number): Task {
  return {
    type: 'task',
    task_id: id,
    cycle: 1,
    scheme: 'eta',
    tau: 1,
    samples: 2,
    seed: 1,
    f_hz: 1e9,
    rate_bps: 1e8,
    source: 'batch',
    weights: new Float32Array(P),
    images: new Uint8Array(2 * PIXELS_PER_IMAGE),
    labels: Uint8Array.from([1, 2]),
  };
}

async function joinAs(url: string, id: number, opts: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
  await new Promise((r) => ws.once('open', r));
  ws.send(helloFrame(TOKEN, id));
  await new Promise<void>((resolve) =>
    ws.once('message', (d: Buffer) => (expect(decodeToLearner(d, null).type).toBe('welcome'), resolve())),
  );
  return ws;
}

/** Resolves after `n` more pings reach `ws` (ws answers each with a pong by itself). */
const pings = (ws: WebSocket, n: number) =>
  new Promise<void>((resolve) => {
    let left = n;
    const count = () => --left === 0 && (ws.off('ping', count), resolve());
    ws.on('ping', count);
  });

describe('heartbeat', () => {
  it('drops a learner that stops answering pings, and its running task becomes missing', async () => {
    const { hub, url, log } = await startHub({ heartbeatMs: 100 });
    try {
      const silent = await joinAs(url, 0, { autoPong: false });
      const t0 = Date.now();
      const outcome = await hub.runTask(0, smallTask('t', 1000), 30_000);
      expect(outcome).toMatchObject({
        status: 'missing',
        reason: expect.stringMatching(/^missed heartbeat \(silent for 2 beats\)/),
      });
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(hub.stats.heartbeatTimeouts).toBe(1);
      expect(hub.isConnected(0)).toBe(false);
      expect(log.lines.some((l) => /^learner 0 missed its heartbeat/.test(l))).toBe(true);
      silent.terminate();
    } finally {
      await hub.close();
    }
  });

  it('keeps a healthy learner when the hub itself was stalled longer than several beats', async () => {
    const { hub, url } = await startHub({ heartbeatMs: 100 });
    try {
      const healthy = await joinAs(url, 1);
      await pings(healthy, 2); // a few normal beats
      const until = Date.now() + 700;
      while (Date.now() < until); // a long synchronous stall (an evaluation, a loaded host)
      await pings(healthy, 3); // the beats after it: a drop would have come by the second
      expect(hub.isConnected(1)).toBe(true);
      expect(hub.stats.heartbeatTimeouts).toBe(0);
      healthy.close();
    } finally {
      await hub.close();
    }
  });
});

describe('peer text in the log', () => {
  it('is kept on one line', async () => {
    const { hub, url, log } = await startHub();
    try {
      const c = await RawClient.connect(url);
      c.send(helloFrame(TOKEN, 2));
      await c.next(() => true);
      c.send(encodeMessage({ type: 'error', code: 'x', message: 'fine\nlearner 0 joined from 10.0.0.1:1 (pid 1)' }));
      await waitUntil(() => log.lines.some((l) => l.startsWith('learner 2 reports')), 2000, 'the report line');
      const line = log.lines.find((l) => l.startsWith('learner 2 reports'))!;
      expect(line).toBe('learner 2 reports x: fine\\x0alearner 0 joined from 10.0.0.1:1 (pid 1)');
      expect(log.lines.filter((l) => l.startsWith('learner 0 joined'))).toEqual([]);
      c.close();
    } finally {
      await hub.close();
    }
  });
});

describe('a learner dropped by the orchestrator', () => {
  it('(hub.disconnect) reconnects with its id through the CLI and trains again', async () => {
    const { hub, url, log } = await startHub({ settings: hubSettings(PARAM_COUNT, 8) });
    const learner = startLearnerCli(
      ['--connect', url, '--learner-id', '0', '--f-hz', '1e9', '--rate-bps', '1e8'],
      TOKEN,
    );
    try {
      expect(await hub.waitFor([0], 30_000)).toEqual([]);
      hub.disconnect(0);
      await waitUntil(() => !hub.isConnected(0), 5000, 'the drop');
      expect(await hub.waitFor([0], 30_000)).toEqual([]);
      expect(log.lines.filter((l) => /^learner 0 joined/.test(l))).toHaveLength(2);
      const outcome = await hub.runTask(0, smallTask('after', PARAM_COUNT), 30_000);
      expect(outcome.status).toBe('ok');
    } finally {
      await hub.close();
    }
    const exit = await learner.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toMatch(/connection ended \(4007 orchestrator shutting down\); retrying/);
  });
});

describe('LearnerHosts', () => {
  it('deals K learners round-robin to the hosts, as equal as can be', () => {
    expect(hostBlocks(5, 2)).toEqual([
      [0, 2, 4],
      [1, 3],
    ]);
    expect(hostBlocks(3, 3)).toEqual([[0], [1], [2]]);
    expect(hostBlocks(2, 8)).toEqual([[0], [1]]); // never an empty host
    const blocks = hostBlocks(1000, 3);
    expect(blocks.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(blocks.map((b) => b.length)).toEqual([334, 333, 333]);
  });

  it('stops hosts that are frozen (SIGSTOP) within one grace period, and kill() waits for the exit', async () => {
    const logs: string[] = [];
    // Nothing listens on port 9: the learners keep retrying until told to stop.
    const entry = await learnerEntryArgs(PROJECT_ROOT);
    const dir = tmpDir('spawn');
    const processes = new LearnerHosts({
      entry,
      url: 'ws://127.0.0.1:9',
      token: TOKEN,
      logDir: dir,
      log: (l) => logs.push(l),
      blocks: [[0, 1, 2], [3]],
    });
    processes.spawn(0);
    processes.spawn(1);
    expect(processes.logFile(0)).toBe(join(dir, 'host-0-of-2.log'));
    expect(processes.logFile(1)).toBe(join(dir, 'learner-3.log'));
    expect(processes.hostOf(2)).toBe(0);
    expect(processes.hostOf(3)).toBe(1);
    const [pid0, pid1] = [processes.pid(0)!, processes.pid(1)!];
    expect(processes.allPids().sort()).toEqual([pid0, pid1].sort());
    const tried = (host: number) =>
      existsSync(processes.logFile(host)) && readFileSync(processes.logFile(host), 'utf8').includes('cannot connect');
    await waitUntil(() => tried(0) && tried(1), 30_000, 'both hosts to start and try to connect'); // started up

    await processes.kill(1);
    expect(processes.isRunning(1)).toBe(false);
    expect(isAlive(pid1)).toBe(false);
    expect(logs).toContain('learner process 3 killed by SIGKILL');

    process.kill(pid0, 'SIGSTOP');
    const t0 = Date.now();
    await processes.stopAll(1000);
    const took = Date.now() - t0;
    expect(isAlive(pid0)).toBe(false);
    expect(took).toBeLessThan(1900); // not the 2 × grace a SIGKILL escalation would take
    expect(processes.allPids()).toEqual([]);
  });
});
