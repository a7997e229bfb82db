import { describe, it, expect } from 'vitest';
import { compile, type TopLevelSpec } from 'vega-lite';
import { formatCsvCell } from '../../src/run-folder/csv.ts';
import { parseCycles, parseFig1, parseLearners } from '../../src/run-folder/read.ts';
import { LEARNERS_HEADER_WITHOUT_TAU } from '../../src/run-folder/schema.ts';
import { orderSchemes, schemeColorScale, schemeLabel } from '../../src/report/schemes.ts';
import { accuracySpec, accuracyTimeSpec, lossSpec, tauSpec } from '../../src/report/spec-cycles.ts';
import { accuracyTimeCaption } from '../../src/report/index.ts';
import { fig1Spec } from '../../src/report/spec-fig1.ts';
import { defaultTimelineCycle, PHASES, timelinePanel, timelineSpec } from '../../src/report/spec-timeline.ts';
import { fig1Files, fixtureFiles, FIXTURE_T_S } from './fixture.ts';

const files = fixtureFiles();
const cycles = parseCycles(files['cycles.csv'], 'cycles.csv');
const learners = parseLearners(files['learners.csv'], 'learners.csv');
const fig1 = fig1Files();

/** Compile with a logger that records vega-lite's warnings (they mean a silently dropped encoding). */
function compileWarnings(spec: TopLevelSpec): string[] {
  const msgs: string[] = [];
  const logger = {
    level: () => logger,
    warn: (...a: unknown[]) => (msgs.push(a.join(' ')), logger),
    error: (...a: unknown[]) => (msgs.push(a.join(' ')), logger),
    info: () => logger,
    debug: () => logger,
  };
  compile(spec, { logger: logger as never });
  return msgs;
}

describe('schemes', () => {
  it('labels, orders and colours schemes consistently', () => {
    expect(orderSchemes(['eta', 'zeta', 'optimal', 'eta', 'analytical'])).toEqual([
      'eta',
      'zeta',
      'optimal',
      'analytical',
    ]); // the run's order
    expect(schemeLabel('eta')).toBe('ETA');
    expect(schemeLabel('optimal')).toBe('adaptive (optimal)');
    const scale = schemeColorScale(['eta', 'optimal', 'mine']);
    expect(scale.domain).toEqual(['ETA', 'adaptive (optimal)', 'mine']);
    expect(new Set(scale.range).size).toBe(3);
    expect(schemeColorScale(['eta']).range).toEqual([scale.range[0]]); // same colour whatever else is present
    expect(schemeColorScale(['optimal', 'eta']).range).toEqual([scale.range[1], scale.range[0]]);
  });
});

