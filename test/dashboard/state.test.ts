/** The dashboard's picture of a run from its events, and the Prometheus text made of it. */
import { describe, expect, it } from 'vitest';
import { labelsOfPath, labelsOfRunLabel } from '../../src/dashboard/follow.ts';
import { METRICS, prometheusText } from '../../src/dashboard/metrics.ts';
import { DashboardState } from '../../src/dashboard/state.ts';
import type { RunEvent } from '../../src/orchestrator/events.ts';
import { smallConfig } from '../helpers/run-config.ts';

const T0 = Date.UTC(2026, 11, 2, 5, 0, 0);
const config = smallConfig({ K: 2, cycles: 3, schemes: ['optimal', 'eta'] });
const timeline = {
  batch: 10,
  tau: 2,
  t_send_s: 1,
  t_compute_s: 5,
  t_return_s: 1,
  t_total_s: 7,
  bytes_sent: 1000,
  bytes_returned: 400,
};

function cycleDone(scheme: 'optimal' | 'eta', cycle: number, accuracy: number, wall_s: number): RunEvent {
  return {
    type: 'cycle-done',
    scheme,
    cycle,
    cycles: 3,
    tau: 2,
    accuracy,
    loss: 1 - accuracy,
    late: 1,
    missing: [{ learner: 1, reason: 'x' }],
    diverged: false,
    wall_s,
    session_done: cycle,
    session_left: 6 - cycle,
  };
}

/** A run through cycle 2 of optimal, in the middle of cycle 3. */
function feed(state: DashboardState, id = '', labels: Record<string, string> = {}): void {
  const events: RunEvent[] = [
    { type: 'session-start', out: '/o', resume: false, pid: 1, config },
    { type: 'joined', learner: 0, remote: 'r', pid: 2 },
    { type: 'joined', learner: 1, remote: 'r', pid: 3 },
    { type: 'setup-done', wall_s: 1, engine: 'onnx', allocations: [] },
    { type: 'cycle-start', scheme: 'optimal', cycle: 1, cycles: 3, tau: 2, active: 2 },
    { type: 'task-done', scheme: 'optimal', cycle: 1, learner: 0, status: 'ok', ...timeline },
    { type: 'missing', scheme: 'optimal', cycle: 1, learner: 1, reason: 'x', bytes_sent: 1000 },
    cycleDone('optimal', 1, 0.8, 10),
    { type: 'cycle-start', scheme: 'optimal', cycle: 2, cycles: 3, tau: 2, active: 2 },
    cycleDone('optimal', 2, 0.9, 20),
    { type: 'left', learner: 1, reason: 'gone' },
    { type: 'cycle-start', scheme: 'optimal', cycle: 3, cycles: 3, tau: 2, active: 2 },
    { type: 'learner-phase', scheme: 'optimal', cycle: 3, learner: 0, phase: 'receiving' },
    { type: 'learner-phase', scheme: 'optimal', cycle: 3, learner: 1, phase: 'receiving' },
    { type: 'learner-phase', scheme: 'optimal', cycle: 3, learner: 0, phase: 'computing' },
    { type: 'task-done', scheme: 'optimal', cycle: 3, learner: 1, status: 'late', ...timeline },
    // a phase after the result (events of one learner can cross): the result stands
    { type: 'learner-phase', scheme: 'optimal', cycle: 3, learner: 1, phase: 'returning' },
  ];
  events.forEach((e, i) => state.apply(id, e, T0 + i * 1000, labels));
}

