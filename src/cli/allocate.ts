/**
 * `npm run allocate -- --K 20 --T 12`: generate (or read) a fleet, run the allocation schemes and
 * print a table per scheme or the JSON report. Exit 2 when no requested scheme is feasible.
 */
import { readInputFile } from '../util/input-file.ts';
import { InputError } from '../errors.ts';
import { parseOrHelp, printConfig, runCli, defineCommand } from './args.ts';
import { formatAllocationReport } from '../allocation/format.ts';
import { buildAllocationReport } from '../allocation/report.ts';
import { ROBUST_ONLY_IN_EXPERIMENTS, SYNC_SCHEMES, type SchemeName } from '../allocation/types.ts';
import { openSchemes } from '../schemes/index.ts';
import { userSchemesFromArgs } from './scheme-flags.ts';
import { assertFiniteEnergy, energyParamsFor } from '../model/energy.ts';
import { MAX_TAU } from '../protocol/messages.ts';
import { DEFAULT_EXPERIMENT } from '../orchestrator/config.ts';
import { assertUsableFleet, generateFleet, parseLearnersJson, type LearnerProfile } from '../model/devices.ts';
import { systemParamsFromArgs } from './param-flags.ts';
import { flagsFor, otherSettings } from './settings.ts';

const spec = defineCommand({
  command: 'npm run allocate --',
  summary:
    'Allocate d samples and τ local iterations to K wireless learners with the ETA, analytical and optimal schemes,\n' +
    "and per-learner τ_k with async (and energy, under --energy-j); every table shows each learner's energy per cycle.",
  otherSettings: otherSettings('allocate'),
  flags: flagsFor('allocate'),
  examples: [
    'npm run allocate -- --K 20 --T 12',
    'npm run allocate -- --K 10 --T 30 --json',
    'npm run allocate -- --learners my-fleet.json --T 20',
    'npm run allocate -- --K 20 --T 12 --schemes optimal,async,energy --energy-j 10',
    'npm run allocate -- --K 20 --T 12 --schemes optimal,eta,mine --scheme-cmd "mine=python3 examples/schemes/proportional.py"',
    'npm run allocate -- --K 20 --T 12 --schemes optimal,mine --scheme-module mine=examples/schemes/proportional.ts',
    'npm run allocate -- --K 20 --T 12 --model lenet5 --json',
    'npm run allocate -- --config experiments/fig2-K20-T12.toml',
  ],
});

runCli(async () => {
  const args = parseOrHelp(process.argv.slice(2), spec);
  const params = systemParamsFromArgs(args);
  let fleet: LearnerProfile[];
  if (args.learners !== undefined) {
    fleet = parseLearnersJson(readInputFile(args.learners, '--learners'), params);
    if (args.K !== undefined && args.K !== fleet.length)
      throw new InputError(`--K ${args.K} disagrees with the ${fleet.length} learners in ${args.learners} (omit --K)`);
  } else {
    fleet = generateFleet(args.K ?? DEFAULT_EXPERIMENT.K, args.seed, params);
  }
  assertUsableFleet(fleet);
  const energy = energyParamsFor(params, { kappa_j_per_cycle_hz2: args.kappa, rx_power_w: args.rxPowerW });
  assertFiniteEnergy(fleet, params, args.scenario, energy, args.trainSamples, MAX_TAU);
  if (args.printConfig) {
    printConfig(spec, args, { K: fleet.length });
    return;
  }
  const budgets = fleet.map((l) => l.energy_budget_j ?? args.energyJ ?? Infinity);
  const hasBudget = budgets.some((b) => b < Infinity);
  const schemes = (args.schemes as SchemeName[] | undefined) ?? [
    ...SYNC_SCHEMES,
    'async',
    ...(hasBudget ? (['energy'] as const) : []),
  ];
  if (schemes.includes('robust')) throw new InputError(`--schemes: robust ${ROBUST_ONLY_IN_EXPERIMENTS.robust}`);
  if (schemes.includes('energy') && !hasBudget)
    throw new InputError(
      '--schemes energy needs a budget: give --energy-j J (or "energy_j" per entry of a --learners file)',
    );
  const user = userSchemesFromArgs(args, schemes);
  const opened = await openSchemes(user, {
    timeout_s: args.schemeTimeoutS,
    log: (line) => process.stderr.write(line + '\n'),
  });
  const report = await buildAllocationReport(fleet, params, {
    registry: opened.registry,
    T_s: args.T,
    d: args.trainSamples,
    scenario: args.scenario,
    schemes,
    max_staleness: args.maxStaleness,
    energy,
    budget_j: budgets,
  }).finally(() => opened.close());
  // Asked once each: an extra line after that answer is read by the time the process has exited.
  opened.check();
  process.stdout.write((args.json ? JSON.stringify(report, null, 2) : formatAllocationReport(report, params)) + '\n');
  const answers = Object.values(report.allocations);
  if (answers.every((a) => !a.feasible)) {
    // The most capable scheme's reason is the real one: if it fails, the weaker ones fail too.
    const best = [...(['optimal', 'async', 'energy', 'analytical', 'eta'] as const), ...schemes]
      .map((s) => report.allocations[s])
      .find((a) => a !== undefined)!;
    throw new InputError(
      `infeasible (${answers.map((a) => a.scheme).join(', ')}): ${best.feasible ? '' : best.reason}`,
    );
  }
});
