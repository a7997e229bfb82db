/**
 * What ties a run folder's rows to its settings, checked before a --resume appends to them:
 * config.json carries a digest of every setting a resumed run may not change (an edited seed or K
 * would mix two experiments), and the rows must be exactly what those settings wrote — each
 * scheme's cycles 1..n once, and for each of them K learner rows, one per learner.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../../errors.ts';
import type { CycleRow, LearnerRow } from '../../run-folder/schema.ts';
import { canonicalJson } from '../../util/canonical-json.ts';

/** Fields a resumed run may change (or that record such changes): outside the digest. */
const FREE_FIELDS = new Set([
  'cycles',
  'cycles_extended',
  'hosts',
  'host',
  'port',
  'heartbeat_s',
  'task_timeout_s',
  'join_timeout_s',
  'settings_sha256',
]);

/** SHA-256 of the settings as config.json holds them (written, then read back, they digest the same). */
export function settingsDigest(config: object): string {
  const asWritten = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const k of FREE_FIELDS) delete asWritten[k];
  return createHash('sha256').update(canonicalJson(asWritten)).digest('hex');
}

/** config.json as read back: refused when its settings were edited since the run wrote them (older runs carry no digest). */
export function checkSettingsDigest(dir: string, saved: Record<string, unknown>): void {
  if (saved.settings_sha256 === undefined) return;
  if (saved.settings_sha256 !== settingsDigest(saved))
    throw new InputError(
      `--resume ${dir}: config.json was edited after the run started (its settings no longer match their digest); start a new run with --out to change a setting`,
    );
}

/** The rows of a folder about to be resumed match its settings (K learners, the schemes listed). */
export function checkRunRows(
  dir: string,
  config: { K: number; schemes: readonly string[] },
  cycles: readonly CycleRow[],
  learners: readonly LearnerRow[],
): void {
  const fail = (why: string): never => {
    throw new InputError(
      `--resume ${dir}: ${why}; the folder was edited or mixes two runs — start a new run with --out`,
    );
  };
  const last = new Map<string, number>();
  for (const r of cycles) {
    if (!config.schemes.includes(r.scheme))
      fail(`cycles.csv has rows of scheme ${r.scheme}, which config.json does not list`);
    if (r.cycle !== (last.get(r.scheme) ?? 0) + 1)
      fail(`cycles.csv has ${r.scheme} cycle ${r.cycle} after cycle ${last.get(r.scheme) ?? 0}`);
    last.set(r.scheme, r.cycle);
  }
  // Learner rows past a scheme's last cycle row belong to a cycle that never committed: resume drops them.
  const seen = new Map<string, Set<number>>();
  for (const r of learners) {
    if (!config.schemes.includes(r.scheme))
      fail(`learners.csv has rows of scheme ${r.scheme}, which config.json does not list`);
    if (r.cycle > (last.get(r.scheme) ?? 0)) continue;
    const key = `${r.scheme} cycle ${r.cycle}`;
    const ids = seen.get(key) ?? new Set<number>();
    if (r.learner >= config.K || ids.has(r.learner))
      fail(
        `learners.csv has ${r.learner >= config.K ? 'a row for learner' : 'a second row for learner'} ${r.learner} in ${key} (K = ${config.K})`,
      );
    seen.set(key, ids.add(r.learner));
  }
  for (const [scheme, n] of last)
    for (let c = 1; c <= n; c++) {
      const got = seen.get(`${scheme} cycle ${c}`)?.size ?? 0;
      if (got !== config.K) fail(`learners.csv has ${got} rows for ${scheme} cycle ${c}, expected K = ${config.K}`);
    }
}
