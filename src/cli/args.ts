/**
 * One small declarative flag parser for every command, so that `--help`, defaults, units,
 * range checks and error messages look the same everywhere. Bad input throws UsageError;
 * `runCli` turns it into one line on stderr and exit code 2 (no stack trace).
 */

import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { callerCwd } from '../util/caller-cwd.ts';
import { configToml, rawFromFile, readConfigFile } from './config-file.ts';

export type FlagType = 'number' | 'int' | 'string' | 'boolean' | 'enum' | 'list';
export type FlagValue = number | string | boolean | string[];

export interface FlagSpec {
  name: string; // without leading dashes, e.g. "time-scale"
  type: FlagType;
  help: string;
  default?: FlagValue;
  unit?: string; // printed in --help, e.g. "s", "Hz"
  min?: number; // inclusive
  max?: number; // inclusive
  exclusiveMin?: number; // value must be > exclusiveMin
  choices?: string[]; // for enum and list
  refused?: Record<string, string>; // list values this command knows but refuses: value → why (exit 2)
  env?: string; // environment variable used when the flag is absent
  implicit?: string; // the value when the flag is given without one (e.g. --dashboard alone)
  aliases?: string[]; // old names still accepted, with a deprecation line on stderr
  // a file or folder: relative to where the user ran the command (a --config file: to the file);
  // 'named': a list of NAME=PATH items, each PATH so (--scheme-module)
  path?: boolean | 'named';
}

/** `F`: the command's flags as types (settings.ts `FlagsOf`), so that its parsed values are typed. */
export interface CommandSpec<F extends FlagSpec = FlagSpec> {
  command: string; // e.g. "npm run allocate --"
  summary: string;
  flags: F[];
  /** `repeats` (last one only): it may be given any number of times */
  positionals?: { name: string; help: string; required?: boolean; repeats?: boolean }[];
  examples?: string[];
  /** named tables a --config file may hold (sweep: `[sweep]` with the grid's lists) */
  configTables?: string[];
  /** keys a --config file may hold for other commands (skipped), so one file serves several commands */
  otherSettings?: string[];
}

/** A command's spec with its flags' literal names and types kept (for flags declared in place, not in settings.ts). */
export function defineCommand<const F extends FlagSpec>(spec: CommandSpec<F>): CommandSpec<F> {
  return spec;
}

/** A flag or argument is malformed (exit code 2, like every InputError). */
export class UsageError extends InputError {
  override name = 'UsageError';
}

/** What a flag of each type holds once parsed. */
export type ValueOfType<T extends FlagType> = T extends 'number' | 'int'
  ? number
  : T extends 'boolean'
    ? boolean
    : T extends 'list'
      ? string[]
      : string;

/** "train-samples" → "trainSamples", as `camel` does at run time. */
type Camel<N extends string> = N extends `${infer Head}-${infer C}${infer Rest}`
  ? `${Head}${Uppercase<C>}${Camel<Rest>}`
  : N;

/** An enum flag with declared choices holds one of them. */
type ValueOf<F extends FlagSpec> = F extends { type: 'enum'; choices: (infer V extends string)[] }
  ? V
  : ValueOfType<F['type']>;

/**
 * Each flag's value under its camel-case name (`--train-samples` → `trainSamples`): a flag with a
 * default always has one; any other may be absent.
 */
export type FlagValues<F extends FlagSpec> = {
  [X in F as X extends { default: FlagValue } ? Camel<X['name']> : never]: ValueOf<X>;
} & { [X in F as X extends { default: FlagValue } ? never : Camel<X['name']>]?: ValueOf<X> };

/**
 * A command's parsed flags, typed from its spec. `given`: the flags set on the command line or in the
 * --config file (by name), as opposed to defaults and environment; `values`: every flag's value by name.
 */
export type ParsedArgs<F extends FlagSpec = never> = FlagValues<F> & {
  _: string[];
  help: boolean;
  given: Set<string>;
  values: Record<string, FlagValue | undefined>;
};

