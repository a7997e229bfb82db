/**
 * `npm run report -- A B … --out DIR`: several run folders side by side — one accuracy chart with a
 * line per run × scheme, cycles.csv with a `run` column in front of every run's rows, and a small
 * report.html (headline and cycles to each target per run). Runs in progress are drawn as far as they got.
 */
import { targetLabelMark } from './chart-style.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { formatCsvCell } from '../run-folder/csv.ts';
import {
  accuracyTargetText,
  ACCURACY_TARGETS,
  cycleRowCells,
  CYCLES_HEADER,
  cyclesToKey,
} from '../run-folder/schema.ts';
import { CHART_CONFIG, LINE_CHART_SIZE } from './chart-style.ts';
import { ReportInputError } from './errors.ts';
import { percent } from './format.ts';
import { headline } from './headline.ts';
import { escapeHtml, scopeSvgIds } from './html.ts';
import { renderChart, type FontOptions } from './render.ts';
import { loadRunFolder, type RunData } from './run-folder.ts';
import { orderSchemes, schemeLabel } from './schemes.ts';
import { targetPercents } from './spec-cycles.ts';

export interface OverlayRun {
  /** the folder's name (made unique with its parent's when two share one) */
  name: string;
  data: RunData;
}

/** Names that tell the runs apart: the folder name, or parent/name when two folders share a name. */
export function runNames(dirs: readonly string[]): string[] {
  const base = dirs.map((d) => path.basename(path.resolve(d)));
  const named = base.map((b, i) =>
    base.filter((x) => x === b).length > 1 ? path.join(path.basename(path.dirname(path.resolve(dirs[i]))), b) : b,
  );
  return named.map((n, i) => (named.indexOf(n) === i ? n : `${n} (${i + 1})`));
}

/** Every run's cycles.csv rows, `run` first. */
export function overlayCsv(runs: readonly OverlayRun[]): string {
  const lines = runs.flatMap((r) =>
    r.data.cycles.map((row) =>
      [r.name, ...CYCLES_HEADER.map((h) => cycleRowCells(row)[h])].map(formatCsvCell).join(','),
    ),
  );
  return [['run', ...CYCLES_HEADER].join(','), ...lines].join('\n') + '\n';
}

/** One dash pattern per scheme, in scheme order (solid first). */
const SCHEME_DASHES = [
  [1, 0],
  [8, 4],
  [2, 3],
  [12, 3, 2, 3],
  [4, 2],
  [6, 2, 1, 2],
];

type YScale = { domain: number[]; nice: boolean; zero: boolean };
type AccuracyPoint = { run: string; scheme: string; cycle: number; value: number };

/** Accuracy per cycle: colour = run, dash = scheme, dashed rules at the targets. */
export function overlaySpec(runs: readonly OverlayRun[], targets: readonly number[]): TopLevelSpec {
  const schemes = orderSchemes(runs.flatMap((r) => r.data.cycles.map((c) => c.scheme))).map(schemeLabel);
  const values = runs.flatMap((r) =>
    r.data.cycles.map((c) => ({
      run: r.name,
      scheme: schemeLabel(c.scheme),
      cycle: c.cycle,
      value: c.testAccuracy * 100,
    })),
  );
  const levels = targetPercents(targets);
  const lower = Math.max(0, Math.floor(Math.min(...values.map((v) => v.value), Math.min(...levels) - 1) - 0.5));
  const yScale = { domain: [lower, 100], nice: false, zero: false };
  return {
    ...LINE_CHART_SIZE,
    config: CHART_CONFIG,
    title: { text: 'Test accuracy per global cycle', subtitle: `${runs.length} runs: colour = run, dash = scheme` },
    layer: [targetRulesLayer(levels, yScale), accuracyLinesLayer(values, schemes, yScale)],
  } as TopLevelSpec;
}

/** A dashed rule at each target level, labelled. */
function targetRulesLayer(levels: readonly number[], yScale: YScale) {
  return {
    data: { values: levels.map((level, i) => ({ level, label: `${level} %`, above: i === levels.length - 1 })) },
    layer: [
      {
        mark: { type: 'rule', strokeDash: [4, 4], color: '#555555', strokeWidth: 1.5 },
        encoding: { y: { field: 'level', type: 'quantitative', scale: yScale } },
      },
      // Close levels (96.67 %, 97 %): the top label above its rule, the others below.
      ...[true, false].map((above) => ({
        transform: [{ filter: `datum.above === ${above}` }],
        mark: targetLabelMark(above),
        encoding: { y: { field: 'level', type: 'quantitative' }, text: { field: 'label' } },
      })),
    ],
  };
}

