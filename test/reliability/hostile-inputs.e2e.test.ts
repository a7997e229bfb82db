/**
 * Hostile values in flags, files and run folders: each is refused up front with one line naming
 * it (exit 2), or bounded so the run still means something — never a spin, a stack overflow, a
 * timer that fires at once, or a fleet the run's own handshake refuses.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { solve } from '../../src/allocation/index.ts';
import { capacity, maxTau } from '../../src/allocation/feasibility.ts';
import { InputError } from '../../src/errors.ts';
import { parseLearnerSpecs, SPEC_LIMITS } from '../../src/model/devices.ts';
import { parseTrace, TRACE_HEADER } from '../../src/model/trace.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/orchestrator/store/checkpoint.ts';
import { checkRunRows, checkSettingsDigest, settingsDigest } from '../../src/orchestrator/store/run-integrity.ts';
import { lockRunFolder } from '../../src/orchestrator/store/run-lock.ts';
import type { CycleRow, LearnerRow } from '../../src/run-folder/schema.ts';
import { parseIdRanges } from '../../src/util/id-ranges.ts';
import { readInputFile } from '../../src/util/input-file.ts';
import { MAX_TIMER_MS, timerDelayMs } from '../../src/util/timers.ts';
import { errorLines, startExperiment, tiny } from '../helpers/experiment-cli.ts';
import { tmpDir } from '../helpers/tmp.ts';

const tmp = () => tmpDir('hostile');

/** Exit 2 with exactly one "error:" line matching `message`, before any learner joined. */
async function expectRefused(args: string[], message: RegExp): Promise<void> {
  const end = await startExperiment(args).exit;
  expect(end.code, end.stderr).toBe(2);
  expect(errorLines(end.stderr), end.stderr).toHaveLength(1);
  expect(errorLines(end.stderr)[0]).toMatch(message);
  expect(end.stderr).not.toMatch(/joined|waiting for/);
}

