// The dashboard page: every update is pushed by the server (Server-Sent Events at /events, one JSON
// snapshot per message); the page only draws it. Charts are plain SVG drawn here: nothing is loaded
// from elsewhere, so the page works offline.
// biome-ignore lint/suspicious/noRedundantUseStrict: a classic <script>, not a module: strict mode is not implied
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];
const PHASES = {
  receiving: '#9ecae9',
  waiting: '#d1d5db',
  computing: '#f28e2b',
  returning: '#59a14f',
  ok: '#4e79a7',
  late: '#e15759',
  missing: '#6b7280',
};
const MAX_TIMELINE_ROWS = 100;

let latest = null; // the last snapshot
let receivedAt = 0; // when it came (ms, this page's clock)
let chosenRun = null; // the run the timeline and settings show (null: follow the active one)

function el(name, attrs, parent, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function duration(s) {
  if (s === null || s === undefined) return '–';
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${String(t % 60).padStart(2, '0')} s`;
  return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')} min`;
}

function runName(run) {
  const parts = [];
  if (run.labels.cell) parts.push(run.labels.cell);
  if (run.labels.seed !== undefined) parts.push(`seed ${run.labels.seed}`);
  return parts.length ? parts.join(' ') : run.id || 'run';
}

function schemeColors(snapshot) {
  const colors = {};
  for (const run of snapshot.runs)
    for (const s of run.schemes) if (!(s in colors)) colors[s] = PALETTE[Object.keys(colors).length % PALETTE.length];
  return colors;
}

function niceTicks(lo, hi, count) {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** A line chart of series [{name, color, points: [{x, y}], faint}] into an <svg>. */
function lineChart(svg, series, o) {
  svg.replaceChildren();
  const W = Number(svg.getAttribute('width'));
  const H = Number(svg.getAttribute('height'));
  const m = { l: 52, r: 12, t: 10, b: 32 };
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y));
  if (ys.length === 0) {
    el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, svg, 'no completed cycle yet');
    return;
  }
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 0.01;
  lo -= pad;
  hi += pad;
  const xMax = Math.max(o.xMax, 1);
  const x = (v) => m.l + ((v - 1) / Math.max(xMax - 1, 1)) * (W - m.l - m.r);
  const y = (v) => m.t + (1 - (v - lo) / (hi - lo)) * (H - m.t - m.b);
  for (const t of niceTicks(lo, hi, 5)) {
    el('line', { x1: m.l, x2: W - m.r, y1: y(t), y2: y(t), stroke: '#eee' }, svg);
    el('text', { x: m.l - 6, y: y(t) + 4, 'text-anchor': 'end' }, svg, o.yFormat(t));
  }
  for (const t of niceTicks(1, xMax, Math.min(10, xMax)).filter((t) => Number.isInteger(t)))
    el('text', { x: x(t), y: H - m.b + 14, 'text-anchor': 'middle' }, svg, String(t));
  el('text', { x: (m.l + W - m.r) / 2, y: H - 4, 'text-anchor': 'middle' }, svg, 'global cycle');
  el('line', { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, stroke: '#999' }, svg);
  el('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, stroke: '#999' }, svg);
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p.y));
    if (pts.length === 0) continue;
    const g = el('g', { class: 'series', 'data-series': s.name, opacity: s.faint ? 0.45 : 1 }, svg);
    el(
      'polyline',
      { points: pts.map((p) => `${x(p.x)},${y(p.y)}`).join(' '), fill: 'none', stroke: s.color, 'stroke-width': 2 },
      g,
    );
    for (const p of pts)
      el(
        'title',
        {},
        el('circle', { class: 'point', cx: x(p.x), cy: y(p.y), r: 3, fill: s.color }, g),
        `${s.name} cycle ${p.x}: ${o.yFormat(p.y, true)}`,
      );
  }
}

function drawCharts(snapshot) {
  const colors = schemeColors(snapshot);
  const many = snapshot.runs.length > 1;
  const series = (field) =>
    snapshot.runs.flatMap((run) =>
      run.schemes.map((scheme) => ({
        name: many ? `${runName(run)} ${scheme}` : scheme,
        color: colors[scheme],
        faint: many,
        points: (run.points[scheme] || []).map((p) => ({
          x: p.cycle,
          y: field === 'accuracy' ? 100 * p.accuracy : p.loss,
        })),
      })),
    );
  const xMax = Math.max(
    1,
    ...snapshot.runs.map((r) => (r.settings ? r.settings.cycles : 0)),
    ...snapshot.runs.flatMap((r) =>
      Object.values(r.points)
        .flat()
        .map((p) => p.cycle),
    ),
  );
  lineChart(document.getElementById('accuracy-chart'), series('accuracy'), {
    xMax,
    yFormat: (v, exact) => `${v.toFixed(exact ? 2 : 1)} %`,
  });
  lineChart(document.getElementById('loss-chart'), series('loss'), {
    xMax,
    yFormat: (v, exact) => v.toFixed(exact ? 4 : 2),
  });
  const legend = document.getElementById('accuracy-legend');
  legend.replaceChildren();
  for (const [scheme, color] of Object.entries(colors)) {
    const span = document.createElement('span');
    span.innerHTML = `<i style="background:${color}"></i>`;
    span.append(scheme);
    legend.appendChild(span);
  }
}

