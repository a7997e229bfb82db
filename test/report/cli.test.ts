import { afterAll, describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { removeTempDirs, writeFixtureRun } from './fixture.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

/** Run the CLI; async so that several runs can overlap (tsx start-up dominates). */
function report(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(ROOT, 'src/cli/report.ts'), ...args], { cwd: ROOT, env: { ...process.env, MEL_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

afterAll(removeTempDirs);

describe('npm run report', () => {
  it('renders a run folder and lists the files', async () => {
    const dir = await writeFixtureRun();
    const r = await report(dir, '--cycle', '2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(path.join(dir, 'timeline.png'));
    expect(r.stdout).toContain(path.join(dir, 'report.html'));
    expect(existsSync(path.join(dir, 'accuracy.png'))).toBe(true);
  });

  it('exits 2 with one line naming a missing file', async () => {
    const dir = await writeFixtureRun({ 'learners.csv': null });
    const r = await report(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${path.join(dir, 'learners.csv')}: missing\n`);
    expect(existsSync(path.join(dir, 'report.html'))).toBe(false);
  });

  it('exits 2 on a malformed file, a missing folder, a missing argument and a bad --cycle', async () => {
    const bad = await writeFixtureRun({ 'summary.json': '{"schemes": {"eta": {"final_accuracy": "high"}}}' });
    const cases = [
      { run: report(bad), msg: /summary\.json: schemes\.eta\.final_accuracy must be a number/ },
      { run: report('/no/such/run'), msg: /\/no\/such\/run: run folder not found/ },
      { run: report(), msg: /missing run-folder/ },
      { run: report(bad, '--cycle', '1.5'), msg: /--cycle must be an integer/ },
    ];
    for (const { run, msg } of cases) {
      const r = await run;
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1); // one line, no stack trace
    }
  });
});
