/**
 * `npm run fig1`: the paper's Fig. 1 — τ versus K (T = 30 s, 60 s) and versus T (K = 10, 20) for
 * ETA, analytical and optimal, averaged over seeded fleets. Writes results/fig1/tau_vs_K.csv and
 * tau_vs_T.csv and prints both tables.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineCommand, parseOrHelp, printConfig, runCli, UsageError } from '../src/cli/args.ts';
import type { BuiltinSchemeName } from '../src/allocation/types.ts';
import { systemParamsFromArgs } from '../src/cli/param-flags.ts';
import { type ArgsOf, flagsFor, MAX_SOLVER_K, otherSettings } from '../src/cli/settings.ts';
import { MAX_T_S } from '../src/allocation/feasibility.ts';
import { assertUsableFleet, generateFleet } from '../src/model/devices.ts';
import { fig1Csv, fig1Table } from './fig1/csv.ts';
import { renderFig1Charts } from '../src/report/index.ts';
import { FIG1_DEFAULTS, runFig1, type Fig1Options } from './fig1/sweep.ts';

export { runFig1, FIG1_DEFAULTS, type Fig1Options, type Row } from './fig1/sweep.ts';
export { fig1Csv, FIG1_CSV_HEADER } from './fig1/csv.ts';

const list = (xs: number[]) => xs.map(String);

/** Fig. 1's grid and fleets: defaults only this command has. */
const FIG1_FLAG_DEFAULTS = {
  fleets: FIG1_DEFAULTS.seeds,
  seed: FIG1_DEFAULTS.seedBase,
  'train-samples': FIG1_DEFAULTS.d,
  scenario: FIG1_DEFAULTS.scenario,
  K: list(FIG1_DEFAULTS.ks),
  't-for-k': list(FIG1_DEFAULTS.tForK),
  T: list(FIG1_DEFAULTS.ts),
  'k-for-t': list(FIG1_DEFAULTS.kForT),
};

export const spec = defineCommand({
  command: 'npm run fig1 --',
  summary: "Reproduce the paper's Fig. 1: local iterations τ vs K and vs T for every allocation scheme.",
  flags: flagsFor('fig1', FIG1_FLAG_DEFAULTS),
  otherSettings: otherSettings('fig1'),
  examples: [
    'npm run fig1',
    'npm run fig1 -- --fleets 100 --out results/fig1-100',
    'npm run fig1 -- --model lenet5 --out results/fig1-lenet5',
    'npm run fig1 -- --config experiments/fig1.toml',
  ],
});

/** One list flag's values: integers in 1..max (K) or numbers in (0, max] (T), as sweep and allocate bound them. */
function numbers(values: string[], flag: string, integer: boolean, max: number): number[] {
  return values.map((raw) => {
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0 || v > max || (integer && !Number.isInteger(v)))
      throw new UsageError(
        `--${flag} takes ${integer ? `integers in 1..${max}` : `numbers > 0 and <= ${max}`}, got "${raw}"`,
      );
    return v;
  });
}

export function optionsFromArgs(args: ArgsOf<'fig1', typeof FIG1_FLAG_DEFAULTS>): Fig1Options {
  return {
    seeds: args.fleets,
    seedBase: args.seed,
    d: args.trainSamples,
    scenario: args.scenario,
    params: systemParamsFromArgs(args),
    ks: numbers(args.K, 'K', true, MAX_SOLVER_K),
    tForK: numbers(args.tForK, 't-for-k', false, MAX_T_S),
    ts: numbers(args.T, 'T', false, MAX_T_S),
    kForT: numbers(args.kForT, 'k-for-t', true, MAX_SOLVER_K),
    schemes: args.schemes as BuiltinSchemeName[],
  };
}

async function main(): Promise<void> {
  const args = parseOrHelp(process.argv.slice(2), spec);
  const options = optionsFromArgs(args);
  assertUsableFleet(generateFleet(Math.max(...options.ks, ...options.kForT, 1), options.seedBase, options.params));
  if (args.printConfig) return printConfig(spec, args);
  const { tauVsK, tauVsT } = runFig1(options);
  const out = resolve(args.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'tau_vs_K.csv'), fig1Csv(tauVsK));
  writeFileSync(join(out, 'tau_vs_T.csv'), fig1Csv(tauVsT));
  process.stdout.write(
    `mean τ over ${args.fleets} fleets (feasible share in brackets when < 100 %)\n\n` +
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