function activeRun(snapshot) {
  if (chosenRun !== null) {
    const run = snapshot.runs.find((r) => r.id === chosenRun);
    if (run) return run;
  }
  return (
    snapshot.runs.find((r) => r.status === 'running') ||
    snapshot.runs.filter((r) => r.current).at(-1) ||
    snapshot.runs[0] ||
    null
  );
}

function drawTimeline(run) {
  const svg = document.getElementById('timeline');
  const title = document.getElementById('timeline-title');
  const counts = document.getElementById('timeline-counts');
  svg.replaceChildren();
  const c = run?.current;
  if (!c) {
    title.textContent = 'Learner timeline';
    counts.textContent = 'no cycle has started yet';
    svg.setAttribute('height', 20);
    return;
  }
  const T = run.settings ? run.settings.T : null;
  title.textContent = `Learner timeline — ${c.scheme} cycle ${c.cycle}/${c.cycles}${c.done ? ' (done)' : ''}${T !== null ? `, T = ${T} s` : ''}, τ = ${c.tau}`;
  const byPhase = {};
  for (const l of c.learners) byPhase[l.phase] = (byPhase[l.phase] || 0) + 1;
  const waiting = Math.max(0, c.active - c.learners.length);
  counts.textContent =
    `${c.active} learners with a batch: ` +
    Object.keys(PHASES)
      .filter((p) => byPhase[p])
      .map((p) => `${byPhase[p]} ${p}`)
      .concat(waiting ? [`${waiting} not yet sent`] : [])
      .join(' · ');
  const rows = c.learners.slice(0, MAX_TIMELINE_ROWS);
  const W = Number(svg.getAttribute('width'));
  const rowH = rows.length > 40 ? 6 : 14;
  const m = { l: 40, r: 12, t: 6, b: 22 };
  const H = m.t + m.b + rows.length * rowH;
  svg.setAttribute('height', H);
  const span = Math.max(T || 0, ...rows.map((l) => l.t_total_s || 0)) * 1.05 || 1;
  const x = (s) => m.l + (s / span) * (W - m.l - m.r);
  for (const t of niceTicks(0, span, 6)) el('text', { x: x(t), y: H - 6, 'text-anchor': 'middle' }, svg, `${t} s`);
  rows.forEach((l, i) => {
    const y = m.t + i * rowH;
    const g = el('g', { class: 'learner', 'data-learner': l.learner, 'data-phase': l.phase }, svg);
    if (rowH >= 10) el('text', { x: m.l - 4, y: y + rowH - 3, 'text-anchor': 'end' }, g, String(l.learner));
    const h = rowH - 2;
    if (l.t_total_s !== undefined) {
      let at = 0;
      for (const [phase, s] of [
        ['receiving', l.t_send_s],
        ['computing', l.t_compute_s],
        ['returning', l.t_return_s],
      ]) {
        el('rect', { x: x(at), y, width: Math.max(0.5, x(at + s) - x(at)), height: h, fill: PHASES[phase] }, g);
        at += s;
      }
      if (l.phase === 'late')
        el(
          'rect',
          { x: x(0), y, width: x(at) - x(0), height: h, fill: 'none', stroke: PHASES.late, 'stroke-width': 2 },
          g,
        );
      el('circle', { cx: x(at) + h / 2 + 2, cy: y + h / 2, r: h / 2 - 1, fill: PHASES[l.phase] }, g); // how it ended
      el(
        'title',
        {},
        g,
        `learner ${l.learner}: ${l.phase}, send ${l.t_send_s.toFixed(2)} s, compute ${l.t_compute_s.toFixed(2)} s, return ${l.t_return_s.toFixed(2)} s (emulated)`,
      );
    } else {
      el(
        'rect',
        {
          x: x(0),
          y,
          width: x(span) - x(0),
          height: h,
          fill: PHASES[l.phase] || '#ccc',
          opacity: l.phase === 'missing' ? 0.5 : 0.35,
        },
        g,
      );
      if (rowH >= 10)
        el(
          'text',
          { x: x(0) + 4, y: y + h - 2 },
          g,
          l.phase === 'missing' ? `missing: ${l.reason || ''}` : `${l.phase}…`,
        );
      el('title', {}, g, `learner ${l.learner}: ${l.phase}${l.reason ? ` (${l.reason})` : ''}`);
    }
  });
  if (T) el('line', { x1: x(T), x2: x(T), y1: m.t, y2: H - m.b, stroke: '#dc2626', 'stroke-dasharray': '4 3' }, svg);
  if (c.learners.length > rows.length)
    el('text', { x: W - m.r, y: H - 6, 'text-anchor': 'end' }, svg, `first ${rows.length} of ${c.learners.length}`);
}

