/**
 * The pieces behind what `npm run experiment` prints: event lines (unchanged for users), external
 * mode's learner commands and reachable addresses, the memory estimate, and the progress line.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatDuration, PROGRESS_EVERY_S, ProgressReporter } from '../../src/cli/progress.ts';
import {
  externalInstructions,
  formatRunEvent,
  JOINS_SHOWN,
  learnerCommands,
  runEventLines,
} from '../../src/cli/run-events.ts';
import { reachableUrls } from '../../src/orchestrator/transport/addresses.ts';
import type { ExperimentEvent } from '../../src/orchestrator/events.ts';
import {
  availableMemory,
  memoryRefusal,
  memoryVerdict,
  needMb,
  PEAK_RSS_MB,
} from '../../src/orchestrator/fleet/memory.ts';
import { tmpDir } from '../helpers/tmp.ts';

const TIMELINE = {
  batch: 10,
  tau: 5,
  t_send_s: 1,
  t_compute_s: 1,
  t_return_s: 1,
  t_total_s: 3,
  bytes_sent: 100,
  bytes_returned: 100,
};

describe('event lines', () => {
  it('read as they always did', () => {
    expect(formatRunEvent({ type: 'joined', learner: 1, remote: '127.0.0.1:5000', pid: 42 })).toBe(
      'learner 1 joined from 127.0.0.1:5000 (pid 42)',
    );
    expect(formatRunEvent({ type: 'killed', learner: 3, pid: 99, how: 'process', scheme: 'eta', cycle: 2 })).toBe(
      'fault injection: killing learner 3 (pid 99) in eta cycle 2',
    );
    expect(formatRunEvent({ type: 'killed', learner: 3, pid: 99, how: 'connection', scheme: 'eta', cycle: 2 })).toBe(
      "fault injection: cutting learner 3's connection (its host, pid 99, keeps running) in eta cycle 2",
    );
    expect(formatRunEvent({ type: 'host-killed', host: 1, learners: '10-19', pid: 7, scheme: 'eta', cycle: 2 })).toBe(
      'fault injection: killing learner host 1 (learners 10-19, pid 7) in eta cycle 2',
    );
    expect(formatRunEvent({ type: 'extended', from: 2, to: 3 })).toBe(
      'extending the run from 2 to 3 cycles per scheme',
    );
    expect(formatRunEvent({ type: 'not-connected', learners: [1, 4] })).toBe(
      'learners not connected: 1, 4 (recorded as missing this cycle)',
    );
    const line = formatRunEvent({
      type: 'cycle-done',
      scheme: 'optimal',
      cycle: 2,
      cycles: 10,
      tau: 5,
      accuracy: 0.9512,
      loss: 0.17234,
      late: 0,
      missing: [{ learner: 3, reason: 'killed (--fail 3@2)' }],
      diverged: false,
      wall_s: 12.34,
      session_done: 2,
      session_left: 18,
    });
    expect(line).toBe(
      'optimal    cycle   2/10  τ=5  accuracy 95.12 %  loss 0.1723  late 0  missing 1 (3: killed (--fail 3@2))  cycle wall 12.3 s',
    );
    expect(
      formatRunEvent({ type: 'task-done', scheme: 'eta', cycle: 1, learner: 0, status: 'ok', ...TIMELINE }),
    ).toBeNull(); // status line only
  });
});

describe("a run's console lines", () => {
  it('show the first joins, count the rest in one line when set-up ends, and show rejoins after it', () => {
    const lines = runEventLines();
    const joined = (learner: number) => lines({ type: 'joined', learner, remote: '127.0.0.1:1', pid: 7 });
    const shown = Array.from({ length: 1000 }, (_, k) => joined(k)).filter((l) => l !== null);
    expect(shown).toHaveLength(JOINS_SHOWN);
    const done = lines({ type: 'setup-done', wall_s: 2.2, engine: 'onnx', allocations: [] });
    expect(done?.split('\n')[0]).toBe(`… and ${1000 - JOINS_SHOWN} more learners joined (1000 in all)`);
    expect(joined(3)).toBe('learner 3 joined from 127.0.0.1:1 (pid 7)');
    const few = runEventLines();
    expect(few({ type: 'joined', learner: 0, remote: 'x', pid: null })).toBe('learner 0 joined from x');
    expect(few({ type: 'setup-done', wall_s: 1, engine: 'onnx', allocations: [] })).not.toMatch(/more learners/);
  });
});

describe('external mode', () => {
  const listening: Extract<ExperimentEvent, { type: 'listening' }> = {
    type: 'listening',
    url: 'ws://0.0.0.0:8765',
    token: 'abc',
    out: '/tmp/run',
    reachable_urls: ['ws://192.0.2.7:8765', 'ws://198.51.100.3:8765'],
    expected_fleet: [
      { id: 0, f_hz: 2.4e9, rate_bps: 1.9e8, distance_m: 31.25 },
      { id: 1, f_hz: 7e8, rate_bps: 1.2e8 },
    ],
  };

  it('one command per learner id, with the first reachable address and the profile to announce', () => {
    expect(learnerCommands(listening, 2)).toEqual([
      'MEL_TOKEN=abc npm run learner -- --connect ws://192.0.2.7:8765 --learner-id 0 --f-hz 2400000000 --distance-m 31.25',
      'MEL_TOKEN=abc npm run learner -- --connect ws://192.0.2.7:8765 --learner-id 1 --f-hz 700000000 --rate-bps 120000000',
    ]);
    const text = externalInstructions(listening, 2, null);
    expect(text).toContain(
      'orchestrator listening on ws://0.0.0.0:8765; learners connect to ws://192.0.2.7:8765 or ws://198.51.100.3:8765',
    );
    expect(text.split('\n').slice(-1)[0]).toBe(
      '  MEL_TOKEN=abc npm run learner -- --connect ws://192.0.2.7:8765 --learner-ids 0-1',
    );
  });

  it("a wildcard host becomes this machine's non-internal addresses (never 0.0.0.0); loopback only when there is no other", () => {
    const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
      ({ address, family, internal, netmask: '', mac: '', cidr: null }) as os.NetworkInterfaceInfo;
    const interfaces = {
      lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
      eth0: [nic('192.0.2.7', 'IPv4'), nic('fe80::1', 'IPv6'), nic('2001:db8::7', 'IPv6')],
    };
    expect(reachableUrls('0.0.0.0', 8765, interfaces)).toEqual(['ws://192.0.2.7:8765']);
    expect(reachableUrls('::', 8765, interfaces)).toEqual(['ws://192.0.2.7:8765', 'ws://[2001:db8::7]:8765']);
    expect(reachableUrls('0.0.0.0', 8765, { lo: interfaces.lo })).toEqual(['ws://127.0.0.1:8765']);
    expect(reachableUrls('10.1.2.3', 8765, interfaces)).toEqual(['ws://10.1.2.3:8765']);
  });
});

describe('memory estimate', () => {
  it('host processes, learners and the orchestrator against what is available', () => {
    const { learner_process: proc, per_learner: each, orchestrator: base } = PEAK_RSS_MB;
    // One process per learner (hosts = K): K·(proc + each) + base.
    // More learners than hosts add only their own part: max_K is with the same 4 hosts.
    expect(memoryVerdict(4, 4, 10_000)).toEqual({
      verdict: 'ok',
      need_mb: 4 * (proc + each) + base,
      max_K: Math.floor((10_000 - base - 4 * proc) / each),
    });
    expect(memoryVerdict(4, 4, 4 * (proc + each) + base + 1).verdict).toBe('tight');
    expect(memoryVerdict(4, 4, 4 * (proc + each) + base - 1)).toMatchObject({ verdict: 'too-much', max_K: 3 });
    expect(memoryVerdict(1, 1, base - 1)).toMatchObject({ verdict: 'too-much', max_K: 0 });
    // Two hosts: the processes stop growing with K, only the per-learner part does.
    expect(needMb(1000, 2)).toBe(2 * proc + 1000 * each + base);
    expect(memoryVerdict(1000, 2, 10_000)).toEqual({
      verdict: 'ok',
      need_mb: needMb(1000, 2),
      max_K: Math.floor((10_000 - base - 2 * proc) / each),
    });
  });

  it('a refusal suggests fewer hosts when that fits, else a smaller K', () => {
    const at = (mb: number) => ({ mb, source: 'test' });
    const v = memoryVerdict(8, 8, 1000);
    expect(memoryRefusal(8, 8, v, at(1000))).toMatch(/use --hosts 2, or free memory/);
    expect(memoryRefusal(8, 1, memoryVerdict(8, 1, 500), at(500))).toMatch(/free memory first/);
  });

  it('reads a cgroup limit when there is one (v2, then v1) and takes the smaller of it and free memory', () => {
    const dir = tmpDir('cgroup');
    expect(availableMemory(dir).source).toBe('available memory of this machine'); // no cgroup files
    writeFileSync(join(dir, 'memory.max'), 'max\n');
    expect(availableMemory(dir).source).toBe('available memory of this machine');
    writeFileSync(join(dir, 'memory.max'), `${1024 * 2 ** 20}\n`);
    writeFileSync(join(dir, 'memory.current'), `${300 * 2 ** 20}\n`);
    const limited = availableMemory(dir);
    if (os.freemem() > 724 * 2 ** 20)
      expect(limited).toEqual({ mb: 724, source: 'cgroup memory limit 1024 MB, 300 MB in use' });
  });
});

describe('progress', () => {
  afterEach(() => vi.useRealTimers());

  const setup = (tty: boolean) => {
    let now = 0;
    const out: string[] = [];
    const p = new ProgressReporter({ tty, write: (t) => out.push(t), now: () => now });
    return { p, out, advance: (s: number) => ((now += s), vi.advanceTimersByTime(s * 1000)) };
  };
  const cycle = (n: number, left: number, wall_s: number): ExperimentEvent => ({
    type: 'cycle-done',
    scheme: 'optimal',
    cycle: n,
    cycles: 3,
    tau: 5,
    accuracy: 0.9,
    loss: 0.3,
    late: 0,
    missing: [],
    diverged: false,
    wall_s,
    session_done: n,
    session_left: left,
  });

  it('TTY: the status line shows the cycle, learners done, elapsed time and an ETA from the cycles done so far', () => {
    vi.useFakeTimers();
    const { p, out, advance } = setup(true);
    p.start();
    p.onEvent({ type: 'cycle-start', scheme: 'optimal', cycle: 1, cycles: 3, tau: 5, active: 4 });
    expect(out.at(-1)).toBe(
      '\r\x1b[Koptimal cycle 1/3: 0/4 learners done (τ=5) · elapsed 0 s, time left known after the first cycle',
    );
    advance(10);
    p.onEvent({ type: 'task-done', scheme: 'optimal', cycle: 1, learner: 0, status: 'ok', ...TIMELINE });
    p.onEvent({ type: 'missing', scheme: 'optimal', cycle: 1, learner: 1, reason: 'x', bytes_sent: 0 });
    expect(out.at(-1)).toBe(
      '\r\x1b[Koptimal cycle 1/3: 2/4 learners done (τ=5) · elapsed 10 s, time left known after the first cycle',
    );
    advance(10);
    p.onEvent(cycle(1, 2, 20));
    p.onEvent({ type: 'cycle-start', scheme: 'optimal', cycle: 2, cycles: 3, tau: 5, active: 4 });
    advance(5); // redrawn every second: elapsed moves, the ETA counts down
    expect(out.at(-1)).toBe('\r\x1b[Koptimal cycle 2/3: 0/4 learners done (τ=5) · elapsed 25 s, about 35 s left');
    p.clearStatus();
    expect(out.at(-1)).toBe('\r\x1b[K');
    p.stop();
  });

  it(`no TTY: a line every ~${PROGRESS_EVERY_S} s while a cycle runs longer than that, nothing for short cycles`, () => {
    vi.useFakeTimers();
    const { p, out, advance } = setup(false);
    p.start();
    p.onEvent({ type: 'cycle-start', scheme: 'eta', cycle: 1, cycles: 2, tau: 2, active: 3 });
    advance(10);
    p.onEvent(cycle(1, 1, 10));
    p.onEvent({ type: 'cycle-start', scheme: 'eta', cycle: 2, cycles: 2, tau: 2, active: 3 });
    expect(out).toEqual([]); // a short cycle: silence is fine
    advance(PROGRESS_EVERY_S);
    expect(out).toEqual([
      `… eta cycle 2/2: 0/3 learners done (τ=2) · elapsed 25 s, about 0 s left; this cycle has run ${PROGRESS_EVERY_S} s\n`,
    ]);
    advance(PROGRESS_EVERY_S);
    expect(out).toHaveLength(2);
    expect(out.every((l) => !l.includes('\r'))).toBe(true);
    p.stop();
  });

  it('formats durations', () => {
    expect([formatDuration(42.4), formatDuration(185), formatDuration(3720)]).toEqual([
      '42 s',
      '3 min 05 s',
      '1 h 02 min',
    ]);
  });
});
