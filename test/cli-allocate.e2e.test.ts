import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from './helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, ['src/cli/allocate.ts', ...args], { cwd: ROOT, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
beforeAll(() => {
  dir = tmpDir('allocate');
  writeFileSync(
    join(dir, 'ok.json'),
    JSON.stringify([
      { f_hz: 2.4e9, distance_m: 10 },
      { f_hz: 7e8, rate_bps: 5e7 },
      { f_hz: 1e9, distance_m: 40 },
    ]),
  );
  writeFileSync(join(dir, 'bad.json'), '[{"f_hz": 2.4e9}]');
  writeFileSync(join(dir, 'broken.json'), '[{"f_hz": 2.4e9,');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One line on stderr, no stack trace, exit code 2. */
function expectUsageFailure(r: { code: number; stderr: string }, message: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe.concurrent('npm run allocate', () => {
  it('--json prints the report shape of issue 2', async () => {
    const r = await run('--K', '20', '--T', '12', '--seed', '1', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ K: 20, T: 12, d: 60000, scenario: 'parallel' });
    expect(j.learners).toHaveLength(20);
    expect(Object.keys(j.learners[0]).sort()).toEqual(['c0', 'c1', 'c2', 'distance_m', 'f_hz', 'id', 'rate_bps']);
    expect(j.learners[0].f_hz).toBe(2.4e9);
    expect(j.learners[19].f_hz).toBe(7e8);
    expect(Object.keys(j.allocations)).toEqual(['eta', 'analytical', 'optimal', 'async']);
    for (const name of ['eta', 'analytical', 'optimal', 'async']) {
      const a = j.allocations[name];
      expect(a.feasible).toBe(true);
      expect(a.tau_per_learner).toHaveLength(20);
      expect(Number.isInteger(a.tau)).toBe(true);
      expect(a.batch).toHaveLength(20);
      expect(a.time_s).toHaveLength(20);
      expect(a.batch.reduce((s: number, x: number) => s + x, 0)).toBe(60000);
      expect(Math.max(...a.time_s)).toBeLessThanOrEqual(12 * (1 + 1e-9));
    }
    expect(typeof j.allocations.analytical.tau_relaxed).toBe('number');
    // Table I at K = 20, T = 12 s, seed 1: ETA τ = 2, adaptive τ = 5 (τ* = 5.42).
    expect(j.allocations.eta.tau).toBe(2);
    expect(j.allocations.optimal.tau).toBe(5);
    expect(j.allocations.analytical.tau).toBe(5);
  });

  it('prints a table per scheme and τ per scheme', async () => {
    const r = await run('--K', '4', '--T', '30', '--d', '6000', '--scenario', 'federated', '--schemes', 'eta,optimal');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('scenario=federated');
    expect(r.stdout).toMatch(
      /learner +f \(GHz\) +dist \(m\) +rate \(Mbit\/s\) +d_k +τ_k +t_S \(s\) +τ·t_C \(s\) +t_R \(s\) +t_k \(s\) +slack \(s\) +E_k \(J\)/,
    );
    expect(r.stdout).toMatch(/== eta ==[\s\S]*== optimal ==/);
    expect(r.stdout).not.toContain('== analytical ==');
    expect(r.stdout).toMatch(/τ per scheme — eta: τ=\d+, optimal: τ=\d+/);
  });

  it('--help lists every flag with default and unit', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    for (const flag of [
      '--K',
      '--T',
      '--d',
      '--seed',
      '--scenario',
      '--learners',
      '--json',
      '--schemes',
      '--bandwidth-hz',
      '--tx-power-dbm',
      '--noise-dbm-per-hz',
      '--pathloss-a-db',
      '--pathloss-b-db',
      '--radius-m',
      '--cpu-hz',
      '--features',
      '--data-bits',
      '--model-bits',
      '--model-coeffs-per-sample',
      '--model-params',
      '--flops-per-sample',
    ])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/--T <number> .*unit: s.*default: 12/);
    expect(r.stdout).toMatch(/--bandwidth-hz <number> .*unit: Hz.*default: 5000000/);
    expect(r.stdout).toMatch(/--cpu-hz .*unit: Hz.*default: 2400000000,700000000/);
  });

  it('takes a learners file; K is its length', async () => {
    const r = await run('--learners', join(dir, 'ok.json'), '--T', '20', '--d', '5000', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.K).toBe(3);
    expect(j.learners[1]).toMatchObject({ id: 1, f_hz: 7e8, rate_bps: 5e7, distance_m: null });
    expect(j.allocations.optimal.batch.reduce((s: number, x: number) => s + x, 0)).toBe(5000);
  });

  it.each([
    [['--K', '0'], /--K is out of range \(>= 1/],
    [['--T', '0'], /--T is out of range \(> 0/],
    [['--T', '-3'], /--T is out of range/],
    [['--K', 'ten'], /--K must be a number/],
    [['--T', '12s'], /--T must be a number/],
    [['--bogus'], /unknown flag --bogus/],
    [['--scenario', 'mesh'], /--scenario must be one of parallel\|federated/],
    [['--cpu-hz', '2.4e9,fast'], /--cpu-hz values must be numbers > 0 Hz/],
    [['--tx-power-dbm', '-400'], /learner 0 has link rate 0 bit\/s; it must be > 0 and <= 10000000000000/],
  ])('bad flags %j → exit 2 with one line', async (args, message) => {
    expectUsageFailure(await run(...args), message);
  });

  it('malformed or missing learners file → exit 2 naming the problem', async () => {
    expectUsageFailure(await run('--learners', join(dir, 'bad.json')), /entry 0: give distance_m/);
    expectUsageFailure(await run('--learners', join(dir, 'broken.json')), /not valid JSON/);
    expectUsageFailure(
      await run('--learners', join(dir, 'nope.json')),
      /--learners .*nope.json: cannot read it \(ENOENT\)/,
    );
    expectUsageFailure(
      await run('--learners', join(dir, 'ok.json'), '--K', '5'),
      /--K 5 disagrees with the 3 learners/,
    );
  });

  it('infeasible T → exit 2 naming the binding learner', async () => {
    const r = await run('--K', '5', '--T', '0.05', '--json');
    expectUsageFailure(
      r,
      /infeasible \(eta, analytical, optimal, async\): T=0.05 s is shorter than the model exchange time of every learner \(shortest C0 = [\d.]+ s, learner \d\)/,
    );
    expect(JSON.parse(r.stdout).allocations.optimal.feasible).toBe(false);
    expectUsageFailure(await run('--K', '3', '--T', '1'), /even τ=1 allows only Σcap=\d+ < d=60000 samples/);
  });
});
