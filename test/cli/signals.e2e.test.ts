/**
 * Signals through `npm run` (issue 27, item 6), with real processes. npm forwards SIGINT/SIGTERM to
 * its script's process; the script must `exec` the command, or the `sh -c` in between holds the
 * signal until the run ends. Also: a Ctrl-C at a terminal reaches both npm and the command, so the
 * command sees it twice — one press, not two (that would quit without cleaning up).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, tiny } from '../helpers/experiment-cli.ts';
import { tmpDir } from '../helpers/tmp.ts';

const started: ChildProcess[] = [];
afterEach(() => {
  // Whatever a failed test left: the whole group it started (never this test's own group).
  for (const c of started.splice(0))
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // gone
    }
});

/** `cmd` in a process group of its own (as a shell job would be), stderr collected. */
function job(cmd: string, args: string[]) {
  const child = spawn(cmd, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null }>((r) => child.on('close', (code) => r({ code })));
  const when = async (re: RegExp) => {
    while (!re.test(stderr)) {
      if (child.exitCode !== null) throw new Error(`exited before ${re}:\n${stderr}`);
      await sleep(100);
    }
  };
  return { child, exit, when, stderr: () => stderr };
}

/** Processes whose command line names `dir` (the orchestrator's --out), other than zombies. */
function processesNaming(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return (
          readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir) &&
          !/\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8'))
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Every file under `dir` (relative path → size): what a process still writing would change. */
function snapshot(dir: string): Record<string, number> {
  if (!existsSync(dir)) return {};
  const files: Record<string, number> = {};
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(join(dir, f), { throwIfNoEntry: false });
    if (st?.isFile()) files[f] = st.size;
  }
  return files;
}

const longRun = (out: string) => tiny({ cycles: '1000', out });

describe('signals through npm run', () => {
  it('SIGINT sent to the npm process alone stops the run at once (exit 130), keeping its cycles', async () => {
    const out = join(tmpDir('sig'), 'run');
    const run = job('npm', ['run', '-s', 'experiment', '--', ...longRun(out)]);
    await run.when(/cycle {3}1\/1000/);
    const sent = Date.now();
    process.kill(run.child.pid!, 'SIGINT');
    const { code } = await run.exit;
    expect(code, run.stderr()).toBe(130);
    expect(Date.now() - sent).toBeLessThan(15_000);
    expect(run.stderr()).toContain('SIGINT: stopping learners');
    expect(run.stderr()).not.toContain('exiting now'); // npm's forwarded copy is not a second Ctrl-C
    expect(run.stderr()).toMatch(/interrupted: results so far are in .*--resume/);
    expect(existsSync(join(out, 'run.lock'))).toBe(false);
  }, 60_000);

  it('a Ctrl-C at a terminal (the whole group) is one press: the run stops cleanly, not "at once"', async () => {
    const out = join(tmpDir('sig'), 'run');
    const run = job('npm', ['run', '-s', 'experiment', '--', ...longRun(out)]);
    await run.when(/cycle {3}1\/1000/);
    process.kill(-run.child.pid!, 'SIGINT');
    const { code } = await run.exit;
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).not.toContain('exiting now');
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
    // the learner hosts got the Ctrl-C too: their disconnects are one line, not one per learner
    expect(run.stderr()).not.toMatch(/^learner \d+ disconnected/m);
  }, 60_000);

  it('after `timeout 15 npm run experiment …` returns, nothing writes to the run folder any more', async () => {
    const out = join(tmpDir('sig'), 'run');
    const run = job('timeout', ['15', 'npm', 'run', '-s', 'experiment', '--', ...longRun(out)]);
    const { code } = await run.exit;
    expect(code, run.stderr()).toBe(124);
    expect(processesNaming(out)).toEqual([]);
    const before = snapshot(out);
    await sleep(3000);
    expect(snapshot(out)).toEqual(before);
    expect(before).not.toHaveProperty('run.lock');
  }, 90_000);
});
