import { afterAll, describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, removeTempDirs, writeFixtureRun } from './fixture.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

/** Run the CLI; async so that several runs can overlap (tsx start-up dominates). */
function report(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return reportFrom('', ...args);
}

/** The CLI as `npm run report` started from `initCwd` (npm runs it in the project root and says where in INIT_CWD). */
function reportFrom(
  initCwd: string,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(ROOT, 'src/cli/report.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, MEL_DEBUG: '', INIT_CWD: initCwd },
    });
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

  it('a relative folder is where the user ran npm, not the project root', async () => {
    const dir = await writeFixtureRun();
    const r = await reportFrom(path.dirname(dir), path.basename(dir), '--cycle', '1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(path.join(dir, 'report.html'));
  });

  it('--out DIR writes there and leaves the run folder byte for byte as it was (issue 11: the README example modified committed files)', async () => {
    const dir = await writeFixtureRun();
    const snapshot = async () =>
      Promise.all((await readdir(dir)).sort().map(async (f) => [f, await readFile(path.join(dir, f), 'utf8')]));
    const before = await snapshot();
    const out = path.join(await makeTempDir(), 'nested', 'report');
    const r = await report(dir, '--cycle', '1', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(path.join(out, 'report.html'));
    expect(r.stdout).not.toContain(dir + path.sep);
    expect(existsSync(path.join(out, 'timeline.png'))).toBe(true);
    expect(await snapshot()).toEqual(before);
    const help = await report('--help');
    expect(help.stdout).toMatch(/written into the folder itself[\s\S]*unless --out DIR is given/);
    expect(help.stdout).toMatch(/--out <string> +write the charts and report\.html into this folder/);
  });

  it('exits 2 with one line naming a missing file', async () => {
    const dir = await writeFixtureRun({ 'learners.csv': null });
    const r = await report(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${path.join(dir, 'learners.csv')}: missing\n`);
    expect(existsSync(path.join(dir, 'report.html'))).toBe(false);
  });

  it('exits 2 on a malformed file, a missing folder, a missing argument, a bad --cycle and an unwritable --out', async () => {
    const bad = await writeFixtureRun({ 'summary.json': '{"schemes": {"eta": {"final_accuracy": "high"}}}' });
    const good = await writeFixtureRun();
    const cases = [
      { run: report(bad), msg: /summary\.json: schemes\.eta\.final_accuracy must be a number/ },
      { run: report('/no/such/run'), msg: /\/no\/such\/run: folder not found/ },
      { run: report(), msg: /missing folder/ },
      { run: report(bad, '--cycle', '1.5'), msg: /--cycle must be an integer/ },
      {
        run: report(good, '--out', path.join(good, 'config.json', 'x')),
        msg: /config\.json\/x: cannot write the report there \(ENOTDIR\)/,
      },
    ];
    for (const { run, msg } of cases) {
      const r = await run;
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1); // one line, no stack trace
    }
  });

  it('exits 2 with one line on a folder it cannot draw (saying what it is) and on an overlay without --out', async () => {
    const good = await writeFixtureRun();
    const cases = [
      {
        run: report(path.join(ROOT, 'results/paper')),
        msg: /results\/paper: a `npm run paper` folder; claims\.md is its report/,
      },
      { run: report(good, good), msg: /2 run folders: give --out DIR for the overlay/ },
    ];
    for (const { run, msg } of cases) {
      const r = await run;
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});