describe('chart specs', () => {
  const specs: [string, TopLevelSpec][] = [
    ['accuracy', accuracySpec(cycles)],
    ['accuracy_time', accuracyTimeSpec(cycles)],
    ['loss', lossSpec(cycles)],
    ['tau', tauSpec(cycles)],
    ['timeline', timelineSpec(learners, cycles, 3, FIXTURE_T_S)],
    ['tau_vs_K', fig1Spec(parseFig1(fig1['tau_vs_K.csv'], 'k'), 'K')],
    ['tau_vs_T', fig1Spec(parseFig1(fig1['tau_vs_T.csv'], 't'), 'T')],
  ];
  for (const [name, spec] of specs)
    it(`${name} compiles without vega-lite warnings`, () => {
      expect(compileWarnings(spec)).toEqual([]);
    });

  it('accuracy plots percent and marks both target levels', () => {
    const json = JSON.stringify(accuracySpec(cycles));
    expect(json).toContain('"value":95.12');
    expect(json).toContain('"label":"96.67 %"');
    expect(json).toContain('"label":"97 %"');
    expect(json).toContain('"title":"test accuracy (%)"');
  });

  it('accuracy versus emulated time puts each cycle at its emulated_time_s (issue 11, report item 3)', () => {
    const spec = accuracyTimeSpec(cycles) as unknown as {
      layer: { data?: { values: Record<string, unknown>[] }; encoding?: { x?: { field: string; title: string } } }[];
    };
    const lines = spec.layer[3];
    expect(lines.encoding!.x).toMatchObject({ field: 'timeS', title: 'emulated time since the start (s)' });
    const eta = lines.data!.values.filter((p) => p.scheme === 'ETA');
    expect(eta.map((p) => [p.timeS, p.value])).toEqual([
      [12, 93.01],
      [24, 95.5],
      [36.9, 96.22],
    ]); // the late cycle took 12.9 s
    expect(accuracyTimeCaption(cycles, FIXTURE_T_S)).toBe(
      'Test accuracy against the emulated clock at the end of each global cycle; emulated time used: adaptive (optimal) 36 s in 3 cycles, ETA 36.9 s in 3 cycles' +
        ' — some cycles lasted longer than T = 12 s (--late wait), so compare the schemes on this axis, not per cycle.',
    );
    const onTime = cycles.map((c) => ({ ...c, emulatedTimeS: c.cycle * FIXTURE_T_S }));
    expect(accuracyTimeCaption(onTime, FIXTURE_T_S)).toMatch(/ETA 36 s in 3 cycles \(every cycle lasted T = 12 s\)\.$/);
  });

  it('fig1: min–max bars are drawn, and claimed, only where the seeded fleets differ (issue 11, report item 5)', () => {
    type Spec = {
      title: { subtitle: string[] };
      layer: { mark: { type: string }; transform?: { filter: string }[] }[];
    };
    const withSpread = fig1Spec(parseFig1(fig1['tau_vs_K.csv'], 'k'), 'K') as unknown as Spec;
    expect(withSpread.title.subtitle[0]).toBe('mean over 5 seeded fleets; bars: min–max where the fleets differ');
    const bars = withSpread.layer.filter((l) => l.mark.type === 'rule' || l.mark.type === 'tick');
    expect(bars.map((l) => l.mark.type)).toEqual(['rule', 'tick', 'tick']); // bar and both caps
    for (const b of bars) expect(b.transform).toEqual([{ filter: 'datum.tauMin < datum.tauMax' }]);
    // results/fig1 has min = max everywhere: no bars, and the subtitle says why.
    const flat = fig1Spec(parseFig1(fig1['tau_vs_T.csv'], 't'), 'T') as unknown as Spec;
    expect(flat.title.subtitle).toEqual(['mean over 5 seeded fleets (all gave the same τ at every point)']);
    expect(JSON.stringify(flat.title)).not.toContain('bars');
    expect(flat.layer.some((l) => l.mark.type === 'rule' || l.mark.type === 'tick')).toBe(false);
  });

  it('fig1 charts dash by the fixed parameter and drop all-infeasible points', () => {
    const rows = parseFig1(fig1['tau_vs_K.csv'], 'k');
    expect(rows.some((r) => r.tauMean === null)).toBe(true);
    const json = JSON.stringify(fig1Spec(rows, 'K'));
    expect(json).toContain('"domain":["T = 30 s","T = 60 s"]');
    expect(json).toContain('"title":"number of learners K"');
    expect(json).not.toContain('"tauMean":null');
    expect(JSON.stringify(fig1Spec(parseFig1(fig1['tau_vs_T.csv'], 't'), 'T'))).toContain(
      '"domain":["K = 10","K = 20"]',
    );
  });
});

