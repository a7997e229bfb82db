/**
 * Crash safety: an orchestrator killed with SIGKILL keeps every completed cycle, leaves no learner
 * process behind, and `--resume` continues to exactly the rows an uninterrupted run writes.
 * Ctrl-C (SIGINT) stops cleanly with a non-zero exit and says where the results are.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCycles, withoutWall } from '../helpers/run-files.ts';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FLAGS = [
  '--K',
  '2',
  '--T',
  '12',
  '--cycles',
  '3',
  '--schemes',
  'optimal',
  '--seed',
  '3',
  '--train-samples',
  '1500',
  '--test-samples',
  '500',
  '--flops-per-sample',
  String(5 * 1_123_736),
  '--backend',
  'wasm',
  '--no-report',
];

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startExperiment(args: string[]): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/experiment.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  return { child, stderr: () => err, exit };
}

// While a run writes, count lines only; complete files are read through the schema's reader.
const dataRows = (dir: string) =>
  existsSync(join(dir, 'cycles.csv')) ? readFileSync(join(dir, 'cycles.csv'), 'utf8').trim().split('\n').slice(1) : [];

async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const learnerPids = (stderr: string) => [...stderr.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('crash safety', () => {
  it('SIGKILL mid-run keeps completed cycles, leaves no orphans, and --resume reproduces the uninterrupted run', async () => {
    const tmp = tmpDir('crash');
    const reference = startExperiment([...FLAGS, '--out', join(tmp, 'reference')]);
    expect((await reference.exit).code).toBe(0);
    const expected = withoutWall(readCycles(join(tmp, 'reference')));
    expect(expected).toHaveLength(3);

    const crashed = join(tmp, 'crashed');
    const victim = startExperiment([...FLAGS, '--out', crashed]);
    // A cycle is committed (cycles.csv), then its session's timings (sessions.json): kill after both.
    await waitFor(
      () => dataRows(crashed).length >= 1 && existsSync(join(crashed, 'sessions.json')),
      60_000,
      'the first cycle',
    );
    victim.child.kill('SIGKILL');
    await victim.exit;
    const pids = learnerPids(victim.stderr());
    expect(pids.length).toBe(2);
    await waitFor(() => pids.every((p) => !alive(p)), 10_000, 'learner processes to exit after the orchestrator died');
    const kept = dataRows(crashed);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(3);

    const resumed = startExperiment(['--resume', crashed]);
    const end = await resumed.exit;
    expect(end.code, resumed.stderr()).toBe(0);
    expect(resumed.stderr()).toMatch(/resuming/);
    // The killed run's lock was stale (its pid is dead): taken over, and released at the end.
    expect(resumed.stderr()).toMatch(
      new RegExp(`took over the lock of a run that ended without releasing it \\(pid ${victim.child.pid}\\)`),
    );
    expect(existsSync(join(crashed, 'run.lock'))).toBe(false);
    expect(withoutWall(readCycles(crashed))).toEqual(expected);
    // The killed session's timings (kept up to its last cycle) count too.
    const summary = JSON.parse(readFileSync(join(crashed, 'summary.json'), 'utf8'));
    expect(summary.sessions).toBe(2);
    expect(summary.cycles_wall_s).toBeGreaterThan(0);
    // learners.csv holds each cycle exactly once after the resume.
    const learnerRows = readFileSync(join(crashed, 'learners.csv'), 'utf8').trim().split('\n').slice(1);
    expect(learnerRows).toEqual(
      readFileSync(join(tmp, 'reference', 'learners.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1),
    );
  });

  it('SIGINT stops cleanly: non-zero exit, completed cycles kept, where to find them printed, no orphans', async () => {
    const out = join(tmpDir('sigint'), 'run');
    const run = startExperiment([...FLAGS, '--out', out]);
    await waitFor(() => dataRows(out).length >= 1, 60_000, 'the first cycle');
    run.child.kill('SIGINT');
    const end = await run.exit;
    expect(end.code).toBe(130);
    expect(run.stderr()).toContain(`--resume ${out}`);
    const rows = readCycles(out); // every row whole: the strict reader checks each line's fields
    expect(rows.length).toBeGreaterThanOrEqual(1);
    const pids = learnerPids(run.stderr());
    await waitFor(() => pids.every((p) => !alive(p)), 10_000, 'learner processes to exit');
  });
});
