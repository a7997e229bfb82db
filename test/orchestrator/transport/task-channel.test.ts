/** One task's life without sockets: its phases, its one end, and the result that comes without compute_done. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ChannelOptions,
  TaskChannel,
  type TaskOutcome,
} from '../../../src/orchestrator/transport/task-channel.ts';
import type { ComputeDone, Result, Task } from '../../../src/protocol/messages.ts';

const task: Task = {
  type: 'task',
  task_id: 't-1',
  cycle: 3,
  scheme: 'optimal',
  tau: 2,
  samples: 10,
  seed: 1,
  f_hz: 1e9,
  rate_bps: 1e8,
  source: 'batch',
  weights: new Float32Array(4),
};

const computeDone: ComputeDone = {
  type: 'compute_done',
  task_id: 't-1',
  train_wall_s: 0.5,
  compute_wall_s: 0.75,
  overrun_s: 0,
};

const result = (over: Partial<Result> = {}): Result => ({
  type: 'result',
  task_id: 't-1',
  cycle: 3,
  samples: 10,
  steps: 2,
  loss: 0.1,
  train_wall_s: 0.25,
  compute_wall_s: 0.5,
  overrun_s: 0.125,
  engine: 'onnx',
  max_rss_kb: 1,
  weights: new Float32Array(4),
  ...over,
});

function channel(over: Partial<ChannelOptions> = {}) {
  const log: string[] = [];
  const ch = new TaskChannel(task, {
    bytesSent: 100,
    timeoutMs: 60_000,
    hold: false,
    sendStart: () => (log.push('start'), true),
    onEnd: () => log.push('end'),
    ...over,
  });
  return { ch, log };
}

afterEach(() => vi.useRealTimers());

describe('task channel', () => {
  it('compute_done then result: ok, with the compute report compute_done gave', async () => {
    const { ch, log } = channel();
    ch.frameSent(0.5);
    expect(ch.receive(computeDone, 0)).toBeNull();
    expect(ch.phase).toBe('computed');
    expect(ch.receive(result(), 200)).toBeNull();
    const o = await ch.handle.outcome;
    expect(o.status).toBe('ok');
    if (o.status !== 'ok') return;
    expect(o.computeDone).toBe(computeDone);
    expect(o.wall.send_s).toBe(0.5);
    expect(o.wall.compute_s).toBe(0.75);
    expect(o.wall.return_s).toBeGreaterThanOrEqual(0);
    expect([o.bytesSent, o.bytesReturned]).toEqual([100, 200]);
    expect([ch.phase, log]).toEqual(['ended', ['end']]);
  });

  it('a result without compute_done stands for it: its own compute report, a return leg of 0', async () => {
    const { ch } = channel();
    expect(ch.receive(result(), 200)).toBeNull();
    const o = await ch.handle.outcome;
    if (o.status !== 'ok') throw new Error(o.status);
    expect(o.computeDone).toEqual({
      type: 'compute_done',
      task_id: 't-1',
      train_wall_s: 0.25,
      compute_wall_s: 0.5,
      overrun_s: 0.125,
    });
    expect(o.wall.return_s).toBe(0);
  });

  it('refuses a second compute_done and a result for other samples; the task runs on', () => {
    const { ch } = channel();
    expect(ch.receive(computeDone, 0)).toBeNull();
    expect(ch.receive(computeDone, 0)?.code).toBe('unexpected');
    expect(ch.receive(result({ samples: 11 }), 200)?.code).toBe('bad_field');
    expect(ch.phase).toBe('computed');
  });

  it('trained lets the compute slot go without ending the task', async () => {
    const { ch } = channel();
    let computed = false;
    void ch.handle.computed.then(() => (computed = true));
    expect(ch.receive({ type: 'trained', task_id: 't-1', train_wall_s: 0.1 }, 0)).toBeNull();
    await Promise.resolve();
    expect([computed, ch.phase]).toEqual([true, 'computing']);
  });

  it('a rejected frame fails the task only once compute_done came (then it is the result)', async () => {
    const { ch } = channel();
    ch.resultRejected('NaN');
    expect(ch.phase).toBe('computing');
    ch.receive(computeDone, 0);
    ch.resultRejected('NaN');
    expect(await ch.handle.outcome).toEqual({ status: 'missing', reason: 'result rejected: NaN', bytesSent: 100 });
  });

  it('ends once: later failures and results change nothing', async () => {
    const { ch, log } = channel();
    ch.fail('left');
    ch.fail('again');
    ch.sendFailed(new Error('gone'));
    expect(await ch.handle.outcome).toEqual({ status: 'missing', reason: 'left', bytesSent: 100 });
    expect(log).toEqual(['end']);
  });

  it('a held task sends start once, and its timeout runs from then', async () => {
    vi.useFakeTimers();
    const { ch, log } = channel({ hold: true, timeoutMs: 1000 });
    let outcome: TaskOutcome | undefined;
    void ch.handle.outcome.then((o) => (outcome = o));
    await vi.advanceTimersByTimeAsync(5000);
    expect(outcome).toBeUndefined();
    ch.handle.start();
    ch.handle.start();
    expect(log).toEqual(['start']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(outcome).toEqual({ status: 'missing', reason: 'no result within 1 s', bytesSent: 100 });
  });

  it('a start the connection cannot send leaves the task held', () => {
    const { ch, log } = channel({ hold: true, sendStart: () => false });
    ch.handle.start();
    expect(log).toEqual([]);
    expect(ch.phase).toBe('computing');
  });
});
