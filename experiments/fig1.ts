/**
 * `npm run fig1`: the paper's Fig. 1 — τ versus K (T = 30 s, 60 s) and versus T (K = 10, 20) for
 * ETA, analytical and optimal, averaged over seeded fleets. Writes results/fig1/tau_vs_K.csv and
 * tau_vs_T.csv and prints both tables.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseOrHelp, runCli, UsageError, type CommandSpec, type ParsedArgs } from '../src/cli/args.ts';
import { ROBUST_ONLY_IN_EXPERIMENTS, SCHEMES, SYNC_SCHEMES, type BuiltinSchemeName } from '../src/allocation/types.ts';
import { MAX_TOTAL_SAMPLES } from '../src/allocation/feasibility.ts';
import { SCENARIOS, type Scenario } from '../src/model/coefficients.ts';
import { MODEL_FLAG, systemParamFlags, systemParamsFromArgs } from '../src/cli/param-flags.ts';
import { assertUsableFleet, generateFleet } from '../src/model/devices.ts';
import { fig1Csv, fig1Table } from './fig1/csv.ts';
import { renderFig1Charts } from '../src/report/index.ts';
import { FIG1_DEFAULTS, runFig1, type Fig1Options } from './fig1/sweep.ts';

export { runFig1, FIG1_DEFAULTS, type Fig1Options, type Row } from './fig1/sweep.ts';
export { fig1Csv, FIG1_CSV_HEADER } from './fig1/csv.ts';

const list = (xs: number[]) => xs.map(String);

const spec: CommandSpec = {
  command: 'npm run fig1 --',
  summary: "Reproduce the paper's Fig. 1: local iterations τ vs K and vs T for every allocation scheme.",
  flags: [
    { name: 'seeds', type: 'int', min: 1, default: FIG1_DEFAULTS.seeds, unit: 'fleets', help: 'fleets averaged per point' },
    { name: 'seed', type: 'int', min: 0, default: FIG1_DEFAULTS.seedBase, help: 'first fleet seed (fleet i uses seed + i)' },
    { name: 'out', type: 'string', default: 'results/fig1', help: 'output folder for tau_vs_K.csv and tau_vs_T.csv' },
    { name: 'd', type: 'int', min: 1, max: MAX_TOTAL_SAMPLES, unit: 'samples', default: FIG1_DEFAULTS.d, help: 'total batch size' },
    { name: 'scenario', type: 'enum', choices: SCENARIOS, default: FIG1_DEFAULTS.scenario, help: 'parallel: batch + weights travel; federated: only weights' },
    { name: 'schemes', type: 'list', choices: SCHEMES.filter((s) => s !== 'energy'), refused: ROBUST_ONLY_IN_EXPERIMENTS, default: SYNC_SCHEMES, help: 'schemes to run' },
    { name: 'ks', type: 'list', unit: 'learners', default: list(FIG1_DEFAULTS.ks), help: 'K values of the τ-vs-K sweep' },
    { name: 't-for-k', type: 'list', unit: 's', default: list(FIG1_DEFAULTS.tForK), help: 'T of each τ-vs-K curve' },
    { name: 'ts', type: 'list', unit: 's', default: list(FIG1_DEFAULTS.ts), help: 'T values of the τ-vs-T sweep' },
    { name: 'k-for-t', type: 'list', unit: 'learners', default: list(FIG1_DEFAULTS.kForT), help: 'K of each τ-vs-T curve' },
    { name: 'charts', type: 'boolean', default: true, help: 'render tau_vs_K and tau_vs_T as SVG and PNG (--no-charts to skip)' },
    MODEL_FLAG,
    ...systemParamFlags(),
  ],
  examples: ['npm run fig1', 'npm run fig1 -- --seeds 100 --out results/fig1-100', 'npm run fig1 -- --model lenet5 --out results/fig1-lenet5'],
};

function numbers(args: ParsedArgs, key: string, flag: string, integer: boolean): number[] {
  return (args[key] as string[]).map((raw) => {
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
      throw new UsageError(`--${flag} takes ${integer ? 'integers >= 1' : 'numbers > 0'}, got "${raw}"`);
    return v;
  });
}

export function optionsFromArgs(args: ParsedArgs): Fig1Options {
  return {
    seeds: args.seeds,
    seedBase: args.seed,
    d: args.d,
    scenario: args.scenario as Scenario,
    params: systemParamsFromArgs(args),
    ks: numbers(args, 'ks', 'ks', true),
    tForK: numbers(args, 'tForK', 't-for-k', false),
    ts: numbers(args, 'ts', 'ts', false),
    kForT: numbers(args, 'kForT', 'k-for-t', true),
    schemes: args.schemes as BuiltinSchemeName[],
  };
}

async function main(): Promise<void> {
  const args = parseOrHelp(process.argv.slice(2), spec);
  const options = optionsFromArgs(args);
  assertUsableFleet(generateFleet(Math.max(...options.ks, ...options.kForT, 1), options.seedBase, options.params));
  const { tauVsK, tauVsT } = runFig1(options);
  const out = resolve(args.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'tau_vs_K.csv'), fig1Csv(tauVsK));
  writeFileSync(join(out, 'tau_vs_T.csv'), fig1Csv(tauVsT));
  process.stdout.write(
    `mean τ over ${args.seeds} fleets (feasible share in brackets when < 100 %)\n\n` +
      `τ vs K\n${fig1Table(tauVsK, 'K', 'T')}\n\nτ vs T\n${fig1Table(tauVsT, 'T', 'K')}\n\n` +
      `wrote ${join(out, 'tau_vs_K.csv')} and ${join(out, 'tau_vs_T.csv')}\n`,
  );
  if (args.charts) {
    const charts = await renderFig1Charts(out);
    process.stdout.write(`charts: ${charts.join(', ')}\n`);
  }
}

// Run only as a script, so that runFig1 can be imported without side effects.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) runCli(main);
