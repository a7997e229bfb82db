/**
 * Vega-lite spec for the Gantt timeline of one global cycle: per scheme one panel (stacked
 * vertically, so the deadlines line up and the width stays the same for any number of
 * schemes), one row per learner, stacked bars receive → compute (τ iterations) → send back,
 * the deadline T as a vertical rule, late learners outlined in red and missing ones labelled.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG } from './chart-style.ts';
import { UNAVAILABLE_REASON, type CycleRow, type LearnerRow } from '../run-folder/schema.ts';
import { ghz } from './format.ts';
import { orderSchemes, schemeLabel } from './schemes.ts';

export const PHASES = ['receive (batch + model)', 'compute (τ iterations)', 'send back (model)'] as const;
const PHASE_COLORS = ['#6baed6', '#fdae6b', '#9e9ac8'];
const LATE_COLOR = '#d62728';
/** Plot width of each panel; with the row labels the chart is ~700 px wide, 1400 px as PNG. */
const PANEL_WIDTH_PX = 480;

/** Rows shrink a little for big fleets so that K = 20 still fits a screen per panel. */
function rowHeightPx(rows: number): number {
  return rows > 12 ? 20 : 24;
}

/** The fault plan of config.json (`--fail L@C`): learner L is killed in cycle C of every scheme. */
export interface PlannedKill {
  learner: number;
  cycle: number;
}

export interface Segment {
  row: string;
  phase: (typeof PHASES)[number];
  startS: number;
  endS: number;
  late: boolean;
}

export interface RowNote {
  row: string;
  atS: number;
  note: string;
  late: boolean;
}

export interface TimelinePanel {
  scheme: string;
  tau: number | null;
  rows: string[];
  segments: Segment[];
  notes: RowNote[];
}

function rowLabel(r: LearnerRow): string {
  return `learner ${r.learner} · ${ghz(r.fHz)} GHz · d=${r.batch}`;
}

/** Long reasons (peer text) are cut so the label stays on the chart. */
const MAX_REASON_CHARS = 60;

/**
 * Why a learner has no result: learners.csv's `reason`. Runs from before that column only say
 * `missing`; for them a cause is named only when the fault plan proves it.
 */
export function missingNote(r: LearnerRow, kills: readonly PlannedKill[] = []): string {
  const reason =
    r.reason ??
    (kills.some((k) => k.learner === r.learner && k.cycle === r.cycle)
      ? `killed (--fail ${r.learner}@${r.cycle})`
      : null);
  if (reason === null) return 'missing';
  return `missing: ${reason.length > MAX_REASON_CHARS ? reason.slice(0, MAX_REASON_CHARS - 1) + '…' : reason}`;
}

/** Lay out one scheme's learners for one cycle (pure; exported for tests). */
export function timelinePanel(
  scheme: string,
  cycle: number,
  learners: LearnerRow[],
  cycles: CycleRow[],
  deadlineS: number,
  kills: readonly PlannedKill[] = [],
): TimelinePanel {
  const rows = learners.filter((r) => r.scheme === scheme && r.cycle === cycle).sort((a, b) => a.learner - b.learner);
  const tau = cycles.find((c) => c.scheme === scheme && c.cycle === cycle)?.tau ?? null;
  const segments: Segment[] = [];
  const notes: RowNote[] = [];
  for (const r of rows) {
    const row = rowLabel(r);
    const late = r.status === 'late';
    // Draw the phases that are known, in order: a missing learner may still have its receive time.
    let t = 0;
    for (const [i, d] of [r.tSendS, r.tComputeS, r.tReturnS].entries()) {
      if (d === null) break;
      segments.push({ row, phase: PHASES[i], startS: t, endS: t + d, late });
      t += d;
    }
    const end = r.tTotalS ?? t;
    if (r.status === 'missing') notes.push({ row, atS: end, note: missingNote(r, kills), late: false });
    else if (r.batch === 0)
      notes.push({
        row,
        atS: end,
        note: r.reason === UNAVAILABLE_REASON ? 'offline this cycle (d = 0)' : 'sat out (d = 0)',
        late: false,
      });
    else if (late) notes.push({ row, atS: end, note: `late (+${(end - deadlineS).toFixed(2)} s)`, late: true });
  }
  return { scheme, tau, rows: rows.map(rowLabel), segments, notes };
}

/** The cycle shown by default: the last cycle present in learners.csv. */
export function defaultTimelineCycle(learners: LearnerRow[]): number | null {
  return learners.length ? Math.max(...learners.map((r) => r.cycle)) : null;
}

