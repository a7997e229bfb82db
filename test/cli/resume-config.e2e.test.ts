/** --resume reads config.json back through the flags that wrote it: a damaged setting stops the resume, naming it. */
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const dir = tmpDir('resume-config');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function resume(folder: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      TSX,
      ['src/cli/experiment.ts', '--resume', folder, '--no-report'],
      { cwd: ROOT, timeout: 60_000 },
      (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}

/** A copy of the committed reference run with `change` applied to its config.json. */
function runWith(name: string, change: (c: Record<string, any>) => void): string {
  const folder = join(dir, name);
  cpSync(join(ROOT, 'results', 'reference-K20-T12'), folder, { recursive: true });
  const c = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
  change(c);
  writeFileSync(join(folder, 'config.json'), JSON.stringify(c, null, 2));
  return folder;
}

describe('--resume validates config.json', () => {
  it('an intact finished run resumes to "nothing left" and exits 0', async () => {
    const r = await resume(runWith('intact', () => {}));
    expect(r.code).toBe(0);
  });

  it.each([
    ['lr', (c: Record<string, any>) => (c.lr = -1), /--lr is out of range \(> 0\), got -1/],
    [
      'schemes',
      (c: Record<string, any>) => (c.schemes = ['optimal', 'bogus']),
      /--schemes: unknown scheme "bogus"; define it with --scheme-module/,
    ],
    ['K', (c: Record<string, any>) => (c.K = 0), /--K is out of range/],
    ['a physical parameter', (c: Record<string, any>) => (c.params.bandwidth_hz = 0), /--bandwidth-hz is out of range/],
  ])('a damaged %s: exit 2, one line naming it, the folder untouched', async (name, change, message) => {
    const folder = runWith(name.replace(/ /g, '-'), change);
    const before = readFileSync(join(folder, 'cycles.csv'));
    const r = await resume(folder);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: --resume .*: config.json holds a setting the run cannot use: /);
    expect(r.stderr).toMatch(message);
    expect(readFileSync(join(folder, 'cycles.csv')).equals(before)).toBe(true);
  });
});