function drawProgress(snapshot) {
  const p = snapshot.progress;
  const live = snapshot.runs.some((r) => r.status === 'running' || r.status === 'starting');
  const elapsed = p.elapsed_s + (live ? (Date.now() - receivedAt) / 1000 : 0);
  const eta = p.eta_s === null ? null : Math.max(0, p.eta_s - (live ? (Date.now() - receivedAt) / 1000 : 0));
  const frac = p.cycles_total ? p.cycles_done / p.cycles_total : 0;
  document.getElementById('progress-bar').style.width = `${(100 * frac).toFixed(1)}%`;
  const connected = snapshot.runs.reduce((n, r) => n + r.connected, 0);
  document.getElementById('progress-text').textContent =
    `${p.cycles_done}${p.cycles_total ? `/${p.cycles_total}` : ''} cycles done · elapsed ${duration(elapsed)} · ` +
    (eta === null ? 'ETA after the first cycle' : live ? `ETA ${duration(eta)}` : 'ended') +
    (live ? ` · ${connected} learners connected` : '');
}

function drawRuns(snapshot) {
  const table = document.getElementById('runs');
  table.replaceChildren();
  if (snapshot.runs.length < 2) return;
  const head = table.insertRow();
  for (const h of ['run', 'status', 'cycles', '', 'ETA']) head.insertCell().outerHTML = `<th>${h}</th>`;
  for (const run of snapshot.runs) {
    const row = table.insertRow();
    row.dataset.run = run.id;
    row.insertCell().textContent = runName(run);
    row.insertCell().textContent = run.status;
    const cells = row.insertCell();
    cells.className = 'num';
    cells.textContent = `${run.cycles_done}${run.cycles_total ? `/${run.cycles_total}` : ''}`;
    const bar = row.insertCell();
    bar.innerHTML = `<div class="bar" style="width:120px"><div style="width:${run.cycles_total ? (100 * run.cycles_done) / run.cycles_total : 0}%"></div></div>`;
    row.insertCell().textContent = run.status === 'finished' ? 'done' : duration(run.eta_s);
  }
}

function drawSettings(snapshot, run) {
  const select = document.getElementById('run-select');
  select.hidden = snapshot.runs.length < 2;
  if (!select.hidden && select.options.length !== snapshot.runs.length) {
    select.replaceChildren(...snapshot.runs.map((r) => new Option(runName(r), r.id)));
  }
  if (run && !select.hidden) select.value = run.id;
  const table = document.getElementById('settings');
  table.replaceChildren();
  if (!run?.settings) return;
  const flat = [];
  const walk = (prefix, v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      for (const [k, w] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, w);
    else
      flat.push([
        prefix,
        Array.isArray(v)
          ? v.length > 12
            ? `${v.length} entries`
            : v.map((e) => (typeof e === 'object' ? JSON.stringify(e) : e)).join(', ')
          : String(v),
      ]);
  };
  walk('', run.settings);
  for (const [k, v] of flat) {
    const row = table.insertRow();
    row.insertCell().textContent = k;
    row.insertCell().textContent = v;
  }
}

function render(snapshot) {
  latest = snapshot;
  receivedAt = Date.now();
  const run = activeRun(snapshot);
  const status = document.getElementById('status');
  status.textContent = run ? run.status : 'waiting';
  status.className = `status ${run ? run.status : ''}`;
  if (run?.settings)
    document.getElementById('title').textContent =
      `MEL — ${snapshot.runs.length > 1 ? `${snapshot.runs.length} runs` : `K=${run.settings.K} T=${run.settings.T} s`}`;
  drawProgress(snapshot);
  drawRuns(snapshot);
  drawCharts(snapshot);
  drawTimeline(run);
  drawSettings(snapshot, run);
}

function legend() {
  const box = document.getElementById('timeline-legend');
  for (const [phase, color] of Object.entries(PHASES)) {
    const span = document.createElement('span');
    span.innerHTML = `<i style="background:${color}"></i>`;
    span.append(phase);
    box.appendChild(span);
  }
}

legend();
document.getElementById('run-select').addEventListener('change', (e) => {
  chosenRun = e.target.value;
  if (latest) render(latest);
});
const source = new EventSource('/events');
const connection = document.getElementById('connection');
source.onopen = () => (connection.textContent = 'live');
source.onmessage = (m) => render(JSON.parse(m.data));
source.onerror = () => (connection.textContent = 'connection lost: retrying…');
// Elapsed time and ETA tick between pushes (drawn from the last snapshot; nothing is fetched).
setInterval(() => latest && drawProgress(latest), 1000);
