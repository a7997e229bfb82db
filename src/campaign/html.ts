/**
 * report.html of a campaign (and of a sweep): inline CSS and SVG, no script, no external URL, so it
 * opens from disk offline. Pure: data in, HTML out.
 */
import { escapeHtml, scopeSvgIds } from '../report/html.ts';
import { orderSchemes, schemeLabel } from '../report/schemes.ts';
import { targetKey, targetLabel, type CampaignSummary } from './aggregate.ts';
import { cyclesText, meanCi, percent, pValue, signTestText } from './format.ts';
import { SEED_EFFECTS } from './seeds.ts';

export interface PageChart {
  title: string;
  caption: string;
  svg: string;
  /** stand-alone copies, relative to the page */
  files: string[];
}

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2rem auto; max-width: 1400px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.facts { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { border: 1px solid #ccc; padding: .35rem .7rem; text-align: right; vertical-align: top; }
th[scope=row], thead th { text-align: left; background: #f5f5f5; }
figure { margin: 1.2rem 0; overflow-x: auto; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .92rem; margin-top: .3rem; }
dt { font-weight: 600; margin-top: .5rem; } dd { margin-left: 1.2rem; color: #444; }
.warning { background: #fff4e5; border: 1px solid #f0b66d; padding: .5rem .8rem; }
`;

export function htmlTable(head: string[], rows: string[][], rawCells = false): string {
  const cell = (c: string) => (rawCells ? c : escapeHtml(c));
  return (
    `<table><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n` +
    rows
      .map(
        (r) =>
          `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${cell(c)}</th>` : `<td>${cell(c)}</td>`)).join('')}</tr>`,
      )
      .join('\n') +
    '\n</tbody></table>'
  );
}

function figures(charts: PageChart[]): string {
  return charts
    .map(
      (c, i) =>
        `<figure>\n${scopeSvgIds(c.svg, `chart${i}`)}\n<figcaption><strong>${escapeHtml(c.title)}.</strong> ${escapeHtml(c.caption)}` +
        ` (also saved as ${c.files.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')})</figcaption>\n</figure>`,
    )
    .join('\n');
}

/** A page: title, a facts line, warnings, then sections of ready HTML. */
export function page(
  title: string,
  facts: string[],
  warnings: string[],
  sections: { heading: string; html: string }[],
): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${facts.length ? `<p class="facts">${facts.map(escapeHtml).join(' · ')}</p>` : ''}
${warnings.map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join('\n')}
${sections.map((s) => `<h2>${escapeHtml(s.heading)}</h2>\n${s.html}`).join('\n')}
</body>
</html>
`;
}

export interface CampaignPageInput {
  name: string;
  config: Record<string, unknown>;
  fixedFleet: boolean;
  summary: CampaignSummary;
  charts: PageChart[];
  /** seed → relative link to that seed's report.html, when it has one */
  seedReports: Map<number, string>;
  warnings: string[];
}

export function campaignFacts(config: Record<string, unknown>, seeds: number[], fixedFleet: boolean): string[] {
  const facts: string[] = [];
  const add = (label: string, v: unknown, unit = '') => {
    if (v !== undefined && v !== null) facts.push(`${label}: ${Array.isArray(v) ? v.join(', ') : String(v)}${unit}`);
  };
  add('learners K', config.K);
  add('deadline T', config.T, ' s');
  add('global cycles', config.cycles);
  add('schemes', config.schemes);
  add('seeds', seeds);
  facts.push(fixedFleet ? `fleet: fixed (seed ${seeds[0]})` : 'fleet: one per seed');
  add('training samples d', config.train_samples);
  add('test images', config.test_samples);
  add('scenario', config.scenario);
  // What ran (the seeds' config.json records it), not what was asked for ("auto").
  add(config.engine_used !== undefined ? 'engine' : 'engine requested', config.engine_used ?? config.engine);
  return facts;
}

export function buildCampaignHtml(input: CampaignPageInput): string {
  const s = input.summary;
  const schemes = orderSchemes(s.schemes);
  return page(
    `MEL campaign report — ${input.name}`,
    campaignFacts(input.config, s.seeds, input.fixedFleet),
    input.warnings,
    [
      {
        heading: 'What a seed changes',
        html: `<p>${escapeHtml(SEED_EFFECTS[0].toUpperCase() + SEED_EFFECTS.slice(1))}. All schemes of one seed share all of it, so seed by seed the comparison is paired.</p>`,
      },
      { heading: 'Per scheme, over seeds', html: perSchemeTable(s, schemes) },
      { heading: 'Paired differences (same seed)', html: pairedTable(s) },
      { heading: 'Charts', html: figures(input.charts) },
      { heading: 'Per seed', html: perSeedTable(s, schemes, input.seedReports) },
      { heading: 'Definitions', html: definitionsList(s) },
    ],
  );
}

/** Each scheme's final accuracy, τ and cycles to each target, over the seeds. */
function perSchemeTable(s: CampaignSummary, schemes: readonly string[]): string {
  return htmlTable(
    [
      'scheme',
      'final accuracy: mean ± half-width [95 % CI]',
      'τ',
      ...s.targets.map((t) => `cycles to ${targetLabel(t)}`),
    ],
    schemes.map((scheme) => {
      const x = s.per_scheme[scheme];
      return [
        schemeLabel(scheme),
        meanCi(x.final_accuracy, 2, 100, ' %'),
        meanCi(x.tau, 1),
        ...s.targets.map((t) => cyclesText(x.cycles_to_target[targetKey(t)], x.cycles)),
      ];
    }),
  );
}

/** Adaptive minus baseline, seed by seed: final accuracy and cycles to each target, with their tests. */
function pairedTable(s: CampaignSummary): string {
  if (!s.paired.length) return '<p>No paired comparison: the campaign did not run both an adaptive scheme and ETA.</p>';
  const rows = s.paired.flatMap((p) => {
    const name = `${schemeLabel(p.adaptive)} − ${schemeLabel(p.baseline)}`;
    return [
      [
        name,
        'final accuracy (points)',
        meanCi(p.final_accuracy.difference, 2, 100),
        `${p.seeds.length}`,
        pValue(p.final_accuracy.t_test.p_value),
        `${p.final_accuracy.sign_test.n_positive} higher / ${p.final_accuracy.sign_test.n_negative} lower / ${p.final_accuracy.sign_test.n_ties} equal, p = ${pValue(p.final_accuracy.sign_test.p_value)}`,
      ],
      ...s.targets.map((t) => {
        const c = p.cycles_to_target[targetKey(t)];
        return [
          name,
          `cycles to ${targetLabel(t)}`,
          c.complete_pairs ? meanCi(c.difference, 2) : '—',
          `${c.complete_pairs}${c.dropped_from_t_test ? ` (${c.dropped_from_t_test} dropped: one or both never reached)` : ''}`,
          pValue(c.t_test.p_value),
          signTestText(c),
        ];
      }),
    ];
  });
  return htmlTable(
    [
      'pair',
      'quantity',
      'difference: mean ± half-width [95 % CI]',
      'pairs in mean and t-test',
      'paired t-test p',
      'exact sign test',
    ],
    rows,
  );
}

/** Every seed's results per scheme; the seed links to its own report when it has one. */
function perSeedTable(s: CampaignSummary, schemes: readonly string[], seedReports: Map<number, string>): string {
  return htmlTable(
    [
      'seed',
      ...schemes.flatMap((scheme) => [
        `${schemeLabel(scheme)}: final accuracy`,
        ...s.targets.map((t) => `${schemeLabel(scheme)}: cycles to ${targetLabel(t)}`),
      ]),
    ],
    s.seeds.map((seed, i) => {
      const link = seedReports.get(seed);
      const first = link ? `<a href="${escapeHtml(link)}">seed ${seed}</a>` : `seed ${seed}`;
      return [
        first,
        ...schemes.flatMap((scheme) => {
          const x = s.per_scheme[scheme];
          return [
            percent(x.final_accuracy.per_seed[i]),
            ...s.targets.map((t) => String(x.cycles_to_target[targetKey(t)].per_seed[i] ?? 'never')),
          ];
        }),
      ].map((c, j) => (j === 0 ? c : escapeHtml(c)));
    }),
    true,
  );
}

function definitionsList(s: CampaignSummary): string {
  return `<dl>${Object.entries(s.definitions)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('')}</dl>`;
}

export { figures };
