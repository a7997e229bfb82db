/** The flags that bring the user's own allocation schemes (docs/schemes.md), shared by allocate and experiment. */
import type { UserSchemeSpec } from '../run-folder/schema.ts';
import { checkSchemeNames, DEFAULT_SCHEME_TIMEOUT_S, parseUserScheme } from '../schemes/index.ts';
import type { FlagSpec } from './args.ts';

export const SCHEME_FLAGS: FlagSpec[] = [
  {
    name: 'scheme-module',
    type: 'list',
    help: 'your scheme(s) as TypeScript/JavaScript modules exporting allocate(problem): NAME=PATH[,NAME=PATH]; put NAME in --schemes (docs/schemes.md)',
  },
  {
    name: 'scheme-cmd',
    type: 'string',
    help: 'your scheme as a process in any language, "NAME=COMMAND": one JSON problem per line on its stdin, one JSON answer per line on its stdout; put NAME in --schemes (docs/schemes.md)',
  },
  { name: 'scheme-timeout-s', type: 'number', exclusiveMin: 0, default: DEFAULT_SCHEME_TIMEOUT_S, unit: 's', help: 'a scheme of yours that takes longer for one answer stops the run (exit 2)' },
];

/** The user's schemes the flags define, checked against --schemes (every name known, every definition used). */
export function userSchemesFromArgs(args: Record<string, any>, schemes: readonly string[]): UserSchemeSpec[] {
  const user = [
    ...((args.schemeModule as string[] | undefined) ?? []).map((text) => parseUserScheme('scheme-module', text)),
    ...(args.schemeCmd !== undefined ? [parseUserScheme('scheme-cmd', args.schemeCmd)] : []),
  ];
  checkSchemeNames(schemes, user);
  return user;
}

/** --scheme-module and --scheme-cmd as they were written, from a run's saved definitions (for --resume). */
export function schemeFlagValues(user: readonly UserSchemeSpec[]): { 'scheme-module': string[]; 'scheme-cmd': string | null } {
  const cmd = user.find((u) => 'command' in u);
  return {
    'scheme-module': user.flatMap((u) => ('module' in u ? [`${u.name}=${u.module}`] : [])),
    'scheme-cmd': cmd && 'command' in cmd ? `${cmd.name}=${cmd.command}` : null,
  };
}
