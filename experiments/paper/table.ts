/** The claims table of `npm run paper` as markdown (for the README and results/paper/claims.md). */
import type { JudgedClaim } from '../../src/campaign/verdict.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function claimsMarkdownTable(claims: readonly JudgedClaim[]): string {
  const lines = [
    "| # | paper's claim | paper | ours (mean ± half-width [95 % CI]) | reproduced | why |",
    '|---|---|---|---|---|---|',
    ...claims.map(
      (c, i) =>
        `| ${i + 1} | ${cell(c.claim)} (${cell(c.source)}) | ${cell(c.paper)} | ${cell(c.ours)} | **${c.verdict}** | ${cell(c.why)} |`,
    ),
  ];
  return lines.join('\n');
}

export interface PaperMeta {
  command: string;
  seeds: number[];
  cycles: number;
  fig1_fleets: number;
  wall_s: number;
  finished_at: string;
  settings: string;
}

export function claimsMarkdown(
  claims: readonly JudgedClaim[],
  meta: PaperMeta,
  panels: { title: string; dir: string; table: string }[],
  contexts: string[],
): string {
  const count = (v: string) => claims.filter((c) => c.verdict === v).length;
  return [
    "# The paper's claims, measured",
    '',
    `\`${meta.command}\` — seeds ${meta.seeds.join(', ')}, ${meta.cycles} cycle${meta.cycles === 1 ? '' : 's'} per scheme, Fig. 1 over ${meta.fig1_fleets} fleets; ${meta.settings}.`,
    `Wall time ${Math.round(meta.wall_s)} s; finished ${meta.finished_at}.`,
    '',
    `Reproduced: **${count('yes')} yes**, **${count('partly')} partly**, **${count('no')} no** of ${claims.length} claims.`,
    '',
    claimsMarkdownTable(claims),
    '',
    '**How the verdict is decided** (mechanically, src/campaign/verdict.ts): a number is *yes* when every seed (fleet) has a value and',
    "the paper's number lies in our 95 % Student-t CI; *partly* when it lies in the CI but some seeds never reached the target, or",
    "outside it while at least one seed gave exactly the paper's number; *no* otherwise. Reached / not reached and comparisons: *yes* on",
    'every seed (fleet, curve), *partly* on some, *no* on none. Cycles-to-target means are over the seeds that reached the target.',
    '',
    '**Known reasons for differences**',
    '',
    ...contexts.map((c) => `- ${c}`),
    '',
    ...panels.flatMap((p) => [
      `## ${p.title}`,
      '',
      `Folder: [\`${p.dir}/\`](${p.dir}/) — [report](${p.dir}/report.html)`,
      '',
      `![accuracy over seeds](${p.dir}/accuracy_ci.png)`,
      '',
      `![cycles to target](${p.dir}/cycles_to_target.png)`,
      '',
      '```',
      p.table,
      '```',
      '',
    ]),
    '## Fig. 1',
    '',
    '![tau vs K](fig1/tau_vs_K.png)',
    '',
    '![tau vs T](fig1/tau_vs_T.png)',
    '',
  ].join('\n');
}
