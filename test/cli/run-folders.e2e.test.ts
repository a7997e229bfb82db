/**
 * Every committed run folder (results/ and experiments/, written by every earlier version) still
 * reads: its config.json migrates to a configuration with every setting present, --resume accepts
 * it, the report's reader loads it, and the oldest one resumes end to end.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.ts';
import { configFromArgs, spec } from '../../src/cli/experiment.ts';
import { configFromRunFolder } from '../../src/cli/resume.ts';
import { migrateRunConfig } from '../../src/run-folder/migrate.ts';
import { loadRunFolder } from '../../src/report/run-folder.ts';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const tmp = tmpDir('run-folders');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function runFolders(dir: string): string[] {
  const here = existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'cycles.csv')) ? [dir] : [];
  const subs = readdirSync(dir, { withFileTypes: true }).filter(
    (e) => e.isDirectory() && !['checkpoints', 'logs'].includes(e.name),
  );
  return [...here, ...subs.flatMap((e) => runFolders(join(dir, e.name)))];
}

const folders = [...runFolders(join(ROOT, 'results')), ...runFolders(join(ROOT, 'experiments'))];
// Every setting today's runs write: a migrated config must hold each one.
const KEYS = Object.keys(configFromArgs(parseArgs([], spec))).sort();

describe('committed run folders', () => {
  it('finds them (runs from several versions)', () => {
    expect(folders.length).toBeGreaterThanOrEqual(20);
  });

  it.each(folders.map((f) => [relative(ROOT, f), f]))(
    '%s: migrates, resumes and loads for the report',
    async (_name, folder) => {
      const raw = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
      const migrated = migrateRunConfig(raw);
      for (const key of KEYS) expect(migrated[key as keyof typeof migrated], key).not.toBeUndefined();
      const resumed = configFromRunFolder(folder, parseArgs(['--resume', folder], spec), spec, () => 1);
      expect(resumed.K).toBe(raw.K);
      const data = await loadRunFolder(folder);
      expect(data.cycles.length).toBeGreaterThan(0);
    },
  );

  it('the oldest folder (fewest saved settings) resumes end to end: nothing left to run, exit 0', async () => {
    const oldest = [...folders].sort(
      (a, b) =>
        Object.keys(JSON.parse(readFileSync(join(a, 'config.json'), 'utf8'))).length -
        Object.keys(JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'))).length,
    )[0];
    const copy = join(tmp, 'oldest');
    cpSync(oldest, copy, { recursive: true });
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        TSX,
        ['src/cli/experiment.ts', '--resume', copy, '--no-report'],
        { cwd: ROOT, timeout: 120_000 },
        (err, _o, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
  });
});
