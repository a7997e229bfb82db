/**
 * `--dashboard` on `npm run experiment` and `npm run dashboard -- FOLDER` as real processes: the
 * page, /events and /metrics during a run; a port that cannot be used stops the command before
 * the run starts; a finished folder is shown complete; bad input exits 2 with one line.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorLines, ROOT, startExperiment, tiny } from '../helpers/experiment-cli.ts';
import { tmpDir } from '../reliability/helpers.ts';

const children: number[] = [];
afterAll(() => {
  for (const pid of children)
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already ended
    }
});

function dashboardCli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/dashboard.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, INIT_CWD: '', ...env },
  });
}

/** `npm run dashboard -- FOLDER --port 0`, once it prints its URL. */
async function startViewer(folder: string): Promise<{ viewer: ChildProcess; url: string }> {
  const viewer = spawn(process.execPath, ['--import', 'tsx', 'src/cli/dashboard.ts', folder, '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(viewer.pid!);
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    viewer.stderr!.on('data', (d) => {
      err += d;
      const m = /: (http:\/\/\S+\/) \(metrics/.exec(err);
      if (m) resolve(m[1]);
    });
    viewer.on('exit', () => reject(new Error(err)));
  });
  return { viewer, url };
}

async function blockedPort(): Promise<{ port: number; close: () => void }> {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  return { port: (blocker.address() as net.AddressInfo).port, close: () => blocker.close() };
}

describe('npm run experiment -- --dashboard', () => {
  it('serves /, /events and /metrics while the run goes; afterwards events.jsonl parses line by line and npm run dashboard shows the final cycle', async () => {
    const out = join(tmpDir('dash-cli'), 'run');
    // Real clock: each cycle lasts 0.25·T = 3 s of wall time, so after cycle 1 the server stays up
    // at least 9 s more for the /metrics request, however late a loaded machine makes it.
    const run = startExperiment([
      ...tiny({ cycles: '4' }),
      ...['--clock', 'real', '--time-scale', '0.25', '--out', out, '--dashboard'],
    ]);
    children.push(run.pid);
    const [, url] = await run.when(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/) \(metrics: /);
    expect(await (await fetch(url)).text()).toContain('<title>MEL dashboard</title>');
    const stream = await fetch(`${url}events`);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body!.getReader();
    let first = '';
    while (!first.includes('\n\ndata: ')) first += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    await run.when(/optimal\s+cycle\s+1\/4/);
    const metrics = await (await fetch(`${url}metrics`)).text();
    for (const name of [
      'mel_cycle',
      'mel_test_accuracy',
      'mel_test_loss',
      'mel_late_learners',
      'mel_learners_connected',
      'mel_bytes_sent_total',
      'mel_bytes_received_total',
      'mel_cycle_wall_seconds',
    ])
      expect(metrics).toContain(`# TYPE ${name} `);
    expect(metrics).toMatch(/mel_cycle\{scheme="optimal"\} [1-4]\n/);
    expect((await run.exit).code).toBe(0);

    const lines = readFileSync(join(out, 'events.jsonl'), 'utf8').trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'cycle-done').map((e) => e.cycle)).toEqual([1, 2, 3, 4]);

    const { viewer, url: viewerUrl } = await startViewer(out);
    const final = await (await fetch(`${viewerUrl}metrics`)).text();
    expect(final).toContain('mel_cycle{scheme="optimal"} 4\n');
    expect(final).toContain('mel_learners_connected 0\n');
    const snapshot = await (await fetch(`${viewerUrl}snapshot.json`)).json();
    expect(snapshot.runs[0]).toMatchObject({ status: 'finished', cycles_done: 4, cycles_total: 4, eta_s: 0 });
    viewer.kill('SIGTERM');
    expect(await new Promise((r) => viewer.on('exit', (code) => r(code)))).toBe(0);
  });

  it('a campaign (--seeds 2): one page for both seeds, metrics labelled by seed, the later seed pending while the first runs; npm run dashboard on the campaign folder shows both finished', async () => {
    const out = join(tmpDir('dash-campaign'), 'campaign');
    // Real clock, 2 cycles of 3 s per seed: once seed 3's cycle 1 is done, seed 3 still has a cycle
    // to go and seed 4 all of its own, so the server is up for the requests below.
    const run = startExperiment([
      ...tiny({ cycles: '2', seeds: '2' }),
      ...['--clock', 'real', '--time-scale', '0.25', '--out', out, '--dashboard', '0'],
    ]);
    children.push(run.pid);
    const [, url] = await run.when(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/) \(metrics: /);
    await run.when(/\[seed 3\] optimal\s+cycle\s+1\/2/);
    const live = await (await fetch(`${url}snapshot.json`)).json();
    expect(live.runs.map((r: { labels: object; cycles_total: number }) => [r.labels, r.cycles_total])).toEqual([
      [{ seed: '3' }, 2],
      [{ seed: '4' }, 2],
    ]);
    expect(live.runs[1].status).toBe('pending');
    expect(await (await fetch(`${url}metrics`)).text()).toMatch(/mel_cycle\{seed="3",scheme="optimal"\} [12]\n/);
    expect((await run.exit).code).toBe(0);

    const { viewer, url: viewerUrl } = await startViewer(out);
    const final = await (await fetch(`${viewerUrl}metrics`)).text();
    for (const seed of ['3', '4']) expect(final).toContain(`mel_cycle{seed="${seed}",scheme="optimal"} 2\n`);
    viewer.kill('SIGTERM');
    expect(await new Promise((r) => viewer.on('exit', (code) => r(code)))).toBe(0);
  });

  it('a dashboard port in use: exit 2 with one line before the run starts (no folder, no learner)', async () => {
    const blocker = await blockedPort();
    const out = join(tmpDir('dash-busy'), 'run');
    try {
      const run = startExperiment([...tiny(), '--out', out, '--dashboard', String(blocker.port)]);
      const end = await run.exit;
      expect(end.code, end.stderr).toBe(2);
      expect(errorLines(end.stderr)).toEqual([
        `error: the dashboard cannot listen on 127.0.0.1:${blocker.port}: port ${blocker.port} is in use; choose another --dashboard (0 = any free port)`,
      ]);
      expect(end.stderr).not.toMatch(/run folder|joined/);
      expect(existsSync(out)).toBe(false);
    } finally {
      blocker.close();
    }
  });
});