/** A line with points per run × scheme: the run picks the colour, the scheme the dash. */
function accuracyLinesLayer(values: readonly AccuracyPoint[], schemes: readonly string[], yScale: YScale) {
  const maxCycle = Math.max(...values.map((v) => v.cycle));
  return {
    data: { values },
    encoding: {
      x: {
        field: 'cycle',
        type: 'quantitative',
        title: 'global cycle',
        scale: { domain: [1, Math.max(2, maxCycle)], nice: false },
        axis: { tickMinStep: 1, format: 'd' },
      },
      y: { field: 'value', type: 'quantitative', title: 'test accuracy (%)', scale: yScale },
      color: { field: 'run', type: 'nominal', title: 'run', legend: { orient: 'right' } },
      strokeDash: {
        field: 'scheme',
        type: 'nominal',
        title: 'scheme',
        scale: { domain: schemes, range: SCHEME_DASHES },
        legend: {
          orient: 'right',
          symbolType: 'stroke',
          symbolSize: 500,
          encode: { symbols: { update: { stroke: { value: '#333333' }, strokeWidth: { value: 2.5 } } } },
        },
      },
      detail: { field: 'scheme', type: 'nominal' },
    },
    layer: [{ mark: { type: 'line', strokeWidth: 2.5 } }, { mark: { type: 'point', filled: true, size: 45 } }],
  };
}

function overlayHtml(runs: readonly OverlayRun[], targets: readonly number[], svg: string, files: string[]): string {
  const head = [
    'run',
    'scheme',
    'cycles',
    'final accuracy',
    ...targets.map((t) => `cycles to ${accuracyTargetText(t)}`),
  ];
  const rows = runs.flatMap((r) =>
    orderSchemes(Object.keys(r.data.summary.schemes)).map((scheme) => {
      const s = r.data.summary.schemes[scheme];
      const own = r.data.cycles.filter((c) => c.scheme === scheme);
      const reached = (t: number) => s[cyclesToKey(t)] ?? null;
      return [
        r.name + (r.data.inProgress ? ' (in progress)' : ''),
        schemeLabel(scheme),
        String(own.length),
        s.final_accuracy === null ? 'not run' : percent(s.final_accuracy),
        ...targets.map((t) => String(reached(t) ?? 'not reached')),
      ];
    }),
  );
  const cell = (c: string, tag: string) => `<${tag}>${escapeHtml(c)}</${tag}>`;
  const lines = runs.map(
    (r) =>
      `<li><strong>${escapeHtml(r.name)}</strong>: ${escapeHtml(headline(r.data.cycles, targets) ?? 'no cycles yet')}</li>`,
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>MEL runs compared</title>
<style>body{font-family:system-ui,"DejaVu Sans",sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}td,th{border:1px solid #ccc;padding:.3rem .55rem;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}svg{max-width:100%;height:auto}figcaption,.note{color:#555;font-size:.92rem}</style></head>
<body><h1>MEL runs compared</h1>
<ul>${lines.join('\n')}</ul>
<table><thead><tr>${head.map((h) => cell(h, 'th')).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => cell(c, 'td')).join('')}</tr>`).join('\n')}</tbody></table>
<figure>${scopeSvgIds(svg, 'overlay')}<figcaption>Test accuracy after each global cycle, one line per run and scheme (also saved as ${files.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')}); every run's rows are in cycles.csv with a run column.</figcaption></figure>
</body></html>
`;
}

/** Load every run (in progress too), then write cycles.csv, accuracy.svg/png and report.html into outDir. */
export async function renderOverlay(
  dirs: readonly string[],
  opts: FontOptions & { outDir: string; targets?: number[] },
): Promise<{ files: string[]; runs: OverlayRun[] }> {
  const clash = dirs.find((d) => path.resolve(d) === path.resolve(opts.outDir));
  if (clash !== undefined)
    throw new ReportInputError(
      `--out ${opts.outDir} is one of the run folders; its cycles.csv would be replaced — choose another --out`,
      clash,
    );
  const names = runNames(dirs);
  const runs: OverlayRun[] = [];
  for (const [i, dir] of dirs.entries()) runs.push({ name: names[i], data: await loadRunFolder(dir, opts.targets) });
  const targets = opts.targets ?? runs[0].data.targets ?? [...ACCURACY_TARGETS];
  for (const r of runs.slice(1))
    if (!opts.targets && r.data.targets.join() !== targets.join())
      throw new ReportInputError(
        `${dirs[runs.indexOf(r)]}: its accuracy targets (${r.data.targets.join(',')}) differ from ${dirs[0]}'s (${targets.join(',')}); choose with --targets`,
        dirs[runs.indexOf(r)],
      );
  await mkdir(opts.outDir, { recursive: true });
  const { svg, png } = await renderChart(overlaySpec(runs, targets), opts);
  const files = ['cycles.csv', 'accuracy.svg', 'accuracy.png', 'report.html'].map((f) => path.join(opts.outDir, f));
  await writeFile(files[0], overlayCsv(runs));
  await writeFile(files[1], svg);
  await writeFile(files[2], png);
  await writeFile(files[3], overlayHtml(runs, targets, svg, ['accuracy.svg', 'accuracy.png']));
  return { files, runs };
}