/** The time axis every layer of every panel shares: same domain, so the deadlines line up. */
type TimeAxis = { type: 'quantitative'; scale: { domain: number[]; nice: false }; title: string };

export function timelineSpec(
  learners: LearnerRow[],
  cycles: CycleRow[],
  cycle: number,
  deadlineS: number,
  kills: readonly PlannedKill[] = [],
): TopLevelSpec {
  const schemes = orderSchemes([...cycles.map((c) => c.scheme), ...learners.map((r) => r.scheme)]);
  const panels = schemes.map((s) => timelinePanel(s, cycle, learners, cycles, deadlineS, kills));
  const longest = Math.max(
    deadlineS,
    ...panels.flatMap((p) => [...p.segments.map((s) => s.endS), ...p.notes.map((n) => n.atS)]),
  );
  const domain = [0, longest * 1.15]; // room for the "late" labels right of the bars
  const x: TimeAxis = { type: 'quantitative', scale: { domain, nice: false }, title: 'emulated time in cycle (s)' };
  return {
    config: CHART_CONFIG,
    title: {
      text: `Where the time goes in global cycle ${cycle}`,
      subtitle: 'bars: receive → compute τ local iterations → send back; red outline = late (t_k > T)',
    },
    vconcat: panels.map((p) => panelSpec(p, cycle, deadlineS, x)),
    spacing: 28,
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

/** One scheme's panel: its phase bars, the notes beside them and the deadline. */
function panelSpec(p: TimelinePanel, cycle: number, deadlineS: number, x: TimeAxis) {
  const y = {
    field: 'row',
    type: 'nominal' as const,
    title: null,
    scale: { domain: p.rows },
    axis: { labelFontSize: 12, labelLimit: 400 },
  };
  const empty = p.rows.length === 0;
  const rowPx = rowHeightPx(p.rows.length);
  return {
    width: PANEL_WIDTH_PX,
    height: Math.max(3, p.rows.length) * rowPx,
    title: {
      text: schemeLabel(p.scheme),
      subtitle: empty ? `no learner rows for cycle ${cycle}` : `cycle ${cycle}, τ = ${p.tau ?? '?'}`,
    },
    layer: [phaseBarsLayer(p, rowPx, x, y), notesLayer(p, x, y), deadlineLayer(deadlineS, x)],
  };
}

/** The stacked receive → compute → send bars, late learners outlined in red. */
function phaseBarsLayer(p: TimelinePanel, rowPx: number, x: TimeAxis, y: object) {
  return {
    data: { values: p.segments },
    mark: { type: 'bar', height: rowPx - 6 },
    encoding: {
      y,
      x: { ...x, field: 'startS' },
      x2: { field: 'endS' },
      color: {
        field: 'phase',
        type: 'nominal',
        title: 'phase',
        scale: { domain: [...PHASES], range: PHASE_COLORS },
        legend: { orient: 'bottom', direction: 'horizontal' },
      },
      stroke: { condition: { test: 'datum.late', value: LATE_COLOR }, value: 'white' },
      strokeWidth: { condition: { test: 'datum.late', value: 2.5 }, value: 0.5 },
    },
  };
}

/** Why a row is late, missing or idle, written right of where its bars end. */
function notesLayer(p: TimelinePanel, x: TimeAxis, y: object) {
  return {
    data: { values: p.notes },
    mark: { type: 'text', align: 'left', dx: 5, fontSize: 12, fontStyle: 'italic' },
    encoding: {
      y,
      x: { ...x, field: 'atS' },
      text: { field: 'note' },
      color: { condition: { test: 'datum.late', value: LATE_COLOR }, value: '#555555' },
    },
  };
}

/** The deadline T: a dashed red rule and its label. */
function deadlineLayer(deadlineS: number, x: TimeAxis) {
  return {
    data: { values: [{ T: deadlineS, label: `deadline T = ${deadlineS} s` }] },
    layer: [
      {
        mark: { type: 'rule', color: LATE_COLOR, strokeWidth: 2, strokeDash: [6, 4] },
        encoding: { x: { ...x, field: 'T' } },
      },
      {
        mark: {
          type: 'text',
          align: 'right',
          baseline: 'bottom',
          dx: -4,
          y: -2,
          fontSize: 12,
          color: LATE_COLOR,
          fontWeight: 'bold',
        },
        encoding: { x: { ...x, field: 'T' }, text: { field: 'label' } },
      },
    ],
  };
}
