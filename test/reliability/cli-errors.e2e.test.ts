/**
 * Error and signal paths of `npm run experiment` as real processes: each ends promptly with one
 * line and the right exit code, before any learner is spawned when the input is at fault, and
 * leaves no process behind.
 */
import net from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { errorLines, startExperiment, tiny } from '../helpers/experiment-cli.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { SIGNAL_ECHO_MS } from '../../src/cli/stop-signals.ts';
import { isAlive, startHub, waitUntil } from './helpers.ts';
import { tmpDir } from '../helpers/tmp.ts';

const tmp = () => tmpDir('cli');

/** Exit 2 with exactly one "error:" line containing `message`, and no learner ever started. */
async function expectRefused(args: string[], message: RegExp): Promise<string> {
  const run = startExperiment(args);
  const end = await run.exit;
  expect(end.code, end.stderr).toBe(2);
  expect(errorLines(end.stderr)).toHaveLength(1);
  expect(errorLines(end.stderr)[0]).toMatch(message);
  expect(end.stderr).not.toMatch(/joined|waiting for/);
  return end.stderr;
}

describe('port already in use', () => {
  it('the hub rejects with an InputError and leaves no heartbeat timer running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    try {
      await expect(startHub({ port, heartbeatMs: 50 })).rejects.toThrow(InputError);
      await expect(startHub({ port })).rejects.toThrow(`port ${port} is already in use`);
      expect(timers()).toBe(before);
    } finally {
      blocker.close();
    }
  });

  it('the CLI exits 2 with one line, promptly, and creates no run folder', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const out = join(tmp(), 'run');
    try {
      await expectRefused(tiny({ port: String(port), out }), new RegExp(`port ${port} is already in use`));
      expect(existsSync(out)).toBe(false);
    } finally {
      blocker.close();
    }
  });
});

describe('--out that cannot be written', () => {
  it.each([
    ['under a file', '/etc/passwd/x', /a part of the path is a file/],
    ['under /proc', '/proc/mel-run', /cannot create the run folder \/proc\/mel-run/],
    ['a read-only place', '/sys/mel-run', /cannot create the run folder \/sys\/mel-run: permission denied/],
    ['an existing folder that takes no files', '/proc', /cannot write in the run folder \/proc/],
  ])('%s (%s): exit 2 before spawning', async (_what, out, message) => {
    await expectRefused(tiny({ out }), message);
  });
});

describe('flags checked before the run folder or a learner exists', () => {
  it('--time-scale without --clock real', async () => {
    const out = join(tmp(), 'run');
    await expectRefused(tiny({ 'time-scale': '0.5', out }), /--time-scale only applies to --clock real/);
    expect(existsSync(out)).toBe(false);
  });

  it('--train-samples beyond the 60000 training images', async () => {
    const out = join(tmp(), 'run');
    await expectRefused(
      tiny({ 'train-samples': '70000', out }),
      /--train-samples 70000 exceeds the 60000 training images/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a folder holding an unrelated config.json is refused, not overwritten', async () => {
    const out = tmp();
    const foreign = '{"name": "my other project", "version": 3}\n';
    writeFileSync(join(out, 'config.json'), foreign);
    await expectRefused(tiny({ out }), /config\.json exists and is not a run's config/);
    await expectRefused(['--resume', out], /not a run's config/);
    expect(readFileSync(join(out, 'config.json'), 'utf8')).toBe(foreign);

    const other = tmp(); // no config.json, but a file a run would append to
    writeFileSync(join(other, 'learners.csv'), 'name,phone\n');
    await expectRefused(tiny({ out: other }), /holds learners\.csv but no run; refusing to overwrite/);
    expect(readFileSync(join(other, 'learners.csv'), 'utf8')).toBe('name,phone\n');
  });
});

describe('signals', () => {
  it('Ctrl-C while waiting for learners to join stops at once and suggests no --resume', async () => {
    const out = join(tmp(), 'run');
    const run = startExperiment([...tiny({ 'join-timeout-s': '600', out }), '--external']);
    await run.when(/waiting for 2 learners to join/);
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const end = await run.exit;
    expect(end.code, end.stderr).toBe(130);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(end.stderr).toMatch(/interrupted before the first cycle completed: nothing to resume/);
    expect(end.stderr).not.toMatch(/--resume/);
    expect(existsSync(out)).toBe(false); // created for the lock, removed again: nothing was written
  });

  it('a second Ctrl-C ends the process at once, even while the first is still stopping learners', async () => {
    const out = join(tmp(), 'run');
    const run = startExperiment(tiny({ cycles: '50', out }));
    const pids = await Promise.all(
      [0, 1].map(async (id) => Number((await run.when(new RegExp(`learner ${id} joined .*\\(pid (\\d+)\\)`)))[1])),
    );
    // A frozen learner makes the orderly stop wait out its 2 s grace period.
    process.kill(pids[0], 'SIGSTOP');
    try {
      run.child.kill('SIGINT');
      await run.when(/stopping learners/);
      await sleep(SIGNAL_ECHO_MS); // a second press, not npm's echo of the first
      const t0 = Date.now();
      run.child.kill('SIGINT');
      const end = await run.exit;
      expect(end.code, end.stderr).toBe(130);
      expect(end.stderr).toMatch(/SIGINT: exiting now/);
      expect(Date.now() - t0).toBeLessThan(1500);
    } finally {
      process.kill(pids[0], 'SIGCONT'); // its pipe is closed: it exits by itself
    }
    await waitUntil(() => pids.every((p) => !isAlive(p)), 10_000, 'the learners to exit');
  });
});
