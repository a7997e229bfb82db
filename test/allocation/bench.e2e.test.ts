import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

describe('bench:solver', () => {
  it('--json reports a median time and τ per scheme and K', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        join(ROOT, 'node_modules', '.bin', 'tsx'),
        ['bench/solver.ts', '--ks', '10,200', '--reps', '3', '--json'],
        { cwd: ROOT },
        (err, out) => (err ? reject(err) : resolve(out)),
      ),
    );
    const j = JSON.parse(stdout);
    expect(j.rows).toHaveLength(6);
    for (const r of j.rows) {
      expect(['optimal', 'analytical', 'eta']).toContain(r.scheme);
      expect(r.median_ms).toBeGreaterThanOrEqual(0);
      expect(r.reps).toBe(3);
    }
    const tau = (scheme: string, K: number) =>
      j.rows.find((r: { scheme: string; K: number }) => r.scheme === scheme && r.K === K).tau;
    expect(tau('optimal', 10)).toBe(2); // Table I, K = 10, T = 12 s, seed 1
    expect(tau('optimal', 200)).toBeGreaterThanOrEqual(tau('eta', 200));
  });
});
