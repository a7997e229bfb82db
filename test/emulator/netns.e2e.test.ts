/**
 * Learner hosts on other machines, for real: the orchestrator and two learner hosts each in their
 * own Linux network namespace, joined by veth links, so every byte crosses a network interface
 * between "machines". The run must give the same results as the same run on loopback (all but the
 * wall-time column). Needs root (CI runs as root); without it the test says why it skips. Only
 * addresses inside the namespaces it creates are used, and the namespaces are removed at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/project-root.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';
import { readCycles, withoutWall } from '../helpers/run-files.ts';
import { tmpDir } from '../reliability/helpers.ts';

const tag = `m${process.pid % 10000}`;
const NS = { orchestrator: `${tag}-orch`, a: `${tag}-hosta`, b: `${tag}-hostb` };
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Why this machine cannot run the test, or null. */
function cannotRun(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  try {
    ip('netns', 'add', `${tag}-probe`);
    ip('netns', 'del', `${tag}-probe`);
    return null;
  } catch (e) {
    return `cannot create a network namespace: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
}

/** orchestrator ⟷ host a on 10.231.1.0/24, orchestrator ⟷ host b on 10.231.2.0/24. */
function createNetwork(): void {
  for (const ns of Object.values(NS)) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  for (const [side, net] of [
    ['a', 1],
    ['b', 2],
  ] as const) {
    const [there, here] = [`${tag}${side}0`, `${tag}${side}1`];
    ip('link', 'add', there, 'netns', NS.orchestrator, 'type', 'veth', 'peer', 'name', here, 'netns', NS[side]);
    ip('-n', NS.orchestrator, 'addr', 'add', `10.231.${net}.1/24`, 'dev', there);
    ip('-n', NS[side], 'addr', 'add', `10.231.${net}.2/24`, 'dev', here);
    ip('-n', NS.orchestrator, 'link', 'set', there, 'up');
    ip('-n', NS[side], 'link', 'set', here, 'up');
  }
}

function removeNetwork(): void {
  for (const ns of Object.values(NS)) {
    try {
      ip('netns', 'del', ns); // its veth ends go with it
    } catch {
      // not created
    }
  }
}

/** A command of ours inside a namespace (or here, with ns null); resolves with its exit. */
function runIn(
  ns: string | null,
  script: string,
  args: string[],
  token: string,
): { done: Promise<{ code: number | null; stderr: string }>; kill: () => void } {
  const node = [process.execPath, '--import', 'tsx', join(PROJECT_ROOT, script), ...args];
  const [cmd, ...rest] = ns ? ['ip', 'netns', 'exec', ns, ...node] : node;
  const child = spawn(cmd, rest, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, MEL_TOKEN: token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return {
    done: new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr }))),
    kill: () => void child.kill('SIGKILL'),
  };
}

const why = cannotRun();
afterAll(removeNetwork);

describe.skipIf(why !== null)(`learner hosts in other network namespaces${why ? ` (skipped: ${why})` : ''}`, () => {
  it('two hosts on two "machines" train the run, and its results equal the loopback run\'s', async () => {
    const flags = [
      '--K',
      '4',
      '--T',
      '12',
      '--cycles',
      '2',
      '--schemes',
      'optimal,eta',
      '--seed',
      '5',
      '--train-samples',
      '2000',
      '--test-samples',
      '1000',
      '--flops-per-sample',
      String(5 * PAPER_PRESET.flops_per_sample),
      '--no-report',
    ];
    const token = 'netns-test-token';
    const loopback = tmpDir('netns-loopback');
    const reference = await runIn(null, 'src/cli/experiment.ts', [...flags, '--hosts', '2', '--out', loopback], token)
      .done;
    expect(reference.code, reference.stderr).toBe(0);

    createNetwork();
    const out = tmpDir('netns-run');
    const orchestrator = runIn(
      NS.orchestrator,
      'src/cli/experiment.ts',
      [...flags, '--external', '--host', '0.0.0.0', '--port', '8765', '--out', out],
      token,
    );
    const hosts = [
      runIn(NS.a, 'src/cli/learner.ts', ['--connect', 'ws://10.231.1.1:8765', '--learner-ids', '0-1'], token),
      runIn(NS.b, 'src/cli/learner.ts', ['--connect', 'ws://10.231.2.1:8765', '--learner-ids', '2-3'], token),
    ];
    try {
      const run = await orchestrator.done;
      expect(run.code, run.stderr).toBe(0);
      // Each learner joined from its own machine's address.
      for (const [id, from] of [
        [0, '10.231.1.2'],
        [1, '10.231.1.2'],
        [2, '10.231.2.2'],
        [3, '10.231.2.2'],
      ] as const)
        expect(run.stderr).toMatch(new RegExp(`learner ${id} joined from (::ffff:)?${from.replace(/\./g, '\\.')}:`));
      for (const h of hosts) {
        const end = await h.done;
        expect(end.code, end.stderr).toBe(0);
      }
      expect(withoutWall(readCycles(out))).toEqual(withoutWall(readCycles(loopback)));
      expect(readFileSync(join(out, 'learners.csv'), 'utf8')).toBe(
        readFileSync(join(loopback, 'learners.csv'), 'utf8'),
      );
      // Each "machine" fetched the global models once for its two learners, over its veth link.
      const hub = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).hub;
      expect(hub.tasks_naming_model).toBeGreaterThan(0);
      expect(hub.models_sent).toBeLessThan(hub.tasks_naming_model);
    } finally {
      orchestrator.kill();
      for (const h of hosts) h.kill();
      removeNetwork();
    }
    expect(ip('netns', 'list')).not.toMatch(new RegExp(tag));
  });
});
