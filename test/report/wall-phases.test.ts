import { afterAll, describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { compile, type TopLevelSpec } from 'vega-lite';
import { renderRunReport } from '../../src/report/index.ts';
import { loadRunFolder } from '../../src/report/run-folder.ts';
import { parseLearners, parseWallPhases } from '../../src/run-folder/read.ts';
import { WALL_PHASES_HEADER } from '../../src/run-folder/schema.ts';
import { analyseWallPhases, WALL_PHASES, wallPhasesSpec } from '../../src/report/wall-phases.ts';
import { FIXTURE_TIME_SCALE, fixtureFiles, fixtureWallPhases, removeTempDirs, writeFixtureRun } from './fixture.ts';

afterAll(removeTempDirs);

const files = fixtureFiles();
const learners = parseLearners(files['learners.csv'], 'learners.csv');
const wall = parseWallPhases(fixtureWallPhases(), 'wall_phases.csv');
const realConfig = JSON.stringify({
  ...JSON.parse(files['config.json']),
  clock: 'real',
  time_scale: FIXTURE_TIME_SCALE,
});

describe('real clock: emulated versus wall time per phase (issue 11, report item 6)', () => {
  it("reads wall_phases.csv with the schema's header (the one the orchestrator writes)", () => {
    expect(fixtureWallPhases().split('\n')[0]).toBe(WALL_PHASES_HEADER.join(','));
    expect(wall).toHaveLength(17); // 18 learner-cycles, one missing
    expect(() => parseWallPhases('scheme,cycle\n', 'w.csv')).toThrow(/w\.csv:1: header is/);
  });

  it('loadRunFolder: wall_phases.csv is optional (virtual clock) and validated when present', async () => {
    expect((await loadRunFolder(await writeFixtureRun())).wallPhases).toBeNull();
    expect(
      (await loadRunFolder(await writeFixtureRun({ 'wall_phases.csv': fixtureWallPhases() }))).wallPhases,
    ).toHaveLength(17);
    const bad = fixtureWallPhases().replace(/\n(optimal,1,1,)[^,]+/, '\n$1soon');
    await expect(loadRunFolder(await writeFixtureRun({ 'wall_phases.csv': bad }))).rejects.toThrow(
      /wall_phases\.csv:2: column wall_send_s must be a number/,
    );
  });

  it('compares each phase with its emulated time × time scale and lists the overruns', () => {
    const a = analyseWallPhases(wall, learners, FIXTURE_TIME_SCALE);
    expect(a.unmatched).toBe(0);
    const stat = (scheme: string, phase: (typeof WALL_PHASES)[number]) =>
      a.stats.find((s) => s.scheme === scheme && s.phase === phase)!;
    const recv = stat('optimal', WALL_PHASES[0]);
    expect(recv.count).toBe(9);
    expect(recv.medianRatio).toBeCloseTo(1.5, 12);
    expect(recv.wallS).toBeCloseTo(1.5 * recv.expectedS, 12);
    // Learner 3 has the longest send (1.6 s emulated → 0.8 s scheduled, 1.2 s measured).
    expect(recv.worst.learner).toBe(3);
    expect(recv.worst.lagS).toBeCloseTo(0.4, 12);
    expect(stat('optimal', WALL_PHASES[1]).maxRatio).toBeCloseTo(1, 12);
    expect(stat('optimal', WALL_PHASES[2]).medianRatio).toBeCloseTo(0.4, 12);
    const compute = stat('eta', WALL_PHASES[1]);
    expect(compute.worst).toEqual({ cycle: 3, learner: 2, lagS: expect.closeTo(0.3, 12) });
    expect(a.overruns).toEqual([{ scheme: 'eta', cycle: 3, learner: 2, overrunS: 0.3 }]);
    // A wall row with no emulated row is counted, not compared; a phase of emulated length 0 is skipped.
    const extra = analyseWallPhases(
      [...wall, { ...wall[0], learner: 99 }],
      learners.map((r) => (r.learner === 1 ? { ...r, tSendS: 0 } : r)),
      FIXTURE_TIME_SCALE,
    );
    expect(extra.unmatched).toBe(1);
    expect(extra.points.some((p) => p.learner === 1 && p.phase === WALL_PHASES[0])).toBe(false);
  });

  it('the chart compiles cleanly and plots wall ÷ (emulated × time scale) on a log axis', () => {
    const spec = wallPhasesSpec(analyseWallPhases(wall, learners, FIXTURE_TIME_SCALE));
    const warnings: string[] = [];
    const logger = {
      level: () => logger,
      warn: (...m: unknown[]) => (warnings.push(m.join(' ')), logger),
      error: (...m: unknown[]) => (warnings.push(m.join(' ')), logger),
      info: () => logger,
      debug: () => logger,
    };
    compile(spec as TopLevelSpec, { logger: logger as never });
    expect(warnings).toEqual([]);
    const json = JSON.stringify(spec);
    expect(json).toContain('"type":"log"');
    expect(json).toContain('"ratio":1.5');
  });

  it('report.html of a real-clock run has the table, the overrun and the chart; a virtual run has none', async () => {
    const dir = await writeFixtureRun({ 'config.json': realConfig, 'wall_phases.csv': fixtureWallPhases() });
    const { files: written } = await renderRunReport(dir);
    expect(written.map((f) => path.basename(f))).toContain('wall_phases.png');
    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Real clock: emulated versus wall time</h2>');
    expect(html).toContain('<td class="text">of which real training</td>');
    expect(html).toContain(
      'Overruns: in 1 learner-cycle real training took longer than its scaled compute budget, 0.3 s in all — learner 2 in ETA cycle 3 (+0.3 s)',
    );
    expect(html).toContain('+0.3 s (learner 2, cycle 3)');
    expect(html).toContain('wall ÷ (emulated × time scale), log scale');
    const virtual = await writeFixtureRun();
    const { files: plain } = await renderRunReport(virtual);
    expect(plain.map((f) => path.basename(f))).not.toContain('wall_phases.png');
    expect(await readFile(path.join(virtual, 'report.html'), 'utf8')).not.toContain('Real clock');
  });
});