/** While parsing: values by camel-case name, before the spec's types are known to hold. */
type Parsing = {
  _: string[];
  help: boolean;
  given: Set<string>;
  values: Record<string, FlagValue | undefined>;
} & Record<string, unknown>;

export function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** `flag`: how messages name the setting (the flag, or the file line and key it came from). */
function convert(spec: FlagSpec, raw: string, flag = `--${spec.name}`): FlagValue {
  switch (spec.type) {
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new UsageError(`${flag} takes true or false, got "${raw}"`);
    case 'string':
      return raw;
    case 'enum':
      if (!spec.choices!.includes(raw))
        throw new UsageError(`${flag} must be one of ${spec.choices!.join('|')}, got "${raw}"`);
      return raw;
    case 'list': {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (items.length === 0) throw new UsageError(`${flag} needs at least one value`);
      if (spec.choices) {
        for (const item of items) {
          if (spec.refused?.[item]) throw new UsageError(`${flag}: ${item} ${spec.refused[item]}`);
          if (!spec.choices.includes(item))
            throw new UsageError(`${flag}: unknown value "${item}"; valid: ${spec.choices.join(',')}`);
        }
      }
      return items;
    }
    case 'number':
    case 'int': {
      const value = raw.trim() === '' ? NaN : Number(raw);
      const range = describeRange(spec);
      if (!Number.isFinite(value)) throw new UsageError(`${flag} must be a number${range}, got "${raw}"`);
      if (spec.type === 'int' && !Number.isInteger(value))
        throw new UsageError(`${flag} must be an integer${range}, got "${raw}"`);
      if (
        (spec.min !== undefined && value < spec.min) ||
        (spec.max !== undefined && value > spec.max) ||
        (spec.exclusiveMin !== undefined && value <= spec.exclusiveMin)
      )
        throw new UsageError(`${flag} is out of range${range}, got ${raw}`);
      return value;
    }
  }
}

function describeRange(spec: FlagSpec): string {
  const parts: string[] = [];
  if (spec.exclusiveMin !== undefined) parts.push(`> ${spec.exclusiveMin}`);
  if (spec.min !== undefined) parts.push(`>= ${spec.min}`);
  if (spec.max !== undefined) parts.push(`<= ${spec.max}`);
  return parts.length ? ` (${parts.join(' and ')}${spec.unit ? ' ' + spec.unit : ''})` : '';
}

/** An old name still works, with one line saying the new one. */
function deprecated(old: string, flag: FlagSpec, where = `--${old}`): void {
  process.stderr.write(`warning: ${where} is an old name of --${flag.name}; use --${flag.name}\n`);
}

export function parseArgs<F extends FlagSpec>(argv: string[], spec: CommandSpec<F>): ParsedArgs<F> {
  const out = fromCommandLine(argv, spec.flags);
  // A command may read a file of its own by default (npm run paper: experiments/paper.toml).
  out.config ??= spec.flags.find((f) => f.name === 'config')?.default;
  if (out.config !== undefined && !out.help) fromConfigFile(out, spec);
  fromEnvironmentAndDefaults(out, spec.flags);
  for (const flag of spec.flags) out.values[flag.name] = out[camel(flag.name)] as FlagValue | undefined;
  if (!out.help) checkPositionals(out._, spec);
  // Every flag of the spec was converted by its declared type above: this is what FlagValues<F> says.
  return out as unknown as ParsedArgs<F>;
}

function fromCommandLine(argv: string[], flags: FlagSpec[]): Parsing {
  const byName = new Map(flags.flatMap((f) => [f.name, ...(f.aliases ?? [])].map((n) => [n, f] as const)));
  const out: Parsing = { _: [], help: false, given: new Set(), values: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') out.help = true;
    else if (!arg.startsWith('--')) out._.push(arg);
    else if (arg !== '--') {
      const { flag, raw, usedNext } = flagAndValue(arg.slice(2), argv[i + 1], byName);
      if (out.given.has(flag.name)) throw new UsageError(`--${flag.name} given twice`);
      out.given.add(flag.name);
      out[camel(flag.name)] = asPath(flag, convert(flag, raw), callerCwd());
      if (usedNext) i++;
    }
  }
  return out;
}

