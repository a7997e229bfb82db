/**
 * What a new user reads (issue 27): identical allocations said once, divergence named for what it
 * is, τ of the per-learner schemes named honestly, real-clock time beyond the schedule in plain
 * words, one line per reason for missing learners, "time left" (not "ETA", a scheme's name).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProgressReporter } from '../../src/cli/progress.ts';
import { formatRunEvent } from '../../src/cli/run-events.ts';
import { everyLearnerDiverged, TRAINING_DIVERGED_REASON } from '../../src/orchestrator/divergence.ts';
import type { LearnerRecord } from '../../src/orchestrator/cycle.ts';
import { identicalGroups, identicalGroupsFromRows } from '../../src/orchestrator/identical-allocations.ts';
import { LearnerUpkeep, RESPAWN_AFTER_MISSED_CYCLES } from '../../src/orchestrator/fleet/learner-upkeep.ts';
import { realClockPacing, realClockPacingText } from '../../src/orchestrator/real-clock-pacing.ts';
import { lockRunFolder } from '../../src/orchestrator/store/run-lock.ts';
import { formatSummaryTable, summarizeScheme } from '../../src/orchestrator/store/summary.ts';
import { tauSummaryText, type CycleRow, type LearnerRow } from '../../src/run-folder/schema.ts';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { energySpec } from '../../src/report/spec-energy.ts';
import { orderSchemes } from '../../src/report/schemes.ts';
import { describeField } from '../../src/report/run-facts.ts';
import { campaignFacts } from '../../src/campaign/html.ts';
import { sweepSpec } from '../../src/campaign/charts.ts';
import { tmpDir } from '../helpers/tmp.ts';

const learnerRow = (over: Partial<LearnerRow>): LearnerRow => ({
  scheme: 'optimal',
  cycle: 1,
  learner: 0,
  fHz: 2.4e9,
  rateBps: 2e8,
  batch: 100,
  tSendS: 0.1,
  tComputeS: 5,
  tReturnS: 0.1,
  tTotalS: 5.2,
  status: 'on-time',
  reason: null,
  tau: 5,
  energyJ: 1,
  energyComputeJ: 1,
  energyRadioJ: 0,
  ...over,
});
const cycleRow = (over: Partial<CycleRow>): CycleRow =>
  ({
    scheme: 'async',
    cycle: 1,
    tau: 5,
    testAccuracy: 0.9,
    testLoss: 0.3,
    emulatedTimeS: 12,
    maxLearnerTimeS: 11,
    lateLearners: 0,
    wallTimeS: 1,
    updatesAggregated: 2,
    taskedLearners: 2,
    unavailableLearners: 0,
    ...over,
  }) as CycleRow;

describe('identical allocations (item 3)', () => {
  it('groups schemes whose batches and τ_k coincide, from the allocations and from learners.csv', () => {
    const a = { batch: [150, 150, 150, 150], tau_per_learner: [20, 20, 20, 20] };
    expect(
      identicalGroups(
        new Map([
          ['optimal', a],
          ['eta', { ...a }],
          ['async', { batch: a.batch, tau_per_learner: [20, 21, 20, 20] }],
        ]),
      ),
    ).toEqual([['optimal', 'eta']]);
    const rows = ['optimal', 'eta'].flatMap((scheme) => [0, 1].map((learner) => learnerRow({ scheme, learner })));
    expect(identicalGroupsFromRows(['optimal', 'eta'], rows)).toEqual([['optimal', 'eta']]);
    expect(
      identicalGroupsFromRows(
        ['optimal', 'eta'],
        [...rows.slice(0, 3), learnerRow({ scheme: 'eta', learner: 1, batch: 99 })],
      ),
    ).toEqual([]);
  });

  it('says so in one line, naming --tau-max when the cap made them equal', () => {
    const line = formatRunEvent({
      type: 'identical-allocations',
      groups: [['optimal', 'eta']],
      by_cap: [true],
      tau_max: 20,
    });
    expect(line).toBe(
      'note: optimal and eta get identical allocations (the same d_k and τ for every learner) because --tau-max 20 caps their τ: ' +
        'they train identically, so their results are the same; raise --tau-max to compare them',
    );
    expect(
      formatRunEvent({
        type: 'identical-allocations',
        groups: [['optimal', 'analytical']],
        by_cap: [false],
        tau_max: null,
      }),
    ).not.toMatch(/tau-max/);
  });
});

describe('training that diverges (item 5)', () => {
  const record = (learner: number, over: Partial<LearnerRecord>): LearnerRecord =>
    ({ learner, batch: 10, status: 'missing', reason: TRAINING_DIVERGED_REASON, ...over }) as LearnerRecord;

  it('is every tasked learner reporting non-finite weights (an idle learner does not count)', () => {
    expect(
      everyLearnerDiverged([
        record(0, {}),
        record(1, {}),
        record(2, { batch: 0, status: 'unavailable', reason: 'unavailable' }),
      ]),
    ).toBe(true);
    expect(everyLearnerDiverged([record(0, {}), record(1, { status: 'ok', reason: undefined })])).toBe(false);
    expect(everyLearnerDiverged([record(0, { reason: 'disconnected (1006)' })])).toBe(false);
    expect(everyLearnerDiverged([])).toBe(false);
  });

  it('is not a host fault: learners whose training diverged are never restarted as stuck', async () => {
    let killed = 0;
    const hosts = {
      count: 1,
      blocks: [[0, 1]],
      isRunning: () => true,
      isStopped: () => false,
      pid: () => 42,
      kill: async () => void killed++,
      spawn: () => {},
      hostOf: () => 0,
    };
    const hub = { isConnected: () => true, cut: () => killed++, waitFor: async () => [] };
    const upkeep = new LearnerUpkeep(hub as any, hosts as any, {
      K: 2,
      joinTimeoutMs: 1000,
      emit: () => {},
      onRespawn: () => {},
    });
    for (let c = 0; c < RESPAWN_AFTER_MISSED_CYCLES + 1; c++) {
      upkeep.noteCycle([record(0, {}), record(1, {})]);
      await upkeep.ensure();
    }
    expect(killed).toBe(0);
  });

  it('shows each reason once on the cycle line, with the learners as ranges', () => {
    const line = formatRunEvent({
      type: 'cycle-done',
      scheme: 'optimal',
      cycle: 1,
      cycles: 3,
      tau: 2,
      accuracy: 0.1,
      loss: 2.3,
      late: 0,
      diverged: false,
      wall_s: 1,
      session_done: 1,
      session_left: 2,
      missing: [
        ...Array.from({ length: 10 }, (_, learner) => ({ learner, reason: TRAINING_DIVERGED_REASON })),
        { learner: 12, reason: 'disconnected (1006)' },
      ],
    });
    expect(line).toContain(`missing 11 (0-9: ${TRAINING_DIVERGED_REASON}; 12: disconnected (1006))`);
  });
});

describe('τ of the per-learner schemes is named for what it is (item 8)', () => {
  it('summary.json keeps mean_tau (cycles.csv: the minimum τ_k) and adds mean_tau_k; the table says which is which', () => {
    const learners = [
      learnerRow({ scheme: 'async', learner: 0, tau: 5 }),
      learnerRow({ scheme: 'async', learner: 1, tau: 6 }),
    ];
    const s = summarizeScheme([cycleRow({ tau: 5 })], learners);
    expect(s.mean_tau).toBe(5);
    expect(s.mean_tau_k).toBe(5.5);
    expect(tauSummaryText(s)).toBe('min τ_k 5.00, mean τ_k 5.50');
    expect(formatSummaryTable({ async: s })).toContain('min τ_k 5.00, mean τ_k 5.50');
    const sync = summarizeScheme(
      [cycleRow({ scheme: 'optimal', tau: 5 })],
      [learnerRow({}), learnerRow({ learner: 1 })],
    );
    expect(tauSummaryText(sync)).toBe('5.00');
  });
});

describe('real-clock time beyond the schedule (item 9)', () => {
  it('is cycle wall time minus time scale × emulated time, per cycle and in plain words', () => {
    const rows = [
      cycleRow({ scheme: 'optimal', cycle: 1, emulatedTimeS: 12 }),
      cycleRow({ scheme: 'optimal', cycle: 2, emulatedTimeS: 24 }),
      cycleRow({ scheme: 'eta', cycle: 1, emulatedTimeS: 12 }),
    ];
    const p = realClockPacing(0.5, rows, 19.5, 0.6);
    expect(p.scheduled_wall_s).toBe(18);
    expect(p.beyond_schedule_s).toBeCloseTo(1.5);
    expect(p.beyond_schedule_per_cycle_s).toBeCloseTo(0.5);
    expect(realClockPacingText(p, 0.5)).toBe(
      'real clock: the cycles took 19.5 s of wall time for 36.0 s of emulated time × time scale 0.5 = 18.0 s scheduled; 0.50 s per cycle beyond it ' +
        "(evaluation 0.6 s in all, the rest averaging and preparing the next cycle's tasks)",
    );
  });

  it('the not-faithful warning says what fell behind and what to change, without jargon', () => {
    const text = formatRunEvent({
      type: 'unfaithful',
      learner_cycles: 0,
      total_s: 0,
      off_schedule_learner_cycles: 16,
      worst_phase_lag_s: 0.12,
      tolerance: '10 % + 50 ms',
      faithful: false,
    })!;
    expect(text).toContain(
      'the real clock fell behind the emulated timeline: 16 learner-cycles had a transfer or training end late (up to 0.12 s; allowed: 10 % + 50 ms)',
    );
    expect(text).not.toMatch(/overran|compute budget|off schedule/);
    expect(text).toContain('--time-scale');
  });
});

describe('polish (item 14)', () => {
  it('the status line says "time left", not "ETA" (the name of a scheme)', () => {
    let t = 0;
    const out: string[] = [];
    const p = new ProgressReporter({ tty: true, write: (x) => out.push(x), now: () => t });
    p.onEvent({ type: 'cycle-start', scheme: 'eta', cycle: 1, cycles: 2, tau: 2, active: 3 });
    t = 10;
    p.onEvent({
      type: 'cycle-done',
      scheme: 'eta',
      cycle: 1,
      cycles: 2,
      tau: 2,
      accuracy: 0.9,
      loss: 0.3,
      late: 0,
      missing: [],
      diverged: false,
      wall_s: 10,
      session_done: 1,
      session_left: 1,
    });
    expect(p.status()).toBe('elapsed 10 s, about 10 s left');
    expect(p.status()).not.toMatch(/ETA/);
  });

  it('report tables name the energy settings with their units, not raw keys', () => {
    expect(describeField('kappa_j_per_cycle_hz2', 1e-28)).toEqual({
      label: 'κ, switched capacitance',
      value: '1.00e-28 J/(cycle·Hz²)',
    });
    expect(describeField('rx_power_w', 0)).toEqual({ label: 'receive power', value: '0 W' });
  });

  it('a campaign report names the engine that ran, and sweep headers read 30, not 30.000000', () => {
    expect(campaignFacts({ engine: 'auto', engine_used: 'onnx' }, [1], false)).toContain('engine: onnx');
    expect(campaignFacts({ engine: 'auto' }, [1], false)).toContain('engine requested: auto');
    // a sweep over one T (--K 10,20 --T 30): the T axis has that one tick, written 30
    const points = [10, 20].map((K) => ({ scheme: 'optimal', K, T: 30, group: '', mean: 5, low: 5, high: 5 }));
    const spec = sweepSpec(points, 'T', { title: 't', yTitle: 'y' }) as any;
    expect(spec.spec.layer[1].encoding.x.axis).toEqual({ values: [30], format: '~g' });
  });

  it('the energy chart has no blank gap above the plot (its y title fits the plot height)', async () => {
    const bars = ['optimal', 'eta'].flatMap((scheme) =>
      Array.from({ length: 20 }, (_, learner) => ({ scheme, learner, meanJ: 1 + learner, computeJ: 1, radioJ: 0 })),
    );
    const view = new vega.View(vega.parse(vl.compile(energySpec(bars, null) as any).spec), { renderer: 'none' });
    const svg = await view.toSVG();
    const titleY = Number(svg.match(/role-title"><g transform="translate\([^,]+,([-\d.]+)\)"/)![1]);
    expect(titleY).toBeGreaterThan(-60); // title + subtitle; the long axis title put it at -96.5
  });

  it('reports list schemes in the order the run gave them (--schemes), not a fixed one', () => {
    expect(orderSchemes(['eta', 'optimal', 'eta', 'async'])).toEqual(['eta', 'optimal', 'async']);
  });
});

describe('the run folder (item 13)', () => {
  it('a new run refuses a non-empty folder that holds no run, and accepts what an attempt that never started left', () => {
    const dir = tmpDir('nonempty');
    writeFileSync(join(dir, 'thesis.tex'), 'mine');
    expect(() => lockRunFolder(dir, { resume: false })).toThrow(
      /is not empty and holds no run \(thesis\.tex\); choose a new or empty folder for --out/,
    );
    expect(readdirSync(dir)).toEqual(['thesis.tex']);
    const left = tmpDir('left');
    mkdirSync(join(left, 'logs'));
    lockRunFolder(left, { resume: false }).release();
  });

  it('the learner commands (they hold the token) go when the run ends, and a folder the run created goes with them', () => {
    const dir = join(tmpDir('cmds'), 'run');
    const lock = lockRunFolder(dir, { resume: false });
    writeFileSync(join(dir, 'learner-commands.txt'), 'MEL_TOKEN=secret npm run learner …\n');
    lock.release();
    expect(() => readdirSync(dir)).toThrow(/ENOENT/);
  });
});
