/** The user's own allocation schemes (docs/schemes.md) from --scheme-module and --scheme-cmd (declared in settings.ts). */
import type { UserSchemeSpec } from '../run-folder/schema.ts';
import { checkSchemeNames, parseUserScheme } from '../schemes/index.ts';

/** The user's schemes the flags define, checked against --schemes (every name known, every definition used). */
export function userSchemesFromArgs(
  args: { schemeModule?: string[]; schemeCmd?: string },
  schemes: readonly string[],
): UserSchemeSpec[] {
  const user = [
    ...(args.schemeModule ?? []).map((text) => parseUserScheme('scheme-module', text)),
    ...(args.schemeCmd !== undefined ? [parseUserScheme('scheme-cmd', args.schemeCmd)] : []),
  ];
  checkSchemeNames(schemes, user);
  return user;
}

/** --scheme-module and --scheme-cmd as they were written, from a run's saved definitions (for --resume). */
export function schemeFlagValues(user: readonly UserSchemeSpec[]): {
  'scheme-module': string[];
  'scheme-cmd': string | null;
} {
  const cmd = user.find((u) => 'command' in u);
  return {
    'scheme-module': user.flatMap((u) => ('module' in u ? [`${u.name}=${u.module}`] : [])),
    'scheme-cmd': cmd && 'command' in cmd ? `${cmd.name}=${cmd.command}` : null,
  };
}