/** `--name`, `--name=value`, `--no-name` or `--name value` (then `usedNext`). */
function flagAndValue(
  arg: string,
  next: string | undefined,
  byName: Map<string, FlagSpec>,
): { flag: FlagSpec; raw: string; usedNext: boolean } {
  const eq = arg.indexOf('=');
  const name = eq >= 0 ? arg.slice(0, eq) : arg;
  const given = eq >= 0 ? arg.slice(eq + 1) : undefined;
  const negated =
    byName.get(name) === undefined && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean';
  const flag = byName.get(negated ? name.slice(3) : name);
  if (!flag) throw new UsageError(`unknown flag --${name} (run with --help to list the flags)`);
  if (flag.aliases?.includes(name)) deprecated(name, flag);
  if (negated) {
    if (given !== undefined) throw new UsageError(`--${name} takes no value`);
    return { flag, raw: 'false', usedNext: false };
  }
  if (given !== undefined) return { flag, raw: given, usedNext: false };
  if (flag.type === 'boolean') return { flag, raw: 'true', usedNext: false };
  const absent = next === undefined || (next.startsWith('--') && next.length > 2);
  if (!absent) return { flag, raw: next, usedNext: true };
  if (flag.implicit === undefined) throw new UsageError(`--${flag.name} needs a value${describeRange(flag)}`);
  return { flag, raw: flag.implicit, usedNext: false };
}

