/**
 * The dashboard server (page, SSE, metrics) on a loopback port, and the follower that feeds it from
 * events.jsonl files as they grow: partial lines, a replaced file, a campaign folder, bad lines.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { EventsFollower } from '../../src/dashboard/follow.ts';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.ts';
import { DashboardState, type Snapshot } from '../../src/dashboard/state.ts';
import { eventLine } from '../../src/orchestrator/store/event-log.ts';
import type { RunEvent } from '../../src/orchestrator/events.ts';
import { EVENTS_FILE } from '../../src/run-folder/schema.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { tmpDir } from '../reliability/helpers.ts';

const config = smallConfig({ cycles: 2, schemes: ['eta'] });
const start: RunEvent = { type: 'session-start', out: '/o', resume: false, pid: 1, config };
const done = (cycle: number, accuracy: number): RunEvent => ({
  type: 'cycle-done',
  scheme: 'eta',
  cycle,
  cycles: 2,
  tau: 2,
  accuracy,
  loss: 0.5,
  late: 0,
  missing: [],
  diverged: false,
  wall_s: 2,
  session_done: cycle,
  session_left: 2 - cycle,
});

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** Opens /events and collects the snapshots it pushes. */
function subscribe(url: string): { snapshots: Snapshot[]; next: (n: number) => Promise<Snapshot>; close: () => void } {
  const snapshots: Snapshot[] = [];
  const waiters: { n: number; resolve: (s: Snapshot) => void }[] = [];
  let buffer = '';
  const req = request(`${url}events`, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = message.split('\n').find((l) => l.startsWith('data: '));
        if (data) snapshots.push(JSON.parse(data.slice(6)));
        for (const w of [...waiters])
          if (snapshots.length >= w.n) waiters.splice(waiters.indexOf(w), 1) && w.resolve(snapshots[w.n - 1]);
      }
    });
  });
  req.on('error', () => {});
  req.end();
  return {
    snapshots,
    next: (n) =>
      new Promise((resolve) => (snapshots.length >= n ? resolve(snapshots[n - 1]) : waiters.push({ n, resolve }))),
    close: () => req.destroy(),
  };
}

let server: Dashboard | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('dashboard server', () => {
  it('serves the page and its script from itself (no CDN), pushes snapshots on /events and answers /metrics', async () => {
    const state = new DashboardState();
    server = await startDashboard({ host: '127.0.0.1', port: 0, state });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server.url);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('<script src="/app.js">');
    const script = await get(`${server.url}app.js`);
    expect(script.body).toContain("new EventSource('/events')");
    // offline: nothing is loaded from another host
    for (const text of [page.body, script.body]) expect(text).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(script.body).not.toMatch(/fetch\(|XMLHttpRequest|setInterval\([^)]*fetch/); // no polling: updates are pushed

    const events = subscribe(server.url);
    expect((await events.next(1)).runs).toEqual([]);
    state.apply('', start, Date.now());
    state.apply('', done(1, 0.75), Date.now());
    server.notify();
    const pushed = await events.next(2);
    expect(pushed.runs[0].points.eta).toEqual([expect.objectContaining({ cycle: 1, accuracy: 0.75 })]);
    events.close();

    const metrics = await get(`${server.url}metrics`);
    expect(metrics.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(metrics.body).toContain('mel_cycle{scheme="eta"} 1\n');
    expect((await get(`${server.url}nope`)).status).toBe(404);
  });

  it('a port in use is an InputError naming the flag to change', async () => {
    server = await startDashboard({ host: '127.0.0.1', port: 0, state: new DashboardState() });
    const port = Number(new URL(server.url).port);
    const second = startDashboard({
      host: '127.0.0.1',
      port,
      state: new DashboardState(),
      flags: { host: '--dashboard-host', port: '--dashboard' },
    });
    await expect(second).rejects.toThrow(InputError);
    await expect(second).rejects.toThrow(`port ${port} is in use; choose another --dashboard`);
    await expect(startDashboard({ host: '192.0.2.1', port: 0, state: new DashboardState() })).rejects.toThrow(
      /not an address of this machine/,
    );
  });
});

describe('following events.jsonl', () => {
  it('reads lines as they are completed, ignores the one still being written, and starts over when the file is replaced', () => {
    const dir = tmpDir('follow');
    const file = join(dir, EVENTS_FILE);
    const state = new DashboardState();
    const follower = new EventsFollower(dir, state);
    expect(follower.poll()).toBe(false); // no file yet
    writeFileSync(file, eventLine(start, new Date(1000)) + eventLine(done(1, 0.5), new Date(2000)).slice(0, 30));
    expect(follower.poll()).toBe(true);
    expect(state.snapshot(3000).runs[0].cycles_done).toBe(0);
    appendFileSync(file, eventLine(done(1, 0.5), new Date(2000)).slice(30));
    expect(follower.poll()).toBe(true);
    expect(state.snapshot(3000).runs[0].points.eta.map((p) => p.accuracy)).toEqual([0.5]);
    expect(follower.poll()).toBe(false);
    // a new run replaced the file (shorter than what was read)
    writeFileSync(file, eventLine(start, new Date(5000)));
    expect(follower.poll()).toBe(true);
    expect(state.snapshot(6000).runs[0].cycles_done).toBe(0);
  });

  it('a campaign folder: every seed is a run labelled by its seed, planned ones before they start; bad lines are skipped with one warning', () => {
    const dir = tmpDir('follow-campaign');
    writeFileSync(
      join(dir, 'campaign.json'),
      JSON.stringify({ kind: 'mel-campaign', base: config, seeds: [1, 2], fixed_fleet: false }),
    );
    mkdirSync(join(dir, 'seed-1'));
    writeFileSync(
      join(dir, 'seed-1', EVENTS_FILE),
      eventLine(start, new Date(1000)) +
        'not json\n{"ts":"2026-01-01T00:00:01.500Z","type":"cycle-done"}\n' +
        eventLine(done(1, 0.6), new Date(2000)),
    );
    const warnings: string[] = [];
    const state = new DashboardState();
    new EventsFollower(dir, state, (w) => warnings.push(w)).poll();
    const s = state.snapshot(3000, false);
    expect(s.runs.map((r) => [r.id, r.labels, r.status, r.cycles_done])).toEqual([
      ['seed-1', { seed: '1' }, 'starting', 1],
      ['seed-2', { seed: '2' }, 'pending', 0],
    ]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/not events .*skipped/);
    expect(warnings[1]).toMatch(/skipped a "cycle-done" event/);
  });
});
