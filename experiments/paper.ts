/**
 * `npm run paper`: every figure of the paper in one command — Fig. 1 (τ vs K and T over seeded
 * fleets) and both Fig. 2 panels (K = 20, T = 12 s and K = 10, T = 30 s) as multi-seed campaigns —
 * then a table "paper's claim | ours (mean ± CI) | reproduced: yes / partly / no, and why" in
 * OUT/claims.md and OUT/claims.json. Rerun the same command to continue an interrupted run.
 */
import type { RunEvent } from '../src/orchestrator/events.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCampaign, planCampaign } from '../src/campaign/campaign.ts';
import type { CampaignSummary } from '../src/campaign/aggregate.ts';
import { campaignTable, cyclesWord } from '../src/campaign/format.ts';
import { CONTEXT, FIG2_PANELS, PAPER_CLAIMS, type PanelId } from '../src/campaign/paper-claims.ts';
import { formatDuration, WorkTracker } from '../src/campaign/progress.ts';
import { parseSeeds } from '../src/campaign/seeds.ts';
import { judgeClaims, type Fig1Evidence, type Fig1Point } from '../src/campaign/verdict.ts';
import { parseOrHelp, printConfig, runCli, UsageError, defineCommand } from '../src/cli/args.ts';
import { consoleOutput, interruptible } from '../src/cli/campaign.ts';
import { configFromArgs, spawnedRunArgs } from '../src/cli/experiment.ts';
import { flagsFor, otherSettings } from '../src/cli/settings.ts';
import { monotonicSeconds } from '../src/emulation/clock.ts';
import { PAPER_PRESET } from '../src/model/params.ts';
import type { ExperimentConfig } from '../src/orchestrator/config.ts';
import { renderFig1Charts } from '../src/report/index.ts';
import { fig1Csv } from './fig1/csv.ts';
import { FIG1_DEFAULTS, runFig1, sweepPoint, type Fig1Options } from './fig1/sweep.ts';
import { claimsMarkdown, claimsMarkdownTable } from './paper/table.ts';

export const spec = defineCommand({
  command: 'npm run paper --',
  summary:
    "Reproduce the paper's figures and check its claims: Fig. 1 (τ vs K and vs T over seeded fleets) and both Fig. 2 panels\n" +
    '(K = 20, T = 12 s and K = 10, T = 30 s) as campaigns over several seeds; writes OUT/fig1/, OUT/fig2-K20-T12/, OUT/fig2-K10-T30/\n' +
    "and OUT/claims.md + claims.json: paper's claim | ours (mean ± 95 % CI) | reproduced yes/partly/no and why.\n" +
    'Prints an estimate of the total time first. Rerun the same command to continue after an interruption (finished seeds are kept).\n' +
    'Every experiment flag except K, T and the connection flags applies to both panels. Its settings are in experiments/paper.toml\n' +
    '(--config reads another file; flags override the file).',
  otherSettings: otherSettings('paper'),
  flags: flagsFor('paper', { fleets: FIG1_DEFAULTS.seeds, config: join(import.meta.dirname, 'paper.toml') }),
  examples: [
    'npm run paper',
    'npm run paper -- --seeds 10 --out results/paper-10',
    'npm run paper -- --seeds 2 --cycles 1 --train-samples 600 --test-samples 300 --out /tmp/paper-tiny',
  ],
});

/** τ of every scheme at every Fig. 1 point, fleet by fleet (the CSV only keeps mean/min/max). */
export function fig1Evidence(o: Fig1Options): Fig1Evidence {
  const point = (K: number, T: number): Fig1Point[] => {
    const perScheme = new Map<string, number[]>(o.schemes.map((s) => [s, []]));
    for (let i = 0; i < o.seeds; i++)
      for (const r of sweepPoint(K, T, { ...o, seeds: 1, seedBase: o.seedBase + i }))
        perScheme.get(r.scheme)!.push(r.tau_mean);
    return [...perScheme.entries()].map(([scheme, per_fleet]) => ({ scheme, K, T, per_fleet }));
  };
  return {
    fleets: o.seeds,
    vsK: o.tForK.flatMap((T) => o.ks.flatMap((K) => point(K, T))),
    vsT: o.kForT.flatMap((K) => o.ts.flatMap((T) => point(K, T))),
  };
}

function settingsText(c: ExperimentConfig): string {
  const cm =
    c.params.flops_per_sample === PAPER_PRESET.flops_per_sample
      ? "the paper's C_m"
      : `C_m = ${c.params.flops_per_sample} FLOPs/sample (not the paper's)`;
  return `d = ${c.train_samples}, ${c.test_samples} test images, ${c.scenario} scenario, SGD lr ${c.lr}, mini-batch ${c.minibatch}, one local iteration = one ${c.local_iteration}, ${cm}, engine ${c.engine}, ${c.clock} clock`;
}

export interface PaperIo {
  log?: (line: string) => void;
  /** what each run reports, with its label */
  onEvent?: (event: RunEvent, label: string) => void;
  signal?: AbortSignal;
}