function fromEnvironmentAndDefaults(out: Parsing, flags: FlagSpec[]): void {
  for (const flag of flags) {
    const key = camel(flag.name);
    if (out[key] !== undefined) continue;
    const fromEnv = flag.env ? process.env[flag.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') out[key] = convert(flag, fromEnv);
    // A default folder (results/fig1) lives in the project, where npm runs the command.
    else if (flag.default !== undefined) out[key] = asPath(flag, flag.default, process.cwd());
  }
}

function checkPositionals(given: string[], spec: CommandSpec<FlagSpec>): void {
  const positionals = spec.positionals;
  if (!positionals) {
    if (given.length > 0) throw new UsageError(`unexpected argument "${given[0]}" (flags start with --)`);
    return;
  }
  positionals.forEach((p, i) => {
    if (p.required && given[i] === undefined) throw new UsageError(`missing ${p.name}: ${p.help}`);
  });
  if (given.length > positionals.length && !positionals.at(-1)?.repeats)
    throw new UsageError(`unexpected argument "${given[positionals.length]}"`);
}

/** --config FILE: every setting the command line did not give comes from the file, checked like a flag. */
function fromConfigFile(out: Parsing, spec: CommandSpec<FlagSpec>): void {
  const path = resolve(callerCwd(), String(out.config));
  out.config = path;
  for (const s of readConfigFile(path, spec.flags, spec.configTables, spec.otherSettings)) {
    if (s.flag.aliases?.includes(s.key)) deprecated(s.key, s.flag, `${s.where}: ${s.key}`);
    if (out.given.has(s.flag.name)) continue; // the command line wins
    const value = asPath(s.flag, convert(s.flag, rawFromFile(s), `${s.where}: ${s.key}`), dirname(path));
    out[camel(s.flag.name)] = value;
    // A file that spells out a default (as --print-config writes) sets nothing a check across flags sees.
    if (JSON.stringify(value) !== JSON.stringify(s.flag.default)) out.given.add(s.flag.name);
  }
}

const asPath = (flag: FlagSpec, value: FlagValue, base: string): FlagValue => {
  if (flag.path === 'named' && Array.isArray(value)) return value.map((item) => asNamedPath(item, base));
  return flag.path && typeof value === 'string' ? resolve(base, value) : value;
};

/** NAME=PATH with PATH made absolute against `base`; anything else is left for the flag's own check to refuse. */
function asNamedPath(item: string, base: string): string {
  const eq = item.indexOf('=');
  const path = eq > 0 ? item.slice(eq + 1).trim() : '';
  return path ? `${item.slice(0, eq)}=${resolve(base, path)}` : item;
}

/** A path the user gave, made absolute against the directory they ran the command from. */
export function userPath(path: string): string;
export function userPath(path: string | undefined): string | undefined;
export function userPath(path: string | undefined): string | undefined {
  return path === undefined ? undefined : resolve(callerCwd(), path);
}

/** The resolved settings as TOML (what --config reads back to the same settings); `resolved`: values the command derived. */
export function configText(
  spec: CommandSpec,
  args: ParsedArgs,
  resolved: Record<string, FlagValue | undefined> = {},
): string {
  const header = `${spec.command} --config FILE reads this file; flags on the command line override it`;
  return configToml(spec.flags, { ...args.values, ...resolved }, header);
}

/** --print-config: the resolved settings on stdout. */
export function printConfig(
  spec: CommandSpec,
  args: ParsedArgs,
  resolved: Record<string, FlagValue | undefined> = {},
): void {
  process.stdout.write(configText(spec, args, resolved));
}

export function helpText(spec: CommandSpec): string {
  const lines = [
    `${spec.summary}`,
    '',
    `Usage: ${spec.command} [flags]${(spec.positionals ?? []).map((p) => (p.required ? ` <${p.name}>` : ` [${p.name}]`) + (p.repeats ? ' …' : '')).join('')}`,
    '',
  ];
  for (const p of spec.positionals ?? []) lines.push(`  ${p.name.padEnd(24)} ${p.help}`);
  if (spec.positionals?.length) lines.push('');
  lines.push('Flags:');
  for (const f of spec.flags) {
    const shown =
      f.type === 'boolean'
        ? ''
        : f.type === 'enum'
          ? ` ${f.choices!.join('|')}`
          : ` <${f.type === 'list' ? 'a,b' : f.type}>`;
    const value = f.implicit !== undefined ? ` [${shown.trim()}]` : shown;
    const left = `  --${f.name}${value}`;
    const extras: string[] = [];
    if (f.unit) extras.push(`unit: ${f.unit}`);
    const range = describeRange({ ...f, unit: undefined });
    if (range) extras.push(`range${range}`);
    if (f.type === 'list' && f.choices) extras.push(`values: ${f.choices.join(',')}`);
    if (f.default !== undefined)
      extras.push(`default: ${Array.isArray(f.default) ? f.default.join(',') : String(f.default)}`);
    if (f.env) extras.push(`env: ${f.env}`);
    if (f.implicit !== undefined) extras.push(`alone: ${f.implicit}`);
    if (f.aliases?.length) extras.push(`old name: ${f.aliases.map((a) => `--${a}`).join(', ')}`);
    lines.push(`${left.padEnd(34)} ${f.help}${extras.length ? ` [${extras.join('; ')}]` : ''}`);
  }
  lines.push(`  --help`.padEnd(34) + ' show this help');
  if (spec.examples?.length) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return lines.join('\n');
}

/**
 * Run a command's main function: an InputError (any layer's fixable input) → one line on stderr, exit 2;
 * any other error → one line (stack only with MEL_DEBUG=1), exit 1.
 * `main` may return an exit code.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a command's main may return nothing (exit 0) or its exit code
export function runCli(main: () => Promise<number | void>): void {
  main().then(
    (code) => exit(code ?? 0),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      const usage = e instanceof InputError;
      process.stderr.write(`error: ${e.message}\n`);
      if (process.env.MEL_DEBUG && e.stack) process.stderr.write(e.stack + '\n');
      exit(usage ? 2 : 1);
    },
  );
}

// The command is over once main settles: whatever it left behind (a timer, a socket, a child's
// pipe) must not keep the process alive after its result or its error was printed. The empty
// writes call back once everything printed before them is flushed, so no output is cut off.
function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

/** Parse argv for a command; prints help and exits 0 on --help. */
export function parseOrHelp<F extends FlagSpec>(argv: string[], spec: CommandSpec<F>): ParsedArgs<F> {
  const args = parseArgs(argv, spec);
  if (args.help) {
    process.stdout.write(helpText(spec) + '\n');
    process.exit(0);
  }
  return args;
}
