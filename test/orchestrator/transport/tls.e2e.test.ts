/**
 * wss:// for real: certificates made here by the openssl CLI (a CA and a server certificate for
 * 127.0.0.1/localhost). A TLS run gives the plain run's results, with an external host that trusts
 * the CA by --ca and with spawned hosts that trust the run's own certificate. A plain ws:// client, a
 * certificate that does not verify and wss:// to a plain orchestrator are each refused at once with
 * one line, and the learner exits non-zero.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../../src/orchestrator/transport/addresses.ts';
import { runExperiment } from '../../../src/orchestrator/experiment.ts';
import { readTlsFiles } from '../../../src/orchestrator/transport/listener.ts';
import { formatRunEvent } from '../../../src/cli/run-events.ts';
import { TLS_REQUIRED_REASON } from '../../../src/protocol/messages.ts';
import { createModelCache } from '../../../src/learner/model-cache.ts';
import { serveHost } from '../../../src/learner/serve.ts';
import { learnerTrust, type TlsTrust } from '../../../src/learner/tls.ts';
import { readCycles, withoutWall } from '../../helpers/run-files.ts';
import { smallConfig } from '../../helpers/run-config.ts';
import { collectLog, startHub, startLearnerCli, tmpDir, type CliRun } from '../../reliability/helpers.ts';

/** A CA, a server certificate it signed for 127.0.0.1 and localhost, and an unrelated CA. */
function makeCerts(): { dir: string; ca: string; otherCa: string; cert: string; key: string } {
  const dir = tmpDir('certs');
  const at = (f: string) => join(dir, f);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const ca of ['ca', 'other-ca'])
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${ca}`,
    );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(at('san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.cnf',
  );
  return { dir, ca: at('ca.crt'), otherCa: at('other-ca.crt'), cert: at('server.crt'), key: at('server.key') };
}

const certs = makeCerts();
const tls = readTlsFiles(certs.cert, certs.key);
const PROFILE = ['--f-hz', '1e9', '--rate-bps', '1e8'];

/** The learner CLI's exit once it gave up (a refusal, not the end of its 600 s retry window). */
async function refusedLearner(args: string[], token: string): Promise<{ code: number | null; stderr: string }> {
  const exit = await startLearnerCli([...args, '--retry-s', '600'], token).exited;
  return { code: exit.code, stderr: exit.stderr };
}

/**
 * The same in this process, timed without a process start (seconds on a loaded machine): three
 * learners of one host, within a 60 s retry window. The host's lines, and how long it took.
 */
async function refusedHost(
  url: string,
  trust: TlsTrust | undefined,
): Promise<{ code: number; lines: string[]; seconds: number }> {
  const lines: string[] = [];
  const start = Date.now();
  const code = await serveHost(
    [0, 1, 2].map((id) => ({ id, profile: { f_hz: 1e9, rate_bps: 1e8 } })),
    {
      url,
      token: 'right-token',
      retryS: 60,
      models: createModelCache(),
      engineFor: () => Promise.reject(new Error('no engine in this test')),
      log: () => {},
      warn: (id, line) => lines.push(`${id}: ${line}`),
      warnHost: (line) => lines.push(line),
      tls: trust,
    },
  );
  return { code, lines, seconds: (Date.now() - start) / 1000 };
}

describe('TLS (--tls-cert, --tls-key, --ca)', () => {
  it("a TLS run equals the plain run: an external host trusting the CA by --ca, and spawned hosts trusting the run's certificate", {
    timeout: 300_000,
  }, async () => {
    const config = smallConfig({ K: 4, cycles: 1, schemes: ['optimal'] });
    const plain = await runExperiment({ ...config, hosts: 2 }, { out: tmpDir('plain'), log: () => {} });
    const spawned = collectLog();
    const tlsSpawned = await runExperiment(
      { ...config, hosts: 2 },
      { out: tmpDir('tls-spawned'), ...spawned.sinks, tls },
    );
    expect((await spawned.whenEvent('listening')).url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    let host: CliRun | null = null;
    try {
      const external = await runExperiment(
        { ...config, external: true },
        {
          out: tmpDir('tls-external'),
          log: () => {},
          tls,
          onEvent: (e) => {
            if (e.type === 'listening')
              host = startLearnerCli(['--connect', e.url, '--ca', certs.ca, '--learner-ids', '0-3'], e.token);
          },
        },
      );
      const exit = await host!.exited;
      expect(exit.code, exit.stderr).toBe(0);
      for (const out of [tlsSpawned.out, external.out]) {
        expect(withoutWall(readCycles(out))).toEqual(withoutWall(readCycles(plain.out)));
        expect(readFileSync(join(out, 'learners.csv'), 'utf8')).toBe(
          readFileSync(join(plain.out, 'learners.csv'), 'utf8'),
        );
      }
    } finally {
      (host as CliRun | null)?.kill();
    }
  });

  it('a plain ws:// learner at a TLS orchestrator is refused at once with one line and exits 2', async () => {
    const { hub, url } = await startHub({ tls });
    try {
      expect(url).toMatch(/^wss:/);
      const plain = url.replace(/^wss:/, 'ws:');
      const r = await refusedLearner(['--connect', plain, '--learner-id', '0', ...PROFILE], 'right-token');
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        `[learner 0] error: cannot connect to ${plain}: ${TLS_REQUIRED_REASON}`,
      ]);
      // A host says it once, not once per learner, and at once, not after its retry window.
      const h = await refusedHost(plain, undefined);
      expect(h).toMatchObject({ code: 2, lines: [`error: cannot connect to ${plain}: ${TLS_REQUIRED_REASON}`] });
      expect(h.seconds).toBeLessThan(5);
    } finally {
      await hub.close();
    }
  });

  it('a certificate that does not verify (another CA, or none the system trusts) is refused at once; wss:// to a plain orchestrator too', async () => {
    const { hub, url } = await startHub({ tls });
    const plainHub = await startHub();
    try {
      const notVerified =
        /^error: cannot connect to wss:\S+: the orchestrator's TLS certificate does not verify \([A-Z_]+: .*\); pass the CA that signed it with --ca FILE$/;
      const r = await refusedLearner(
        ['--connect', url, '--ca', certs.otherCa, '--learner-id', '0', ...PROFILE],
        'right-token',
      );
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim().replace(/^\[learner 0\] /, '')).toMatch(notVerified);
      for (const trust of [learnerTrust(certs.otherCa), learnerTrust(undefined, {})]) {
        const h = await refusedHost(url, trust);
        expect(h.code).toBe(2);
        expect(h.lines).toHaveLength(1);
        expect(h.lines[0]).toMatch(notVerified);
        expect(h.seconds).toBeLessThan(5);
      }
      expect(hub.stats.connections).toBe(0); // the token never reached it
      const noTls = await refusedHost(plainHub.url.replace(/^ws:/, 'wss:'), learnerTrust(certs.ca));
      expect(noTls.code).toBe(2);
      expect(noTls.lines).toEqual([expect.stringMatching(/does not speak TLS .*connect with ws:\/\//)]);
    } finally {
      await hub.close();
      await plainHub.hub.close();
    }
  });

  it('bad flags and files: one line each, exit 2', async () => {
    const cli = (args: string[]) => startLearnerCli(args, 'right-token').exited;
    const noCa = await cli([
      '--connect',
      'wss://127.0.0.1:9',
      '--ca',
      join(certs.dir, 'missing.crt'),
      '--learner-id',
      '0',
      ...PROFILE,
    ]);
    expect([noCa.code, noCa.stderr.trim()]).toEqual([
      2,
      `error: cannot read --ca ${join(certs.dir, 'missing.crt')}: ENOENT`,
    ]);
    // A key (or any file without a certificate) given as --ca: said at start, not as a certificate that does not verify.
    const keyAsCa = await cli(['--connect', 'wss://127.0.0.1:9', '--ca', certs.key, '--learner-ids', 'auto:1']);
    expect([keyAsCa.code, keyAsCa.stderr.trim()]).toEqual([
      2,
      `error: --ca ${certs.key} holds no PEM certificate (a CA's certificate begins with -----BEGIN CERTIFICATE-----; its key is not one)`,
    ]);
    expect(() => learnerTrust(join(certs.dir, 'san.cnf'))).toThrow(/holds no PEM certificate/);
    expect(learnerTrust(certs.ca).ca).toHaveLength(1);
    const caOnWs = await cli(['--connect', 'ws://127.0.0.1:9', '--ca', certs.ca, '--learner-id', '0', ...PROFILE]);
    expect(caOnWs.code).toBe(2);
    expect(caOnWs.stderr).toMatch(/--ca verifies a wss:\/\/ orchestrator/);
    expect(() => readTlsFiles(certs.cert, certs.ca)).toThrow(/is not a usable PEM certificate and key/);
    expect(() => readTlsFiles(join(certs.dir, 'nope.crt'), certs.key)).toThrow(
      /cannot read --tls-cert .*nope\.crt: ENOENT/,
    );
  });

  it('listening beyond loopback without TLS is warned about', () => {
    expect(['127.0.0.1', '127.0.0.53', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.5', ''].some(isLoopback)).toBe(false);
    expect(formatRunEvent({ type: 'cleartext', host: '0.0.0.0' })).toMatch(
      /^warning: listening on 0\.0\.0\.0 without TLS: the run token and every model's weights travel in clear text; give --tls-cert/,
    );
  });
});
