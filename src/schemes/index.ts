/**
 * The user's allocation schemes of a run (--scheme-module NAME=PATH, --scheme-cmd NAME=COMMAND),
 * registered beside the built-in ones; processes are started here and stopped by `close`.
 */
import { existsSync } from 'node:fs';
import { isBuiltinScheme, schemeRegistry } from '../allocation/index.ts';
import type { Scheme, SchemeRegistry } from '../allocation/scheme.ts';
import { InputError } from '../errors.ts';
import type { UserSchemeSpec } from '../run-folder/schema.ts';
import { loadModuleScheme } from './module.ts';
import { ProcessScheme } from './process.ts';

/** Seconds a user's scheme may take for one answer when --scheme-timeout-s is not given. */
export const DEFAULT_SCHEME_TIMEOUT_S = 30;

/** A name that fits a CSV cell, a flag list and a file name. */
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

/** "NAME=VALUE" of --scheme-module or --scheme-cmd, checked (the value's file is checked when it is loaded). */
export function parseUserScheme(flag: 'scheme-module' | 'scheme-cmd', text: string): UserSchemeSpec {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq).trim() : '';
  const value = eq > 0 ? text.slice(eq + 1).trim() : '';
  const form = flag === 'scheme-module' ? 'NAME=PATH' : 'NAME=COMMAND';
  if (!name || !value)
    throw new InputError(
      `--${flag} takes ${form}, e.g. --${flag} "${flag === 'scheme-module' ? 'mine=examples/schemes/proportional.ts' : 'mine=python3 examples/schemes/proportional.py'}", got "${text}"`,
    );
  if (!NAME.test(name))
    throw new InputError(
      `--${flag} ${text}: the name "${name}" must start with a letter and hold only letters, digits, _ and - (at most 40)`,
    );
  if (isBuiltinScheme(name))
    throw new InputError(`--${flag} ${text}: "${name}" is a built-in scheme; give yours another name`);
  if (flag === 'scheme-module' && !existsSync(value)) throw new InputError(`--${flag} ${text}: no such file ${value}`);
  return flag === 'scheme-module' ? { name, module: value } : { name, command: value };
}

/** Every scheme of `schemes` must be built in or defined by a user spec; every user spec must be used, each name once. */
export function checkSchemeNames(schemes: readonly string[], user: readonly UserSchemeSpec[]): void {
  const names = user.map((u) => u.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new InputError(`scheme ${twice} is defined twice (--scheme-module, --scheme-cmd)`);
  for (const s of schemes)
    if (!isBuiltinScheme(s) && !names.includes(s))
      throw new InputError(
        `--schemes: unknown scheme "${s}"; define it with --scheme-module ${s}=PATH or --scheme-cmd "${s}=COMMAND", or use a built-in one`,
      );
  for (const n of names)
    if (!schemes.includes(n))
      throw new InputError(`scheme ${n} is defined but not in --schemes: add it (e.g. --schemes optimal,${n})`);
}

export interface OpenSchemes {
  registry: SchemeRegistry;
  /** stop the processes (every one, also after a failure) */
  close(): Promise<void>;
  /** throws the first protocol error a process made outside a request (an extra line on stdout) */
  check(): void;
}

/** Load the modules and start the processes of the user's schemes; on a failure, what started is stopped. */
export async function openSchemes(
  user: readonly UserSchemeSpec[],
  opts: { timeout_s: number; log: (line: string) => void },
): Promise<OpenSchemes> {
  const processes: ProcessScheme[] = [];
  const close = async () => void (await Promise.all(processes.map((p) => p.close())));
  try {
    const schemes: Scheme[] = [];
    for (const u of user) {
      if ('module' in u) schemes.push(await loadModuleScheme(u.name, u.module, opts.timeout_s));
      else {
        const p = new ProcessScheme({ name: u.name, command: u.command, timeout_s: opts.timeout_s, log: opts.log });
        processes.push(p);
        schemes.push(p);
      }
    }
    return { registry: schemeRegistry(schemes), close, check: () => processes.forEach((p) => p.check()) };
  } catch (e) {
    await close();
    throw e;
  }
}
