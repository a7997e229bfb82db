/**
 * Schemes that give every learner the same batch and the same τ_k train identically (the
 * mini-batch order depends on the learner and its batch, not on the scheme): comparing them
 * compares a scheme with itself. A --tau-max cap can make that happen without a word, so the run
 * says so at set-up and summary.json records it.
 */
import type { SchemeName } from '../allocation/types.ts';
import type { LearnerRow } from '../run-folder/schema.ts';

/** What decides a scheme's training, learner by learner (and, from learners.csv, cycle by cycle). */
export interface AllocationKey {
  batch: readonly number[];
  tau_per_learner: readonly number[];
}

/** Groups of two or more schemes whose allocations are identical, in the schemes' order. */
export function identicalGroups<S extends string>(allocations: ReadonlyMap<S, AllocationKey>): S[][] {
  return groupsOfEqual(
    new Map([...allocations].map(([scheme, a]) => [scheme, JSON.stringify([a.batch, a.tau_per_learner])])),
  );
}

/** The same from learners.csv: schemes whose every (cycle, learner) row has the same batch and τ_k. */
export function identicalGroupsFromRows(schemes: readonly SchemeName[], rows: readonly LearnerRow[]): SchemeName[][] {
  const keys = new Map<SchemeName, string>();
  for (const scheme of schemes) {
    const own = rows.filter((r) => r.scheme === scheme).sort((a, b) => a.cycle - b.cycle || a.learner - b.learner);
    if (own.length === 0 || own.some((r) => r.tau === null)) continue; // never ran, or rows from before the tau column
    keys.set(scheme, JSON.stringify(own.map((r) => [r.cycle, r.learner, r.batch, r.tau])));
  }
  return groupsOfEqual(keys);
}

function groupsOfEqual<S>(keys: ReadonlyMap<S, string>): S[][] {
  const byKey = new Map<string, S[]>();
  for (const [scheme, key] of keys) byKey.set(key, [...(byKey.get(key) ?? []), scheme]);
  return [...byKey.values()].filter((g) => g.length > 1);
}