/** The whole command; returns the exit code (130 when interrupted). */
export async function paperMain(argv: string[], io: PaperIo = {}): Promise<number> {
  const args = parseOrHelp(argv, spec);
  const log = io.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const seeds = parseSeeds(args.seeds, args.seed);
  const schemes = args.schemes;
  const adaptive = ['optimal', 'analytical'].find((s) => schemes.includes(s));
  if (!adaptive || !schemes.includes('eta'))
    throw new UsageError(
      '--schemes must include eta and an adaptive scheme (optimal or analytical): the paper compares them',
    );
  const out = resolve(args.out);
  const fixedFleet = Boolean(args.fixedFleet);
  const started = monotonicSeconds();

  const panels = FIG2_PANELS.map((p) => ({
    ...p,
    dir: join(out, p.id),
    config: configFromArgs(spawnedRunArgs(args, { K: p.K, T: p.T, energyJ: args.energyJ })),
  }));
  if (args.printConfig) {
    printConfig(spec, args);
    return 0;
  }
  const tracker = new WorkTracker();
  for (const p of panels)
    for (const run of await planCampaign(p.config, seeds, fixedFleet))
      tracker.plan(`K=${p.K} T=${p.T} seed ${run.seed}`, run.predictedS);
  log(
    `npm run paper: Fig. 1 over ${args.fleets} fleets, then ${panels.length} Fig. 2 panels × ${seeds.length} seeds × ${cyclesWord(args.cycles)} = ${tracker.total()} runs; ` +
      `estimated total ≈ ${formatDuration(tracker.remainingS())} (prior estimate; refined after the first run)`,
  );
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, '.gitignore'),
    '# npm run paper: commit tables, CSVs and charts, not weights or learner logs\n**/checkpoints/\n**/logs/\n',
  );

  // ---- Fig. 1: pure solver sweeps, seconds ----
  const base = panels[0].config;
  const fig1Options: Fig1Options = {
    ...FIG1_DEFAULTS,
    seeds: args.fleets,
    seedBase: args.seed,
    d: base.train_samples,
    scenario: base.scenario,
    params: base.params,
  };
  const fig1Dir = join(out, 'fig1');
  mkdirSync(fig1Dir, { recursive: true });
  const { tauVsK, tauVsT } = runFig1(fig1Options);
  writeFileSync(join(fig1Dir, 'tau_vs_K.csv'), fig1Csv(tauVsK));
  writeFileSync(join(fig1Dir, 'tau_vs_T.csv'), fig1Csv(tauVsT));
  if (args.report !== false) await renderFig1Charts(fig1Dir);
  const fig1 = fig1Evidence(fig1Options);
  log(`Fig. 1 done (${fig1Dir}) · elapsed ${formatDuration(tracker.elapsedS())}`);

  // ---- Fig. 2: one campaign per panel ----
  const summaries: Partial<Record<PanelId, CampaignSummary>> = {};
  for (const p of panels) {
    log(`${p.title}: ${p.dir}`);
    const result = await runCampaign(p.config, {
      out: p.dir,
      seeds,
      fixedFleet,
      report: args.report !== false,
      seedReports: false,
      log,
      onEvent: io.onEvent,
      signal: io.signal,
      tracker,
      label: `K=${p.K} T=${p.T}`,
    });
    for (const w of result.warnings) log(`warning: ${w}`);
    if (result.interrupted) {
      log(
        `interrupted after ${formatDuration(monotonicSeconds() - started)}: finished seeds are kept in ${out}; rerun the same command to continue`,
      );
      return 130;
    }
    summaries[p.id] = result.summary!;
    log(`${p.title}: done · ${tracker.status()}`);
  }

  // ---- the claims ----
  const claims = judgeClaims(PAPER_CLAIMS, { fig1, panels: summaries, adaptive });
  const wall = monotonicSeconds() - started;
  const command = `npm run paper -- ${argv.join(' ')}`.trim();
  const meta = {
    command,
    seeds,
    cycles: args.cycles,
    fig1_fleets: args.fleets,
    wall_s: wall,
    finished_at: new Date().toISOString(),
    settings: settingsText(base),
  };
  writeFileSync(
    join(out, 'claims.json'),
    JSON.stringify({ ...meta, adaptive_scheme: adaptive, claims }, null, 2) + '\n',
  );
  const panelTables = panels.map((p) => ({
    title: p.title,
    dir: relative(out, p.dir),
    table: campaignTable(summaries[p.id]!),
  }));
  writeFileSync(join(out, 'claims.md'), claimsMarkdown(claims, meta, panelTables, [CONTEXT.fig1, CONTEXT.fig2]));
  process.stdout.write(`${claimsMarkdownTable(claims)}\n\n`);
  log(`npm run paper took ${formatDuration(wall)}; claims: ${join(out, 'claims.md')} and claims.json`);
  return 0;
}

// Run only as a script, so tests can call paperMain in-process.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const abort = interruptible('Fig. 2 seed');
  const { log, onEvent } = consoleOutput();
  runCli(() => paperMain(process.argv.slice(2), { log, onEvent, signal: abort.signal }));
}
