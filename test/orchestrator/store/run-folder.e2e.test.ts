/**
 * Nothing lost, nothing duplicated in a run folder: an exclusive lock (stale after a crash),
 * timings that cover every session of a resumed run, --resume refusing conflicting flags but
 * extending with a larger --cycles, temp files of killed writes cleaned up, and damaged
 * checkpoints reported in one line.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.ts';
import { PARAM_COUNT } from '../../../src/nn/mlp.ts';
import { loadCheckpoint } from '../../../src/orchestrator/store/checkpoint.ts';
import { eventsOf } from '../../../src/orchestrator/events.ts';
import { runExperiment, type RunSummaryFile } from '../../../src/orchestrator/experiment.ts';
import { LOCK_FILE } from '../../../src/orchestrator/store/run-folder-contents.ts';
import { lockRunFolder } from '../../../src/orchestrator/store/run-lock.ts';
import { errorLines, startExperiment } from '../../helpers/experiment-cli.ts';
import { collectLog, fastConfig, tmpDir, waitUntil } from '../../reliability/helpers.ts';
import { readCycles } from '../../helpers/run-files.ts';

const summaryOf = (dir: string): RunSummaryFile => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('run folder lock', () => {
  it("a second holder is refused naming the first one's pid; a dead holder's lock is taken over", async () => {
    const dir = tmpDir('lock');
    const lock = lockRunFolder(dir, { resume: false });
    expect(() => lockRunFolder(dir, { resume: true })).toThrow(
      new RegExp(`in use by another run \\(pid ${process.pid}`),
    );
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);

    const pid = await deadPid();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, hostname: os.hostname(), started_at: 'then' }));
    const again = lockRunFolder(dir, { resume: true });
    expect(again.staleHolder?.pid).toBe(pid);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    again.release();
  });

  it("two --resume of one folder at once: the second exits 2 naming the first's pid, and no cycle is written twice", async () => {
    const out = join(tmpDir('two-resumes'), 'run');
    await runExperiment(fastConfig({ cycles: 1 }), { out, log: () => {} });

    const a = startExperiment(['--resume', out, '--cycles', '3', '--no-report']);
    await waitUntil(
      () => existsSync(join(out, LOCK_FILE)) && readFileSync(join(out, LOCK_FILE), 'utf8').includes(`"pid":${a.pid}`),
      30_000,
      'the first resume to lock the folder',
    );
    process.kill(a.pid, 'SIGSTOP'); // hold it there: a stopped process still holds the lock
    try {
      const b = startExperiment(['--resume', out, '--cycles', '3', '--no-report']);
      const end = await b.exit;
      expect(end.code, end.stderr).toBe(2);
      expect(errorLines(end.stderr)).toEqual([
        expect.stringMatching(new RegExp(`${out} is in use by another run \\(pid ${a.pid}`)),
      ]);
      expect(end.stderr).not.toMatch(/joined/);
    } finally {
      process.kill(a.pid, 'SIGCONT');
    }
    const endA = await a.exit;
    expect(endA.code, endA.stderr).toBe(0);
    expect(endA.stderr).toMatch(/extending the run from 1 to 3 cycles per scheme/);
    expect(readCycles(out).map((r) => `${r.scheme},${r.cycle}`)).toEqual(['optimal,1', 'optimal,2', 'optimal,3']);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  });
});

describe('--resume', () => {
  let out: string;
  let first: RunSummaryFile;
  beforeAll(async () => {
    out = join(tmpDir('resume'), 'run');
    const log = collectLog();
    await runExperiment(fastConfig({ cycles: 2 }), { out, ...log.sinks });
    // The console's per-cycle time is that cycle's own; cycles.csv's wall_time_s is cumulative.
    const done = eventsOf(log.events, 'cycle-done');
    expect(done.map((e) => e.cycle)).toEqual([1, 2]);
    expect(done[1].wall_s).toBeCloseTo(readCycles(out)[1].wallTimeS - readCycles(out)[0].wallTimeS, 2);
    expect(log.lines.filter((l) => /cycle\s+\d\/2 .* cycle wall \d+\.\d s$/.test(l))).toHaveLength(2);
    first = summaryOf(out);
  });

  it('of a finished run changes nothing and starts no learner; extending it adds the new session to the timings', async () => {
    const noop = collectLog();
    const again = await runExperiment(fastConfig({ cycles: 2 }), { out, resume: true, ...noop.sinks });
    expect(eventsOf(noop.events, 'complete')).toEqual([{ type: 'complete', out, cycles: 2 }]);
    expect(noop.lines.join('\n')).toMatch(/is complete \(2 cycles per scheme\); nothing to resume/);
    expect(noop.lines.some((l) => /joined/.test(l))).toBe(false);
    expect(again.summary.wall_s).toBe(first.wall_s);
    expect(summaryOf(out)).toEqual(first);

    const log = collectLog();
    const extended = await runExperiment(fastConfig({ cycles: 3 }), { out, resume: true, ...log.sinks });
    expect(eventsOf(log.events, 'extended')).toEqual([{ type: 'extended', from: 2, to: 3 }]);
    expect(eventsOf(log.events, 'resuming')).toEqual([
      { type: 'resuming', out, after: [{ scheme: 'optimal', cycle: 2 }] },
    ]);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({
      cycles: 3,
      cycles_extended: [{ from: 2, to: 3 }],
    });
    const s = extended.summary;
    expect(readCycles(out)).toHaveLength(3);
    expect(s.sessions).toBe(2);
    const sessions = JSON.parse(readFileSync(join(out, 'sessions.json'), 'utf8')).sessions;
    expect(sessions).toHaveLength(2);
    expect(s.wall_s).toBeCloseTo(first.wall_s + sessions[1].wall_s, 6);
    expect(s.train_process_s).toBeCloseTo(first.train_process_s + sessions[1].train_process_s, 6);
    expect(sessions[1].train_process_s).toBeGreaterThan(0);
    expect(s.hub.connections).toBe(first.hub.connections + sessions[1].hub.connections);
    expect(s.faults.killed).toBe(first.faults.killed + sessions[1].killed);
    expect(summaryOf(out)).toEqual(s);
  });

  it('refuses every conflicting flag by name (exit 2), accepts the same value', async () => {
    const conflicts: [string, string[]][] = [
      ['K', ['--K', '4']],
      ['T', ['--T', '30']],
      ['seed', ['--seed', '99']],
      ['schemes', ['--schemes', 'optimal,eta']],
      ['fail', ['--fail', '1@1']],
      ['train-samples', ['--train-samples', '1000']],
      ['out', ['--out', join(os.tmpdir(), 'elsewhere')]],
      ['cycles', ['--cycles', '1']],
    ];
    const runs = conflicts.map(([flag, args]) => ({ flag, run: startExperiment(['--resume', out, ...args]) }));
    for (const { flag, run } of runs) {
      const end = await run.exit;
      expect(end.code, `--${flag}: ${end.stderr}`).toBe(2);
      expect(errorLines(end.stderr)).toEqual([expect.stringContaining(`--${flag} `)]);
    }
    // The run's own values are no conflict (the run is complete: nothing to do, exit 0).
    const same = startExperiment(['--resume', out, '--K', '3', '--seed', '7', '--schemes', 'optimal', '--no-report']);
    const end = await same.exit;
    expect(end.code, end.stderr).toBe(0);
  });

  it('removes temp files left by killed writes, and a damaged checkpoint manifest is one clear line', async () => {
    const ckpt = join(out, 'checkpoints', 'optimal');
    writeFileSync(join(out, 'cycles.csv.tmp-999999'), '');
    writeFileSync(join(ckpt, 'cycle-0003.f32.tmp-999999'), '');
    await runExperiment(fastConfig({ cycles: 3 }), { out, resume: true, log: () => {} });
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readdirSync(ckpt).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const last = readdirSync(ckpt)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .at(-1)!;
    writeFileSync(join(ckpt, last), '{"scheme": "optimal", "cyc');
    expect(() => loadCheckpoint(out, 'optimal', 3, PARAM_COUNT)).toThrow(InputError);
    expect(() => loadCheckpoint(out, 'optimal', 3, PARAM_COUNT)).toThrow(
      /^checkpoint of optimal cycle 3 is damaged: .*cycle-0003\.json is not valid JSON/,
    );
    const cli = startExperiment(['--resume', out, '--cycles', '4']);
    const end = await cli.exit;
    expect(end.code, end.stderr).toBe(2);
    expect(errorLines(end.stderr)).toEqual([expect.stringMatching(/checkpoint of optimal cycle 3 is damaged/)]);
  });
});
