import type { ExperimentConfig } from './schema.ts';

/** A config.json a run wrote (not some other tool's file of the same name). */
export function isRunConfig(value: unknown): value is ExperimentConfig {
  const c = value as Record<string, unknown> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    Number.isInteger(c.K) &&
    typeof c.T === 'number' &&
    Number.isInteger(c.cycles) &&
    Array.isArray(c.schemes) &&
    Number.isInteger(c.train_samples) &&
    typeof c.params === 'object' &&
    c.params !== null
  );
}
