/**
 * The self-contained report.html: inline CSS, inline SVG charts, no script and no external
 * URL, so it opens from disk offline. Pure: data in, HTML string out.
 */
import type { RunSummary } from './run-folder.ts';
import { orderSchemes, schemeLabel } from './schemes.ts';

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
  charts: ReportChart[];
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

const percent = (fraction: number) => `${(fraction * 100).toFixed(2)} %`;
const cyclesOrNever = (n: number | null) => (n === null ? 'not reached' : String(n));

function summaryTable(summary: RunSummary): string {
  const head = ['scheme', 'final accuracy', 'best accuracy', 'cycles to 96.67 %', 'cycles to 97 %', 'mean τ', 'late learner-cycles', 'missing learner-cycles'];
  const rows = orderSchemes(Object.keys(summary.schemes)).map((name) => {
    const s = summary.schemes[name];
    const cells = [
      schemeLabel(name),
      percent(s.final_accuracy),
      s.best_accuracy === undefined ? '—' : percent(s.best_accuracy),
      cyclesOrNever(s.cycles_to_96_67),
      cyclesOrNever(s.cycles_to_97),
      s.mean_tau.toFixed(2),
      String(s.late_learner_cycles),
      String(s.missing_learner_cycles),
    ];
    return `<tr>${cells.map((c, i) => (i === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`;
  });
  return `<table class="summary"><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/** A few headline config values, when present, above the table. */
function keyFacts(config: Record<string, unknown>): string {
  const facts: string[] = [];
  const add = (key: string, label: string, unit = '') => {
    const v = config[key];
    if (v === undefined || v === null || typeof v === 'object') {
      if (Array.isArray(v)) facts.push(`${label}: ${v.map(String).join(', ')}`);
      return;
    }
    facts.push(`${label}: ${String(v)}${unit}`);
  };
  add('K', 'learners K');
  add('T', 'deadline T', ' s');
  add('cycles', 'global cycles');
  add('schemes', 'schemes');
  add('seed', 'seed');
  add('backend', 'backend');
  return facts.length ? `<p class="facts">${facts.map(escapeHtml).join(' · ')}</p>` : '';
}

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2rem auto; max-width: 1400px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.facts { color: #555; margin-top: 0; }
table.summary { border-collapse: collapse; margin: .6rem 0; }
table.summary th, table.summary td { border: 1px solid #ccc; padding: .35rem .7rem; text-align: right; }
table.summary th[scope=row], table.summary thead th { text-align: left; background: #f5f5f5; }
figure { margin: 1.2rem 0; overflow-x: auto; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .92rem; margin-top: .3rem; }
pre { background: #f7f7f7; border: 1px solid #e2e2e2; padding: .8rem; overflow-x: auto; font-size: .85rem; }
.warning { background: #fff4e5; border: 1px solid #f0b66d; padding: .5rem .8rem; }
`;

export function buildReportHtml(input: ReportInput): string {
  const { schemes: _schemes, ...otherSummary } = input.summary;
  const charts = input.charts.map(
    (c, i) => `<figure>\n${scopeSvgIds(c.svg, `chart${i}`)}\n<figcaption><strong>${escapeHtml(c.title)}.</strong> ${escapeHtml(c.caption)} (also saved as ${c.files.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')})</figcaption>\n</figure>`,
  );
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
<p class="facts">run: <code>${escapeHtml(input.runName)}</code></p>
${keyFacts(input.config)}
${input.warnings.map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join('\n')}
<h2>Summary</h2>
${summaryTable(input.summary)}
${Object.keys(otherSummary).length ? `<h3>Other summary fields (summary.json)</h3>\n<pre>${escapeHtml(JSON.stringify(otherSummary, null, 2))}</pre>` : ''}
<h2>Charts</h2>
${charts.join('\n')}
<h2>Configuration (config.json)</h2>
<pre>${escapeHtml(JSON.stringify(input.config, null, 2))}</pre>
</body>
</html>
`;
}