describe('dashboard state', () => {
  it('gains a point per cycle, tracks the current cycle learner by learner, and estimates the time left', () => {
    const state = new DashboardState();
    feed(state);
    const s = state.snapshot(T0 + 20_000);
    const run = s.runs[0];
    expect(run.status).toBe('running');
    expect(run.points.optimal.map((p) => [p.cycle, p.accuracy, p.missing])).toEqual([
      [1, 0.8, 1],
      [2, 0.9, 1],
    ]);
    expect(run.cycles_done).toBe(2);
    expect(run.cycles_total).toBe(6);
    expect(run.connected).toBe(1);
    expect(run.totals.optimal).toEqual({ bytes_sent: 3000, bytes_received: 800 });
    expect(run.current).toMatchObject({ scheme: 'optimal', cycle: 3, done: false });
    expect(run.current!.learners.map((l) => [l.learner, l.phase])).toEqual([
      [0, 'computing'],
      [1, 'late'],
    ]);
    expect(run.current!.learners[1]).toMatchObject({ t_send_s: 1, t_compute_s: 5, t_return_s: 1, t_total_s: 7 });
    // 4 cycles left at a mean of 15 s, less the 9 s cycle 3 has run (started at event 11, now is T0 + 20 s)
    expect(run.eta_s).toBeCloseTo(4 * 15 - 9, 9);
    expect(s.progress).toMatchObject({ cycles_done: 2, cycles_total: 6, elapsed_s: 20 });
  });

  it('a session end closes the picture: no ETA left, nobody connected, times stop at the last event', () => {
    const state = new DashboardState();
    feed(state);
    state.apply('', { type: 'session-end', status: 'interrupted' }, T0 + 30_000);
    expect(state.running()).toBe(false);
    const run = state.snapshot(T0 + 99_000, false).runs[0];
    expect(run.status).toBe('interrupted');
    expect(run.connected).toBe(0);
    expect(run.elapsed_s).toBe(30);
    expect(run.current!.done).toBe(true);
  });

  it('a campaign plans its seeds ahead: they show as pending with their cycles', () => {
    const state = new DashboardState();
    state.plan('seed 1', labelsOfRunLabel('seed 1'), 6);
    state.plan('seed 2', labelsOfRunLabel('seed 2'), 6);
    feed(state, 'seed 1', labelsOfRunLabel('seed 1'));
    const s = state.snapshot(T0 + 20_000);
    expect(s.runs.map((r) => [r.id, r.status, r.cycles_total])).toEqual(
      [
        ['seed 1', 'running'],
        ['seed 2', 'pending'],
      ].map(([id, st]) => [id, st, 6]),
    );
    expect(s.progress.cycles_total).toBe(12);
    // seed 2 has no cycle of its own yet: it is estimated at seed 1's mean cycle time
    expect(s.runs[1].eta_s).toBe(6 * 15);
  });

  it('run labels and folder paths give the same metric labels', () => {
    expect(labelsOfRunLabel('')).toEqual({});
    expect(labelsOfRunLabel('seed 3')).toEqual({ seed: '3' });
    expect(labelsOfRunLabel('K=10 T=12 seed 3')).toEqual({ cell: 'K=10 T=12', seed: '3' });
    expect(labelsOfPath('K10-T12/seed-3')).toEqual({ cell: 'K=10 T=12', seed: '3' });
    expect(labelsOfPath('seed-4')).toEqual({ seed: '4' });
  });
});

/** The text format: comment lines are HELP or TYPE, sample lines are name{labels} value. */
const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;

describe('/metrics', () => {
  it('is Prometheus text: HELP and TYPE for every metric, samples labelled by scheme and seed', () => {
    const state = new DashboardState();
    feed(state, 'seed 5', { seed: '5' });
    const text = prometheusText(state.snapshot(T0 + 20_000));
    expect(text.endsWith('\n')).toBe(true);
    for (const line of text.trimEnd().split('\n')) {
      if (line.startsWith('#')) expect(line).toMatch(/^# (HELP|TYPE) mel_[a-z_]+ .+$/);
      else expect(line).toMatch(SAMPLE);
    }
    for (const m of METRICS) {
      expect(text).toContain(`# HELP ${m.name} `);
      expect(text).toContain(`# TYPE ${m.name} ${m.type}`);
      if (m.type === 'counter') expect(m.name.endsWith('_total')).toBe(true);
    }
    expect(text).toContain('mel_cycle{seed="5",scheme="optimal"} 2\n');
    expect(text).toContain('mel_cycle{seed="5",scheme="eta"} 0\n');
    expect(text).toContain('mel_test_accuracy{seed="5",scheme="optimal"} 0.9\n');
    expect(text).not.toContain('mel_test_accuracy{seed="5",scheme="eta"}'); // no cycle yet: no sample
    expect(text).toContain('mel_late_learners{seed="5",scheme="optimal"} 1\n');
    expect(text).toContain('mel_cycle_wall_seconds{seed="5",scheme="optimal"} 20\n');
    expect(text).toContain('mel_bytes_sent_total{seed="5",scheme="optimal"} 3000\n');
    expect(text).toContain('mel_bytes_received_total{seed="5",scheme="optimal"} 800\n');
    expect(text).toContain('mel_learners_connected{seed="5"} 1\n');
  });

  it('escapes label values and writes non-finite numbers as the format spells them', () => {
    const state = new DashboardState();
    state.apply(
      'x',
      { type: 'session-start', out: '/o', resume: false, pid: 1, config: { ...config, schemes: ['optimal'] } },
      T0,
      { run: 'a "b"\\c\nd' },
    );
    state.apply('x', { ...(cycleDone('optimal', 1, 0.5, 1) as object), loss: NaN } as RunEvent, T0 + 1);
    const text = prometheusText(state.snapshot(T0 + 2));
    expect(text).toContain('mel_test_loss{run="a \\"b\\"\\\\c\\nd",scheme="optimal"} NaN\n');
  });
});
