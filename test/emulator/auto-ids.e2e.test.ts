/**
 * Learner hosts that ask for their ids (npm run learner -- --learner-ids auto:N): two such hosts
 * give the spawned run's results; a killed host's ids go to the next host that asks; a host that
 * asks for more ids than are free is refused with the reason and exits 2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { claimIds } from '../../src/learner/claim.ts';
import { encodeMessage, PROTOCOL_VERSION } from '../../src/protocol/messages.ts';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import type { RunEvent } from '../../src/orchestrator/events.ts';
import { readCycles, readLearners, withoutWall } from '../helpers/run-files.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { collectLog, isAlive, startHub, startLearnerCli, tmpDir, type CliRun } from '../reliability/helpers.ts';

type Claimed = Extract<RunEvent, { type: 'claimed' }>;

describe('learner hosts with --learner-ids auto:N', () => {
  it('two hosts of auto:2 complete a K = 4 run equal to the spawned one', { timeout: 300_000 }, async () => {
    const config = smallConfig({ K: 4, cycles: 1, schemes: ['optimal'] });
    const spawned = await runExperiment({ ...config, hosts: 2 }, { out: tmpDir('auto-spawned'), log: () => {} });
    const log = collectLog();
    const hosts: CliRun[] = [];
    try {
      const result = await runExperiment(
        { ...config, external: true },
        {
          out: tmpDir('auto-hosts'),
          ...log.sinks,
          onEvent: (e) => {
            log.onEvent(e);
            if (e.type === 'listening')
              for (let h = 0; h < 2; h++)
                hosts.push(startLearnerCli(['--connect', e.url, '--learner-ids', 'auto:2'], e.token));
          },
        },
      );
      const exits = await Promise.all(hosts.map((h) => h.exited));
      for (const e of exits) expect(e.code, e.stderr).toBe(0);
      const granted = log.events.filter((e): e is Claimed => e.type === 'claimed').map((e) => e.ids);
      expect(granted.sort()).toEqual(['0-1', '2-3']);
      expect(exits.map((e) => /granted learner ids (\S+)/.exec(e.stderr)?.[1]).sort()).toEqual(['0-1', '2-3']);
      expect(withoutWall(readCycles(result.out))).toEqual(withoutWall(readCycles(spawned.out)));
      expect(readFileSync(join(result.out, 'learners.csv'), 'utf8')).toBe(
        readFileSync(join(spawned.out, 'learners.csv'), 'utf8'),
      );
    } finally {
      for (const h of hosts) h.kill();
    }
  });

  it('a killed host frees its ids for the next host that asks; asking for more than are free is refused', {
    timeout: 300_000,
  }, async () => {
    const config = smallConfig({ K: 4, cycles: 1, schemes: ['optimal'] });
    const log = collectLog();
    const hosts: CliRun[] = [];
    let url = '';
    let token = '';
    try {
      const run = runExperiment({ ...config, external: true }, { out: tmpDir('auto-kill'), ...log.sinks });
      ({ url, token } = await log.whenEvent('listening'));
      const start = (n: number) =>
        hosts[hosts.push(startLearnerCli(['--connect', url, '--learner-ids', `auto:${n}`], token)) - 1];
      const first = start(2);
      await log.whenEvent('claimed', (e) => e.pid === first.pid);
      await log.whenEvent('joined', (e) => e.learner === 1);
      first.kill('SIGKILL');
      expect((await log.whenEvent('claim-ended')).ids).toBe('0-1');
      const second = start(2);
      expect((await log.whenEvent('claimed', (e) => e.pid === second.pid)).ids).toBe('0-1');
      const third = start(2);
      expect((await log.whenEvent('claimed', (e) => e.pid === third.pid)).ids).toBe('2-3');
      // All four ids are held: one more is refused, and the host is told how many are free.
      const more = await claimIds({ url, token, count: 1 });
      expect(more).toEqual({
        kind: 'refused',
        reason:
          'not enough free learner ids for this claim: asked for 1 ids of K = 4; none is free: the others are claimed by running hosts or connected',
      });
      const result = await run;
      expect(readLearners(result.out).every((r) => r.status === 'on-time')).toBe(true);
      for (const h of [second, third]) expect((await h.exited).code).toBe(0);
      expect(hosts.every((h) => !isAlive(h.pid))).toBe(true);
    } finally {
      for (const h of hosts) h.kill();
    }
  });

  it('a host that falls silent without closing (a lost node, a network cut) loses its ids to the heartbeat', async () => {
    const { hub, url, log } = await startHub({ K: 2, heartbeatMs: 200 });
    // A claim connection that answers no ping, as a frozen host or one behind a cut network would.
    const silent = new WebSocket(url, { autoPong: false });
    try {
      await new Promise((resolve, reject) => silent.once('open', resolve).once('error', reject));
      silent.send(encodeMessage({ type: 'claim', protocol: PROTOCOL_VERSION, token: 'right-token', count: 2 }));
      expect((await log.whenEvent('claimed')).ids).toBe('0-1');
      expect((await log.whenEvent('claim-ended')).ids).toBe('0-1');
      expect(await claimIds({ url, token: 'right-token', count: 2 })).toMatchObject({ kind: 'granted', ids: [0, 1] });
    } finally {
      silent.terminate();
      await hub.close();
    }
  });

  it('the learner CLI asking for more ids than are free exits 2 with the reason in one line', async () => {
    const { hub, url } = await startHub({ K: 3 });
    try {
      const all = await claimIds({ url, token: 'right-token', count: 3 });
      expect(all).toMatchObject({ kind: 'granted', ids: [0, 1, 2] });
      const cli = await startLearnerCli(['--connect', url, '--learner-ids', 'auto:1'], 'right-token').exited;
      expect(cli.code).toBe(2);
      expect(cli.stderr.trim()).toBe(
        '[host auto:1] error: the orchestrator refused the claim: not enough free learner ids for this claim: asked for 1 ids of K = 3; none is free: the others are claimed by running hosts or connected',
      );
      for (const auto of ['auto:0', 'auto:abc']) {
        const bad = await startLearnerCli(['--connect', url, '--learner-ids', auto], 'right-token').exited;
        expect([bad.code, bad.stderr.trim()]).toEqual([
          2,
          `error: --learner-ids auto:N takes N in 1..100000, got ${auto}`,
        ]);
      }
    } finally {
      await hub.close();
    }
  });
});