describe('timeline layout', () => {
  it('defaults to the last cycle', () => {
    expect(defaultTimelineCycle(learners)).toBe(3);
    expect(defaultTimelineCycle([])).toBeNull();
  });

  it('stacks receive → compute → send back and ends at t_total', () => {
    const p = timelinePanel('optimal', 2, learners, cycles, FIXTURE_T_S);
    expect(p.tau).toBe(6);
    expect(p.rows).toEqual([
      'learner 1 · 2.4 GHz · d=260',
      'learner 2 · 0.7 GHz · d=90',
      'learner 3 · 2.4 GHz · d=250',
    ]);
    const l2 = p.segments.filter((s) => s.row === 'learner 2 · 0.7 GHz · d=90');
    expect(l2.map((s) => s.phase)).toEqual([...PHASES]);
    expect(l2[0].startS).toBe(0);
    expect(l2[1].startS).toBeCloseTo(l2[0].endS, 12);
    expect(l2[2].startS).toBeCloseTo(l2[1].endS, 12);
    const row = learners.find((r) => r.scheme === 'optimal' && r.cycle === 2 && r.learner === 2)!;
    expect(l2[2].endS).toBeCloseTo(row.tTotalS!, 3);
    expect(p.notes).toEqual([]);
  });

  it('flags the late learner and labels the missing one', () => {
    const p = timelinePanel('eta', 3, learners, cycles, FIXTURE_T_S);
    expect(p.segments.filter((s) => s.late).map((s) => s.row)).toEqual(Array(3).fill('learner 2 · 0.7 GHz · d=200'));
    expect(p.segments.some((s) => s.row.startsWith('learner 3'))).toBe(false); // no times → no bars
    expect(p.notes).toEqual([
      { row: 'learner 2 · 0.7 GHz · d=200', atS: 13.6, note: 'late (+1.60 s)', late: true },
      // learners.csv does not say why: no invented reason such as "no reply".
      { row: 'learner 3 · 2.4 GHz · d=200', atS: 0, note: 'missing', late: false },
    ]);
  });

  it('draws the known receive phase of a missing learner and labels it after the bar', () => {
    const row = { ...learners.find((r) => r.status === 'missing')!, tSendS: 1.25 };
    const p = timelinePanel('eta', 3, [row], cycles, FIXTURE_T_S);
    expect(p.segments).toEqual([
      { row: 'learner 3 · 2.4 GHz · d=200', phase: PHASES[0], startS: 0, endS: 1.25, late: false },
    ]);
    expect(p.notes).toEqual([{ row: 'learner 3 · 2.4 GHz · d=200', atS: 1.25, note: 'missing', late: false }]);
  });

  it('rows show f_k; a learner the fault plan killed says so, other missing ones just "missing" (issue 11, report item 4)', () => {
    const p = timelinePanel('eta', 3, learners, cycles, FIXTURE_T_S, [{ learner: 3, cycle: 3 }]);
    expect(p.rows[1]).toBe('learner 2 · 0.7 GHz · d=200');
    expect(p.notes[1].note).toBe('missing: killed (--fail 3@3)');
    // A kill planned for another cycle or learner explains nothing here.
    for (const kill of [
      { learner: 3, cycle: 2 },
      { learner: 2, cycle: 3 },
    ])
      expect(timelinePanel('eta', 3, learners, cycles, FIXTURE_T_S, [kill]).notes[1].note).toBe('missing');
  });

  it('labels a missing learner with the reason learners.csv records (a run with the reason column)', () => {
    const header = `${LEARNERS_HEADER_WITHOUT_TAU.join(',')}\n`;
    const rowsWith = (reason: string) =>
      parseLearners(
        header + `eta,3,3,2400000000,15000000,200,0.8,,,,missing,${formatCsvCell(reason)}\n`,
        'learners.csv',
      );
    const note = (reason: string) => timelinePanel('eta', 3, rowsWith(reason), cycles, FIXTURE_T_S).notes[0].note;
    expect(note('result dropped (--drop-prob)')).toBe('missing: result dropped (--drop-prob)');
    expect(note('disconnected (1006)')).toBe('missing: disconnected (1006)');
    expect(note('no result within 60 s')).toBe('missing: no result within 60 s');
    // The recorded reason wins over what the fault plan suggests; a long one is cut.
    expect(
      timelinePanel('eta', 3, rowsWith('killed (--fail 3@3)'), cycles, FIXTURE_T_S, [{ learner: 3, cycle: 3 }]).notes[0]
        .note,
    ).toBe('missing: killed (--fail 3@3)');
    expect(note('learner failed the task: engine: ' + 'x'.repeat(100)).length).toBeLessThanOrEqual(
      'missing: '.length + 60,
    );
    // A missing learner with an empty reason (an older writer) is plain "missing".
    expect(parseLearners(header + 'eta,3,3,2400000000,15000000,200,,,,,missing,\n', 'l.csv')[0].reason).toBeNull();
  });

  it('puts the deadline rule at T in every panel', () => {
    const spec = timelineSpec(learners, cycles, 3, FIXTURE_T_S) as unknown as {
      vconcat: { title: { text: string }; layer: { data: { values: unknown[] } }[] }[];
    };
    expect(spec.vconcat.map((p) => p.title.text)).toEqual(['adaptive (optimal)', 'ETA']);
    for (const panel of spec.vconcat)
      expect(panel.layer[2].data.values).toEqual([{ T: 12, label: 'deadline T = 12 s' }]);
  });
});
