/**
 * `experiment --resume DIR`: the run's own config.json is the truth. It is migrated once (runs of
 * any earlier version), checked through the same settings table as the command line, and compared
 * with the flags given: a flag that would change it is refused, naming the flag.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { MAX_SETTINGS_FILE_BYTES, readInputFile } from '../util/input-file.ts';
import type { ExperimentConfig } from '../orchestrator/config.ts';
import { isRunConfig } from '../run-folder/run-config.ts';
import { migrateRunConfig } from '../run-folder/migrate.ts';
import { checkSchemeNames } from '../schemes/index.ts';
import { parseArgs, UsageError, type CommandSpec, type FlagValue } from './args.ts';
import type { RunArgs } from './experiment.ts';
import { setting, SETTINGS, type Setting } from './settings.ts';
import { parseTargets } from './targets-flag.ts';

/** The value at a dotted path of the saved config (`energy.budget_j`). */
function at(saved: ExperimentConfig, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | null)?.[k], saved);
}

/** What a run's config.json says of a setting, in the flag's own form; undefined when not saved. */
export function savedFlagValue(s: Setting, saved: ExperimentConfig): FlagValue | null | undefined {
  if (!s.key) return undefined;
  const v = at(saved, s.key);
  return v === null || v === undefined ? (v as null | undefined) : s.toFlag ? s.toFlag(v) : (v as FlagValue);
}

// Lists compare item by item, numbers by value ("2.4e9" is 2400000000).
const normal = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map((x) => (typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x)) ? Number(x) : x))
    : (v ?? null);
const sameValue = (given: unknown, saved: unknown) => JSON.stringify(normal(given)) === JSON.stringify(normal(saved));
const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/**
 * config.json is read back through the settings that wrote it: every saved value must pass the same
 * type, range and choice checks as on the command line, or the resume stops naming the setting.
 */
function validateSaved(dir: string, saved: ExperimentConfig, spec: CommandSpec, given: ReadonlySet<string>): void {
  const argv: string[] = [];
  for (const f of spec.flags) {
    if (setting(f.name).resumeFree && given.has(f.name)) continue; // replaced by the value given now
    const value = savedFlagValue(setting(f.name), saved);
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) continue;
    argv.push(`--${f.name}=${show(value)}`);
  }
  try {
    parseArgs(argv, spec);
    checkSchemeNames(saved.schemes, saved.user_schemes);
  } catch (e) {
    if (e instanceof InputError)
      throw new InputError(`--resume ${dir}: config.json holds a setting the run cannot use: ${e.message}`);
    throw e;
  }
}

function readSaved(dir: string): ExperimentConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new InputError(`--resume ${dir}: no config.json there (is it a run folder?)`);
  const text = readInputFile(path, '--resume', MAX_SETTINGS_FILE_BYTES); // not a device, a pipe or a huge file
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`--resume ${dir}: config.json is not valid JSON (${(e as Error).message})`);
  }
  if (!isRunConfig(raw))
    throw new InputError(
      `--resume ${dir}: its config.json is not a run's config (no K, T, cycles, schemes, params); is it a run folder?`,
    );
  if (!existsSync(join(dir, 'cycles.csv')))
    throw new InputError(`--resume ${dir}: no cycles.csv there; nothing to resume — start a new run`);
  return migrateRunConfig(raw);
}

/** A larger --cycles extends the run; any other setting given must equal the saved one. */
function checkGiven(dir: string, saved: ExperimentConfig, args: RunArgs): number {
  let cycles = saved.cycles;
  for (const name of args.given) {
    const s = SETTINGS.find((x) => x.name === name)!;
    if (s.resumeFree || name === 'resume' || name === 'config') continue;
    const given = args.values[name];
    if (name === 'out') {
      if (given !== dir)
        throw new UsageError(`--resume ${dir} writes into that folder; --out ${given} cannot point elsewhere`);
      continue;
    }
    if (name === 'cycles') {
      if (Number(given) < saved.cycles)
        throw new UsageError(
          `--cycles ${given}: the run in ${dir} has ${saved.cycles} cycles per scheme; a run cannot be shortened`,
        );
      cycles = Number(given); // larger: extends the run (runExperiment says so and records it in config.json)
      continue;
    }
    const was = savedFlagValue(s, saved);
    if (!sameValue(given, was))
      throw new UsageError(
        `--${name} ${show(given)} conflicts with the run in ${dir} (${show(was)}); a resumed run keeps its settings — start a new run with --out to change them`,
      );
  }
  return cycles;
}

/**
 * The configuration of the resumed run: config.json's, with a larger --cycles and the connection
 * and liveness flags given now. How learners are spread over processes does not change results,
 * so --hosts may choose anew (`hostCount`: checked against K); otherwise the saved count is kept.
 */
export function configFromRunFolder(
  dir: string,
  args: RunArgs,
  spec: CommandSpec,
  hostCount: (K: number, external: boolean) => number,
): ExperimentConfig {
  const saved = readSaved(dir);
  validateSaved(dir, saved, spec, args.given);
  const cycles = checkGiven(dir, saved, args);
  const free = (flag: string, key: keyof ExperimentConfig) =>
    args.given.has(flag) ? { [key]: args.values[flag] } : {};
  return {
    ...saved,
    cycles,
    hosts: args.given.has('hosts') ? hostCount(saved.K, saved.external) : Math.min(saved.K, saved.hosts),
    host: args.host,
    port: args.port,
    ...free('heartbeat-s', 'heartbeat_s'),
    ...free('task-timeout-s', 'task_timeout_s'),
    ...free('join-timeout-s', 'join_timeout_s'),
    ...free('scheme-timeout-s', 'scheme_timeout_s'),
    // The summary is recomputed from the CSV files each session, so a resume may count to other targets.
    ...(args.given.has('targets') ? { targets: parseTargets(args.targets) } : {}),
  };
}