describe('flags a run cannot honour exit 2 naming the flag', () => {
  const dir = tmp();
  mkdirSync(join(dir, 'a-folder'));
  it.each([
    // a solver that never returns (item 5)
    [{ T: '1e17' }, /--T .*1000000/],
    // timers of 2^31 ms or more fire at once (item 4); a heartbeat of a nanosecond spins (item 8)
    [{ 'task-timeout-s': '2147484' }, /--task-timeout-s/],
    [{ 'join-timeout-s': '3e6' }, /--join-timeout-s/],
    [{ 'heartbeat-s': '3e6' }, /--heartbeat-s/],
    [{ 'heartbeat-s': '1e-9' }, /--heartbeat-s/],
    // a fleet the handshake would refuse (item 7)
    [{ 'bandwidth-hz': '1e12' }, /link rate .* <= 10000000000000 .*--bandwidth-hz/],
    [{ 'tx-power-dbm': '1e308' }, /link rate .*--tx-power-dbm/],
    [{ 'cpu-hz': '1e308' }, /CPU speed .*--cpu-hz/],
    [{ 'bandwidth-hz': '1e308' }, /link rate .*--bandwidth-hz/],
    [{ 'noise-dbm-per-hz': '1e308' }, /link rate .*--noise-dbm-per-hz/],
    [{ 'flops-per-sample': '5e-324' }, /--flops-per-sample is out of range/],
    // energies that overflow to Infinity (blank cells in learners.csv, an energy scheme that cannot allocate)
    [{ kappa: '1e308' }, /energy must stay finite \(check --kappa, now 1e\+308/],
    [{ 'rx-power-w': '1e308' }, /energy must stay finite .*--rx-power-w, now 1e\+308/],
    [{ token: '' }, /--token .*must be 1\.\.256 characters, got 0/],
    [{ 'tau-max': '20000' }, /--tau-max/],
    // input files: a directory, a device (item 8)
    [{ learners: join(dir, 'a-folder') }, /--learners .*is a directory/],
    [{ learners: '/dev/zero', K: '2' }, /--learners \/dev\/zero: is not a regular file/],
    [{ config: '/dev/zero' }, /--config \/dev\/zero: is not a regular file/],
  ])('%j', async (over, message) => {
    await expectRefused(tiny({ ...over, out: join(tmp(), 'run') }), message);
  });
});

describe('solver searches terminate', () => {
  it('capacity and maxTau return for a deadline so large that counts stop stepping by one', () => {
    const c = { c0_s: 0.1, c1_s_per_sample: 1e-6, c2_s_per_sample_iter: 1e-6 };
    expect(capacity(c, 1, 1e17)).toBeGreaterThan(2 ** 53);
    expect(maxTau(c, 1, 1e17)).toBeGreaterThan(2 ** 53);
  });

  it('validateProblem refuses a T past the bound instead of searching forever', () => {
    const coeffs = [{ c0_s: 0.1, c1_s_per_sample: 1e-6, c2_s_per_sample_iter: 1e-6 }];
    expect(() => solve('optimal', { coeffs, T_s: 1e17, d: 100 })).toThrow(/T must be a number in \(0, 1000000\]/);
  });
});

describe('timers', () => {
  it('a delay of 2^31 ms or more waits as long as a timer can instead of firing at once', () => {
    expect(timerDelayMs(3e9)).toBe(MAX_TIMER_MS);
    expect(timerDelayMs(1000)).toBe(1000);
  });
});

describe('trace files', () => {
  const rows = (cycles: number, learners: number, f = '1e9') => {
    const out = [TRACE_HEADER.join(',')];
    for (let c = 1; c <= cycles; c++) for (let k = 0; k < learners; k++) out.push(`${c},${k},${f},1e7,1`);
    return out.join('\n');
  };

  it('a trace of 125 000 rows (K = 1000 × 125 cycles) parses (no Math.max(...rows) stack overflow)', () => {
    const trace = parseTrace(rows(125, 1000));
    expect([trace.learners, trace.cycles]).toEqual([1000, 125]);
  });

  it('values past the limits of a profile are refused with the line', () => {
    expect(() => parseTrace(rows(1, 2, '1e308'), 't.csv')).toThrow(
      `t.csv:2: column f_hz must be > 0 and <= ${SPEC_LIMITS.f_hz}`,
    );
  });

  it('a cycle number of 1e9 is a missing row, found without sizing tables by it', () => {
    const text = `${TRACE_HEADER.join(',')}\n1,0,1e9,1e7,1\n1000000000,0,1e9,1e7,1\n`;
    expect(() => parseTrace(text, 't.csv')).toThrow('t.csv: no row for cycle 2, learner 0');
  });
});

describe('input files', () => {
  it('a UTF-8 BOM is taken in a learners file, as in a trace', () => {
    expect(parseLearnerSpecs('\uFEFF[{"f_hz":1e9,"rate_bps":1e7}]')).toEqual([{ f_hz: 1e9, rate_bps: 1e7 }]);
  });

  it('a file larger than the bound is refused before it is read', () => {
    const file = join(tmp(), 'big.json');
    writeFileSync(file, 'x'.repeat(2048));
    expect(() => readInputFile(file, '--learners', 1024)).toThrow(
      '--learners ' + file + ': is 0 MiB; input files are limited to',
    );
  });

  it('an id past 2^53 is named as too large, not as a backwards range', () => {
    expect(() => parseIdRanges('0-9007199254740993')).toThrow(
      '"0-9007199254740993": 9007199254740993 is too large for an id',
    );
  });
});

describe('checkpoints and resumed folders', () => {
  it('a checkpoint with a non-finite weight is refused even when its hash was recomputed', () => {
    const dir = tmp();
    const weights = new Float32Array(8).fill(0.5);
    weights[3] = Infinity;
    saveCheckpoint(dir, { scheme: 'optimal', cycle: 1, emulated_time_s: 1, wall_time_s: 1 }, weights);
    expect(() => loadCheckpoint(dir, 'optimal', 1, 8)).toThrow(/non-finite weight \(Infinity at index 3\)/);
  });

  it('a manifest that disagrees with the model names both counts', () => {
    const dir = tmp();
    saveCheckpoint(dir, { scheme: 'optimal', cycle: 1, emulated_time_s: 1, wall_time_s: 1 }, new Float32Array(8));
    expect(() => loadCheckpoint(dir, 'optimal', 1, 9)).toThrow(/says 8 weights, the model has 9/);
  });

  it.each(['cycles.csv', 'checkpoints/optimal/cycle-0001.f32'])(
    '--resume refuses a folder whose %s is a symbolic link',
    (file) => {
      const dir = tmp();
      const elsewhere = join(tmp(), 'target');
      writeFileSync(elsewhere, 'x\n');
      writeFileSync(join(dir, 'config.json'), '{}');
      mkdirSync(join(dir, 'checkpoints', 'optimal'), { recursive: true });
      symlinkSync(elsewhere, join(dir, file));
      expect(() => lockRunFolder(dir, { resume: true })).toThrow(InputError);
      expect(() => lockRunFolder(dir, { resume: true })).toThrow(`${file} is a symbolic link`);
      expect(readFileSync(elsewhere, 'utf8')).toBe('x\n');
    },
  );
});

describe('a resumed folder whose config.json is a device', () => {
  it('is refused in one line before it is read (a link to /dev/zero read without end)', async () => {
    const dir = tmp();
    symlinkSync('/dev/zero', join(dir, 'config.json'));
    writeFileSync(join(dir, 'cycles.csv'), '');
    const end = await startExperiment(['--resume', dir, '--no-report']).exit;
    expect(end.code, end.stderr).toBe(2);
    expect(errorLines(end.stderr)).toEqual([
      `error: --resume ${join(dir, 'config.json')}: is not a regular file (a device or a pipe); give a file`,
    ]);
  });
});

describe('a resumed folder must be what its settings wrote', () => {
  const cycle = (scheme: string, c: number) => ({ scheme, cycle: c }) as CycleRow;
  const learner = (scheme: string, c: number, k: number) => ({ scheme, cycle: c, learner: k }) as LearnerRow;
  const config = { K: 2, schemes: ['optimal', 'eta'] };
  const full = [learner('optimal', 1, 0), learner('optimal', 1, 1), learner('optimal', 2, 0), learner('optimal', 2, 1)];
  const check = (cycles: CycleRow[], learners: LearnerRow[]) => () => checkRunRows('run', config, cycles, learners);

  it('takes the rows a run wrote, with the partial rows of a cycle that never committed', () => {
    expect(check([cycle('optimal', 1), cycle('optimal', 2)], [...full, learner('optimal', 3, 0)])).not.toThrow();
  });

  it.each([
    [
      'a scheme config.json does not list',
      [cycle('optimal', 1), cycle('robust', 1)],
      full,
      /scheme robust, which config.json does not list/,
    ],
    ['a duplicated cycle row', [cycle('optimal', 1), cycle('optimal', 1)], full, /optimal cycle 1 after cycle 1/],
    ['a missing learners.csv', [cycle('optimal', 1)], [], /0 rows for optimal cycle 1, expected K = 2/],
    [
      'a duplicated learner row',
      [cycle('optimal', 1)],
      [learner('optimal', 1, 0), learner('optimal', 1, 0)],
      /a second row for learner 0 in optimal cycle 1/,
    ],
    [
      'rows of a larger K',
      [cycle('optimal', 1)],
      [...full.slice(0, 2), learner('optimal', 1, 2)],
      /a row for learner 2 in optimal cycle 1 \(K = 2\)/,
    ],
  ])('refuses %s', (_, cycles, learners, message) => {
    expect(check(cycles as CycleRow[], learners as LearnerRow[])).toThrow(message);
  });

  it('an edited setting no longer matches the digest; the settings a resume may change are outside it', () => {
    const written = { K: 20, T: 12, seed: 1, cycles: 2, port: 0, fleet: [{ f_hz: 1e9 }] };
    const saved = { ...written, settings_sha256: settingsDigest(written) };
    expect(() => checkSettingsDigest('run', JSON.parse(JSON.stringify(saved)))).not.toThrow();
    expect(() => checkSettingsDigest('run', { ...saved, cycles: 5, port: 8765 })).not.toThrow();
    expect(() => checkSettingsDigest('run', { ...saved, seed: 2 })).toThrow(
      /config.json was edited after the run started/,
    );
    expect(() => checkSettingsDigest('run', { ...written })).not.toThrow(); // older runs carry no digest
  });
});
