/**
 * External learners started by hand with the learner CLI: they join a run started with
 * external: true, train, survive a dropped connection (reconnecting with the same id through
 * an "id in use" race) and exit 0 when the run ends.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { CLOSE } from '../../src/protocol/messages.ts';
import { readLearners } from '../helpers/run-files.ts';
import { collectLog, fastConfig, isAlive, startLearnerCli, tmpDir, type CliRun } from './helpers.ts';

/**
 * A TCP proxy in front of the orchestrator. Its first connection is cut on the learner's side once
 * `cutAfterBytes` have come from the orchestrator (a task has arrived), while the orchestrator's
 * side stays open `holdMs` longer — so the learner's reconnect finds its id still in use.
 */
async function flakyProxy(target: URL, cutAfterBytes: number, holdMs: number) {
  let connections = 0;
  let cutAt = 0;
  const server = net.createServer((client) => {
    const first = connections++ === 0;
    const upstream = net.connect(Number(target.port), target.hostname);
    let cut = false;
    let fromOrchestrator = 0;
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('data', (d) => !cut && upstream.write(d));
    upstream.on('data', (d) => {
      if (cut) return;
      client.write(d);
      fromOrchestrator += d.length;
      if (first && fromOrchestrator > cutAfterBytes) {
        cut = true;
        cutAt = Date.now();
        client.destroy();
        setTimeout(() => upstream.destroy(), holdMs);
      }
    });
    client.on('close', () => !first && upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    connections: () => connections,
    cutAt: () => cutAt,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('external learners (npm run learner)', () => {
  it('join a run by hand, train, reconnect after a dropped connection, and exit 0 at the end', async () => {
    const config = fastConfig({ external: true, K: 2 });
    const log = collectLog();
    const learners: CliRun[] = [];
    let proxy: Awaited<ReturnType<typeof flakyProxy>> | null = null;
    try {
      const run = runExperiment(config, {
        out: tmpDir('external'),
        log: log.log,
        onEvent: (e) => {
          log.onEvent(e);
          if (e.type !== 'listening') return;
          const { url, token } = e;
          expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
          expect(e.reachable_urls).toEqual([url]); // a host that is not a wildcard is used as it is
          void flakyProxy(new URL(url), 1_200_000, 1500).then((p) => {
            proxy = p;
            learners.push(
              startLearnerCli(['--connect', url, '--learner-id', '0', '--f-hz', '2.4e9', '--distance-m', '20'], token),
            );
            learners.push(
              startLearnerCli(
                ['--connect', p.url, '--learner-id', '1', '--f-hz', '1.2e9', '--distance-m', '35'],
                token,
              ),
            );
          });
        },
      });
      const result = await run;
      expect(result.interrupted).toBe(false);
      const exits = await Promise.all(learners.map((l) => l.exited));
      for (const e of exits) expect(e.code, e.stderr).toBe(0);
      for (const l of learners) expect(isAlive(l.pid)).toBe(false);

      // Both trained; learner 1 lost cycle 1 to the cut and was back for cycle 2.
      const rows = readLearners(result.out);
      const status = (cycle: number, learner: number) =>
        rows.find((r) => r.cycle === cycle && r.learner === learner)!.status;
      expect([status(1, 0), status(1, 1), status(2, 0), status(2, 1)]).toEqual([
        'on-time',
        'missing',
        'on-time',
        'on-time',
      ]);
      // The fleet is what the learners announced.
      expect(rows.filter((r) => r.learner === 0).every((r) => r.fHz === 2.4e9)).toBe(true);
      expect(rows.filter((r) => r.learner === 1).every((r) => r.fHz === 1.2e9)).toBe(true);

      // The reconnect met "id in use" first and was retried, not fatal.
      expect(log.lines.some((l) => l.includes(`${CLOSE.idInUse.reason} (id 1)`))).toBe(true);
      expect(exits[1].stderr).toMatch(
        new RegExp(`connection ended \\(${CLOSE.idInUse.code} ${CLOSE.idInUse.reason}\\); retrying`),
      );
      expect(log.lines.filter((l) => /^learner 1 joined/.test(l)).length).toBe(2);
      expect(proxy!.connections()).toBeGreaterThanOrEqual(3); // first session, ≥ 1 refused retry, the rejoin
      const summary = JSON.parse(readFileSync(join(result.out, 'summary.json'), 'utf8'));
      expect(summary.faults.lost_learner_cycles).toBe(1);
      expect(summary.schemes.optimal.final_accuracy).toBeGreaterThan(0.5);
      console.log(
        `EXTERNAL learners exit codes ${exits.map((e) => e.code).join(',')}; proxy connections ${proxy!.connections()}; final accuracy ${summary.schemes.optimal.final_accuracy}; lost learner-cycles ${summary.faults.lost_learner_cycles}`,
      );
    } finally {
      for (const l of learners) l.kill();
      await (proxy as Awaited<ReturnType<typeof flakyProxy>> | null)?.close();
    }
  });
});
