/**
 * The self-contained report.html: inline CSS, inline SVG charts, no script and no external
 * URL, so it opens from disk offline. Pure: data in, HTML string out.
 */
import { percent, roundNumber } from './format.ts';
import { configGroups, fleetTable, headerFacts, summaryGroups, type Fact, type FactGroup } from './run-facts.ts';
import {
  accuracyTargetText,
  ACCURACY_TARGETS,
  cyclesToKey,
  notRun,
  tauSummaryText,
  timeToKey,
  type LearnerRow,
  type RunSummaryRead as RunSummary,
} from '../run-folder/schema.ts';
import { orderSchemes, schemeLabel } from './schemes.ts';
import type { WallAnalysis } from './wall-phases.ts';

export interface ReportChart {
  title: string;
  caption: string;
  svg: string;
  /** File names of the stand-alone copies (e.g. accuracy.svg, accuracy.png). */
  files: string[];
}

export interface ReportInput {
  runName: string;
  config: Record<string, unknown>;
  summary: RunSummary;
  /** learners.csv rows: the d_k each scheme gave each learner (fleet table). */
  learners: LearnerRow[];
  charts: ReportChart[];
  /** accuracy targets of the summary table (default ACCURACY_TARGETS) */
  targets?: readonly number[];
  /** the one-line result under the title (headline.ts) */
  headline?: string | null;
  /** no summary.json yet: what the report covers so far */
  inProgress?: string;
  /** Real-clock runs (wall_phases.csv): the comparison and its chart. */
  realClock?: { analysis: WallAnalysis; chart: ReportChart };
  warnings: string[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Give every id in an inline SVG a per-chart prefix: several SVGs in one HTML document share
 * one id namespace, and vega reuses names such as "clip1" in each chart.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${prefix}-${id}"`);
}

const cyclesOrNever = (n: number | null) => (n === null ? 'not reached' : String(n));

/** `textColumns`: how many leading columns hold words (left-aligned); the rest are numbers. */
function table(head: string[], rows: string[][], cls: string, foot?: string[], textColumns = 1): string {
  const cell = (c: string, i: number) =>
    i === 0
      ? `<th scope="row">${escapeHtml(c)}</th>`
      : i < textColumns
        ? `<td class="text">${escapeHtml(c)}</td>`
        : `<td>${escapeHtml(c)}</td>`;
  const row = (cells: string[]) => `<tr>${cells.map(cell).join('')}</tr>`;
  return (
    // Wide tables (a summary with every metric) scroll inside their box, not the whole page.
    `<div class="table-wrap"><table class="${cls}"><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map(row).join('\n')}</tbody>${foot ? `<tfoot>${row(foot)}</tfoot>` : ''}</table></div>`
  );
}

function summaryTable(summary: RunSummary, targets: readonly number[]): string {
  const names = orderSchemes(Object.keys(summary.schemes));
  // Fields newer runs add; a column only when some scheme has it.
  const extra = (key: string) => names.some((n) => key in summary.schemes[n]);
  const withLoss = extra('final_loss');
  const highest = targets[targets.length - 1];
  const withTime = extra(timeToKey(highest));
  const withMisses = extra('deadline_miss_rate');
  const head = [
    'scheme',
    'final accuracy',
    'best accuracy',
    ...(withLoss ? ['final loss'] : []),
    ...targets.map((t) => `cycles to ${accuracyTargetText(t)}`),
    ...(withTime ? [`emulated time to ${accuracyTargetText(highest)}`] : []),
    'mean τ',
    'late learner-cycles',
    'missing learner-cycles',
    ...(withMisses ? ['deadline-miss rate', 'updates averaged per cycle', 'offline learner-cycles'] : []),
  ];
  const rows = names.map((name) => {
    const s = summary.schemes[name];
    // A scheme an interrupted run never reached has no results: say so, never "0.00 %".
    if (notRun(s)) return [schemeLabel(name), 'not run', ...head.slice(2).map(() => '—')];
    const loss = s.final_loss;
    const time = s[timeToKey(highest)];
    return [
      schemeLabel(name),
      percent(s.final_accuracy!),
      typeof s.best_accuracy === 'number' ? percent(s.best_accuracy) : '—',
      ...(withLoss ? [typeof loss === 'number' ? loss.toFixed(4) : '—'] : []),
      ...targets.map((t) => cyclesOrNever(s[cyclesToKey(t)] ?? null)),
      ...(withTime ? [typeof time === 'number' ? `${roundNumber(time)} s` : 'not reached'] : []),
      tauSummaryText(s, (x) => roundNumber(x, 3)),
      String(s.late_learner_cycles),
      String(s.missing_learner_cycles),
      ...(withMisses
        ? [
            typeof s.deadline_miss_rate === 'number' ? percent(s.deadline_miss_rate, 1) : '—',
            typeof s.mean_updates_aggregated === 'number' ? roundNumber(s.mean_updates_aggregated, 3) : '—',
            String(s.unavailable_learner_cycles ?? 0),
          ]
        : []),
    ];
  });
  return table(head, rows, 'data');
}

function factsList(facts: Fact[]): string {
  return `<dl class="facts">${facts.map((f) => `<dt>${escapeHtml(f.label)}</dt><dd>${escapeHtml(f.value)}</dd>`).join('')}</dl>`;
}

function fleetSection(config: Record<string, unknown>, learners: LearnerRow[]): string {
  const fleet = fleetTable(config, learners);
  if (fleet.rows.length === 0) return '';
  const head = [
    'learner',
    'f_k (GHz)',
    'distance (m)',
    'r_k (Mbit/s)',
    ...fleet.schemes.map((s) => `d_k ${schemeLabel(s)}`),
  ];
  const rows = fleet.rows.map((r) => [String(r.id), r.fGhz, r.distanceM, r.rateMbps, ...r.batch]);
  return (
    `<h2>Fleet</h2>\n<p class="note">Each learner's CPU speed f_k, distance to the orchestrator and link rate r_k (config.json), and the samples d_k each scheme gave it (learners.csv).</p>\n` +
    table(head, rows, 'data fleet', ['Σ', '', '', '', ...fleet.totals])
  );
}

function groupsHtml(groups: FactGroup[]): string {
  return `<div class="groups">${groups
    .map(
      (g) =>
        `<table class="kv"><caption>${escapeHtml(g.title)}</caption><tbody>${g.facts.map((f) => `<tr><th scope="row">${escapeHtml(f.label)}</th><td>${escapeHtml(f.value)}</td></tr>`).join('')}</tbody></table>`,
    )
    .join('\n')}</div>`;
}

function figure(c: ReportChart, id: string): string {
  const files = c.files.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ');
  return `<figure>\n${scopeSvgIds(c.svg, id)}\n<figcaption><strong>${escapeHtml(c.title)}.</strong> ${escapeHtml(c.caption)} (also saved as ${files})</figcaption>\n</figure>`;
}

const seconds = (s: number) => `${roundNumber(s, 3)} s`;

/** Emulated vs wall time per scheme and phase, and the overruns (wall_phases.csv). */
function realClockSection(rc: NonNullable<ReportInput['realClock']>, summary: RunSummary): string {
  const a = rc.analysis;
  const head = [
    'scheme',
    'phase',
    'learner-cycles',
    'emulated × time scale, Σ',
    'wall, Σ',
    'wall ÷ emulated, median',
    'max',
    'worst lag behind schedule',
  ];
  const rows = a.stats.map((s) => [
    schemeLabel(s.scheme),
    s.phase,
    String(s.count),
    seconds(s.expectedS),
    seconds(s.wallS),
    roundNumber(s.medianRatio, 3),
    roundNumber(s.maxRatio, 3),
    s.worst.lagS > 0 ? `+${seconds(s.worst.lagS)} (learner ${s.worst.learner}, cycle ${s.worst.cycle})` : 'none',
  ]);
  const total = a.overruns.reduce((t, o) => t + o.overrunS, 0);
  const shown = a.overruns
    .slice(0, 5)
    .map((o) => `learner ${o.learner} in ${schemeLabel(o.scheme)} cycle ${o.cycle} (+${seconds(o.overrunS)})`);
  const faithful = (summary.overruns as { faithful?: unknown } | undefined)?.faithful;
  const overruns = a.overruns.length
    ? `<p class="warning">Overruns: in ${a.overruns.length} learner-cycle${a.overruns.length > 1 ? 's' : ''} real training took longer than its scaled compute budget, ${seconds(total)} in all` +
      ` — ${a.overruns.length > 1 ? 'worst: ' : ''}${escapeHtml(shown.join('; '))}${a.overruns.length > shown.length ? '; …' : ''}. ` +
      `There the learner was slower than emulated, so this run is not a faithful real-time emulation; a larger --time-scale gives training more wall time.</p>`
    : `<p class="note">Overruns: none — every learner's real training fitted in its scaled compute budget${faithful === true ? ' (summary.json: faithful)' : ''}.</p>`;
  return (
    `<h2>Real clock: emulated versus wall time</h2>\n` +
    `<p class="note">Time scale ${escapeHtml(roundNumber(a.timeScale))}: an emulated second should last ${escapeHtml(roundNumber(a.timeScale))} s of wall time. ` +
    `Per phase, the emulated time from learners.csv × time scale against the wall time measured in wall_phases.csv; ` +
    `"compute" includes the padding that holds training to the learner's emulated speed, "of which real training" is the training alone.` +
    `${a.unmatched ? ` ${a.unmatched} wall_phases.csv row${a.unmatched > 1 ? 's have' : ' has'} no learners.csv row and ${a.unmatched > 1 ? 'are' : 'is'} left out.` : ''}</p>\n` +
    overruns +
    '\n' +
    table(head, rows, 'data', undefined, 2) +
    '\n' +
    figure(rc.chart, 'wall')
  );
}

/** The exact file, for whoever needs full precision, folded away. */
function rawJson(name: string, value: unknown): string {
  return `<details><summary>${escapeHtml(name)} as written (full precision)</summary><pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre></details>`;
}

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2rem auto; max-width: 1400px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.run { color: #555; margin-top: 0; }
.headline { font-size: 1.15rem; font-weight: 600; margin: .6rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: .2rem 1rem; margin: .8rem 0; font-size: .95rem; }
dl.facts dt { color: #666; } dl.facts dd { margin: 0; }
.table-wrap { max-width: 100%; overflow-x: auto; }
table.data { border-collapse: collapse; margin: .6rem 0; font-variant-numeric: tabular-nums; }
table.data th, table.data td { border: 1px solid #ccc; padding: .3rem .55rem; text-align: right; }
table.data th[scope=row], table.data thead th, table.data td.text { text-align: left; }
table.data th[scope=row], table.data thead th { background: #f5f5f5; } table.data td, table.data th[scope=row] { white-space: nowrap; }
table.data tfoot th, table.data tfoot td { font-weight: bold; background: #fafafa; }
table.fleet th, table.fleet td { padding: .15rem .6rem; font-size: .9rem; }
.groups { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
table.kv { border-collapse: collapse; font-size: .9rem; font-variant-numeric: tabular-nums; }
table.kv caption { text-align: left; font-weight: bold; padding-bottom: .2rem; }
table.kv th { text-align: left; font-weight: normal; color: #555; padding: .12rem 1rem .12rem 0; vertical-align: top; }
table.kv td { padding: .12rem 0; max-width: 38rem; overflow-wrap: anywhere; }
figure { margin: 1.2rem 0; overflow-x: auto; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .92rem; margin-top: .3rem; max-width: 60rem; }
.note { color: #555; font-size: .92rem; }
details { margin: .8rem 0; } summary { cursor: pointer; color: #555; }
pre { background: #f7f7f7; border: 1px solid #e2e2e2; padding: .8rem; overflow-x: auto; font-size: .85rem; }
.warning { background: #fff4e5; border: 1px solid #f0b66d; padding: .5rem .8rem; }
`;

export function buildReportHtml(input: ReportInput): string {
  const { schemes: _schemes, ...otherSummary } = input.summary;
  const charts = input.charts.map((c, i) => figure(c, `chart${i}`));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MEL run report — ${escapeHtml(input.runName)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>Mobile Edge Learning run report</h1>
<p class="run">run: <code>${escapeHtml(input.runName)}</code>${input.inProgress ? ` — <strong>in progress</strong>` : ''}</p>
${input.headline ? `<p class="headline">${escapeHtml(input.headline)}</p>` : ''}
${input.inProgress ? `<p class="warning">${escapeHtml(input.inProgress)}</p>` : ''}
${factsList(headerFacts(input.config, input.summary))}
${input.warnings.map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join('\n')}
<h2>Summary</h2>
${summaryTable(input.summary, input.targets ?? ACCURACY_TARGETS)}
<h2>Charts</h2>
${charts.join('\n')}
${input.realClock ? realClockSection(input.realClock, input.summary) : ''}
${fleetSection(input.config, input.learners)}
<h2>Configuration (config.json)</h2>
${groupsHtml(configGroups(input.config))}
${rawJson('config.json', input.config)}
${Object.keys(otherSummary).length ? `<h2>Run statistics (summary.json)</h2>\n${groupsHtml(summaryGroups(input.summary))}\n${rawJson('summary.json', input.summary)}` : ''}
</body>
</html>
`;
}
