/**
 * A user's scheme as a TypeScript or JavaScript module (--scheme-module NAME=PATH) exporting
 * `allocate(problem)` (and optionally `kind`): it reads the same problem message and gives the
 * same answer as a process scheme, and its answers are checked the same way.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allocationFromAnswer, problemMessage, type ProblemMessage } from '../allocation/answer.ts';
import { SCHEME_KINDS, type Scheme, type SchemeKind, type SchemeProblem } from '../allocation/scheme.ts';
import type { Allocation } from '../allocation/types.ts';
import { InputError } from '../errors.ts';

type AllocateFn = (problem: ProblemMessage) => unknown;

export async function loadModuleScheme(name: string, path: string, timeout_s: number): Promise<Scheme> {
  let mod: { allocate?: unknown; kind?: unknown };
  try {
    mod = await import(pathToFileURL(resolve(path)).href);
  } catch (e) {
    throw new InputError(`scheme ${name}: cannot load module ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof mod.allocate !== 'function')
    throw new InputError(`scheme ${name}: module ${path} must export a function allocate(problem)`);
  if (mod.kind !== undefined && !SCHEME_KINDS.includes(mod.kind as SchemeKind))
    throw new InputError(
      `scheme ${name}: module ${path} exports kind ${JSON.stringify(mod.kind)}; valid: ${SCHEME_KINDS.join(', ')}`,
    );
  const allocate = mod.allocate as AllocateFn;
  const kind = (mod.kind as SchemeKind | undefined) ?? 'per-learner-tau';
  return {
    name,
    kind,
    allocate: async (problem: SchemeProblem): Promise<Allocation> => {
      const cycle = problem.cycle ?? 0;
      const answer = await withTimeout(
        callAllocate(name, path, allocate, problemMessage(name, problem)),
        timeout_s,
        `scheme ${name} did not answer cycle ${cycle} within ${timeout_s} s (--scheme-timeout-s)`,
      );
      return allocationFromAnswer(name, kind, problem, answer);
    },
  };
}

async function callAllocate(
  name: string,
  path: string,
  allocate: AllocateFn,
  message: ProblemMessage,
): Promise<unknown> {
  try {
    return await allocate(message);
  } catch (e) {
    throw new InputError(`scheme ${name} (${path}) threw: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function withTimeout<T>(p: Promise<T>, timeout_s: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new InputError(message)), timeout_s * 1000)),
  );
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