describe('npm run dashboard', () => {
  it('--help names the folder and the flags; a bad folder or port exits 2 with one line', async () => {
    const help = dashboardCli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: npm run dashboard -- \[flags\] <folder>/);
    const missing = dashboardCli(['/nonexistent/run']);
    expect(missing.status).toBe(2);
    expect(errorLines(missing.stderr)).toEqual([
      'error: /nonexistent/run does not exist; give a run, campaign or sweep folder',
    ]);
    const notRun = dashboardCli([tmpDir('dash-empty')]);
    expect(notRun.status).toBe(2);
    expect(errorLines(notRun.stderr)[0]).toMatch(/holds no events\.jsonl .*not a run, campaign or sweep folder/);
    expect(dashboardCli([]).status).toBe(2);
    // A finished campaign whose runs kept no events.jsonl (results/paper's are not in git) would show
    // every seed as pending forever: refused, pointing to the report.
    const campaign = tmpDir('dash-no-events');
    writeFileSync(join(campaign, 'campaign.json'), '{}');
    mkdirSync(join(campaign, 'seed-1'));
    for (const f of ['config.json', 'summary.json']) writeFileSync(join(campaign, 'seed-1', f), '{}');
    const old = dashboardCli([campaign]);
    expect(old.status).toBe(2);
    expect(errorLines(old.stderr)).toEqual([
      `error: ${campaign}: its runs have no events.jsonl (made before events were logged, or copied without its events.jsonl); npm run report -- ${campaign} renders its results`,
    ]);
    const blocker = await blockedPort();
    try {
      const folder = tmpDir('dash-busy-port');
      writeFileSync(join(folder, 'events.jsonl'), '');
      const busy = dashboardCli([folder, '--port', String(blocker.port)]);
      expect(busy.status).toBe(2);
      expect(errorLines(busy.stderr)).toHaveLength(1);
      // A relative folder is where the user ran npm (INIT_CWD), not the project root npm runs in:
      // found, so the command gets as far as the busy port.
      const elsewhere = dashboardCli([basename(folder), '--port', String(blocker.port)], { INIT_CWD: dirname(folder) });
      expect(errorLines(elsewhere.stderr)).toEqual([
        `error: the dashboard cannot listen on 127.0.0.1:${blocker.port}: port ${blocker.port} is in use; choose another --port (0 = any free port)`,
      ]);
    } finally {
      blocker.close();
    }
  });
});
