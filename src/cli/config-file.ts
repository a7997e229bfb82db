/**
 * Settings from a file (`--config FILE`): TOML or JSON by extension, keys = the flag names without
 * dashes, `--no-X` = `X = false`, lists = arrays. And the way back (`--print-config`): the resolved
 * settings as TOML that --config reads to the same settings. Every problem is one line naming the
 * file and its line (InputError, exit 2); nothing is written before the file is read and checked.
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { InputError } from '../errors.ts';
import { MAX_SETTINGS_FILE_BYTES, readInputFile } from '../util/input-file.ts';
import type { FlagSpec, FlagValue } from './args.ts';

/** One setting the file gives: the flag it sets, its raw value and where it stands ("file:line"). */
export interface FileSetting {
  flag: FlagSpec;
  key: string; // as written in the file (an old alias stays visible)
  value: unknown;
  where: string;
}

/** Flags a file may not set: the file itself, and printing it. */
const NOT_IN_FILE = new Set(['config', 'print-config']);

function parseFile(path: string, text: string): Record<string, unknown> {
  const json = extname(path).toLowerCase() === '.json';
  try {
    const data = json ? JSON.parse(text) : parseToml(text);
    if (data === null || typeof data !== 'object' || Array.isArray(data))
      throw new InputError(`${path}: the file must hold a table of settings`);
    return data as Record<string, unknown>;
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (e instanceof TomlError)
      throw new InputError(
        `${path}:${e.line}: not valid TOML: ${e.message.split('\n')[0].replace(/^Invalid TOML document: /, '')}`,
      );
    const m = /position (\d+)/.exec((e as Error).message);
    const line = m ? text.slice(0, Number(m[1])).split('\n').length : 1;
    throw new InputError(`${path}:${line}: not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The 1-based line where `key` is set (inside `[table]` when given), for messages. */
function lineOf(text: string, key: string, table: string | null, json: boolean): number {
  const lines = text.split('\n');
  const esc = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const keyRe = json ? new RegExp(`"${esc}"\\s*:`) : new RegExp(`^\\s*(["']?)${esc}\\1\\s*=`);
  let current: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const header = /^\s*\[\s*([^\]]+?)\s*\]/.exec(lines[i]);
    if (!json && header) current = header[1];
    else if ((json || current === table) && keyRe.test(lines[i])) return i + 1;
  }
  return 1;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length];
}

/** The valid key nearest to an unknown one, when it is close (a typo, or train_samples for train-samples). */
export function nearestKey(key: string, names: string[]): string | null {
  const normal = key.toLowerCase().replace(/_/g, '-');
  let best: { name: string; d: number } | null = null;
  for (const name of names) {
    const d = editDistance(normal, name.toLowerCase());
    if (best === null || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(key.length / 4)) ? best.name : null;
}

/**
 * The settings of the file at `path` for a command with these flags. `tables`: the named tables the
 * command reads (sweep: `[sweep]` holds the grid's lists); any other table or key is refused.
 */
export function readConfigFile(
  path: string,
  flags: FlagSpec[],
  tables: readonly string[] = [],
  others: readonly string[] = [],
): FileSetting[] {
  if (!existsSync(path)) throw new InputError(`--config ${path}: no such file`);
  const text = readInputFile(path, '--config', MAX_SETTINGS_FILE_BYTES);
  const data = parseFile(path, text);
  const json = extname(path).toLowerCase() === '.json';
  const byName = new Map<string, FlagSpec>();
  for (const f of flags) for (const n of [f.name, ...(f.aliases ?? [])]) if (!NOT_IN_FILE.has(f.name)) byName.set(n, f);
  const names = flags.filter((f) => !NOT_IN_FILE.has(f.name)).map((f) => f.name);
  const out: FileSetting[] = [];
  const take = (key: string, value: unknown, table: string | null) => {
    const where = `${path}:${lineOf(text, key, table, json)}`;
    const flag = byName.get(key);
    if (!flag && others.includes(key)) return;
    if (!flag) {
      const near = nearestKey(key, names);
      throw new InputError(
        `${where}: unknown key "${key}"${table ? ` in [${table}]` : ''}${near ? ` (did you mean "${near}"?)` : ''}`,
      );
    }
    if (out.some((s) => s.flag.name === flag.name))
      throw new InputError(`${where}: "${key}" is set twice (${flag.name})`);
    out.push({ flag, key, value, where });
  };
  for (const [key, value] of Object.entries(data)) {
    const isTable = value !== null && typeof value === 'object' && !Array.isArray(value);
    if (!isTable) {
      take(key, value, null);
      continue;
    }
    const header = text
      .split('\n')
      .findIndex((l) => (json ? l.includes(`"${key}"`) : new RegExp(`^\\s*\\[\\s*${key}\\s*\\]`).test(l)));
    const where = `${path}:${header + 1}`;
    if (!tables.includes(key))
      throw new InputError(
        key === 'sweep'
          ? `${where}: a [sweep] table is expanded by the sweep command: npm run sweep -- --config ${path}`
          : `${where}: unknown table [${key}]`,
      );
    for (const [inner, v] of Object.entries(value as Record<string, unknown>)) {
      if (!Array.isArray(v))
        throw new InputError(
          `${path}:${lineOf(text, inner, key, json)}: [${key}] ${inner} must be a list, e.g. ${inner} = [10, 20]`,
        );
      take(inner, v, key);
    }
  }
  return out;
}

const describe = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/** A file value as the raw text a flag takes on the command line, after checking its TOML/JSON type. */
export function rawFromFile(s: FileSetting): string {
  const { flag, value, where, key } = s;
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number';
  switch (flag.type) {
    case 'boolean':
      if (typeof value !== 'boolean')
        throw new InputError(`${where}: ${key} takes true or false, got ${describe(value)}`);
      return String(value);
    case 'number':
    case 'int':
      if (typeof value !== 'number')
        throw new InputError(
          `${where}: ${key} takes a number${flag.type === 'int' ? ' (an integer)' : ''}, got ${describe(value)}`,
        );
      return String(value);
    case 'enum':
      if (typeof value !== 'string')
        throw new InputError(
          `${where}: ${key} takes one of ${flag.choices!.map((c) => `"${c}"`).join(', ')}, got ${describe(value)}`,
        );
      return value;
    case 'string':
    case 'list':
      if (scalar(value)) return String(value);
      if (Array.isArray(value) && value.every(scalar)) return value.map(String).join(',');
      throw new InputError(
        `${where}: ${key} takes ${flag.type === 'list' ? 'a list like ["a", "b"]' : 'a string'}, got ${describe(value)}`,
      );
  }
}

function tomlValue(flag: FlagSpec, value: FlagValue): string {
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (Array.isArray(value)) {
    const numeric =
      flag.type === 'list' &&
      !flag.choices &&
      value.every((v) => v.trim() !== '' && Number.isFinite(Number(v)) && String(Number(v)) === v);
    return `[${value.map((v) => (numeric ? v : JSON.stringify(v))).join(', ')}]`;
  }
  return JSON.stringify(value);
}

/**
 * The settings as TOML: one comment line per key (its help and unit), then `key = value`; a setting
 * without a value is a comment. Flags read from the environment (secrets like the token) are left out.
 */
export function configToml(flags: FlagSpec[], values: Record<string, FlagValue | undefined>, header: string): string {
  const lines = [`# ${header}`];
  for (const f of flags) {
    if (NOT_IN_FILE.has(f.name) || f.env) continue;
    lines.push('', `# ${f.help}${f.unit ? ` [${f.unit}]` : ''}`);
    const v = values[f.name];
    lines.push(v === undefined ? `# ${f.name} = (not set)` : `${f.name} = ${tomlValue(f, v)}`);
  }
  return lines.join('\n') + '\n';
}
