/** User schemes in real runs: a module re-planned every cycle under dynamics, a process that crashes, and the resume after it. */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { BUILTIN_SCHEMES, schemeRegistry, type Scheme } from '../../src/allocation/index.ts';
import { generateFleet } from '../../src/model/devices.ts';
import { runExperiment } from '../../src/orchestrator/experiment.ts';
import { Measurements, Planner } from '../../src/orchestrator/planner.ts';
import { createWorld } from '../../src/orchestrator/world.ts';
import { parseCycles } from '../../src/run-folder/read.ts';
import { smallConfig } from '../helpers/run-config.ts';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../..');
const tmp = () => tmpDir('user-scheme');
const cyclesOf = (out: string) =>
  parseCycles(readFileSync(join(out, 'cycles.csv'), 'utf8'), 'cycles.csv').map(
    (r) => `${r.scheme}@${r.cycle} τ=${r.tau}`,
  );

describe('user schemes in a run', () => {
  it('a module scheme is asked again every cycle under dynamics, with what the planner measured (csi last)', async () => {
    const dir = tmp();
    const record = join(dir, 'problems.jsonl');
    process.env.MEL_TEST_RECORD = record;
    try {
      const config = smallConfig({
        K: 4,
        cycles: 3,
        schemes: ['optimal', 'mine'],
        speed_jitter: 0.3,
        csi: 'last',
        user_schemes: [{ name: 'mine', module: join(ROOT, 'test/schemes/recording-scheme.ts') }],
      });
      const run = await runExperiment(config, { out: join(dir, 'run'), log: () => {} });
      expect(run.summary.schemes.mine).toBeDefined();
      const problems = readFileSync(record, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      // One check before the first cycle (the learners are spawned with the fleet it saw), then one per cycle.
      expect(problems.map((p) => p.cycle)).toEqual([0, 1, 2, 3]);
      // Every problem the run wrote follows the JSON Schema of docs/schemes/.
      const problemSchema = new Ajv({ strict: false }).compile(
        JSON.parse(readFileSync(join(ROOT, 'docs/schemes/problem.schema.json'), 'utf8')),
      );
      for (const p of problems) expect(problemSchema(p), JSON.stringify(problemSchema.errors)).toBe(true);
      expect(problems[1].learners.map((l: { c2: number }) => l.c2)).toEqual(
        problems[0].learners.map((l: { c2: number }) => l.c2),
      ); // nothing measured yet
      // From cycle 2 on the planner knows the speeds it measured, which the jitter changes from cycle to cycle.
      expect(problems[2].learners.map((l: { c2: number }) => l.c2)).not.toEqual(
        problems[1].learners.map((l: { c2: number }) => l.c2),
      );
      expect(problems[3].learners.map((l: { c2: number }) => l.c2)).not.toEqual(
        problems[2].learners.map((l: { c2: number }) => l.c2),
      );
      expect(problems[2].learners.map((l: { id: number }) => l.id)).toEqual([0, 1, 2, 3]);
      expect(cyclesOf(run.out).filter((c) => c.startsWith('mine'))).toHaveLength(3);
    } finally {
      delete process.env.MEL_TEST_RECORD;
    }
  });

  it('a process scheme that crashes stops the run (completed cycles kept, no process left); --resume with the fixed scheme goes on', async () => {
    const dir = tmp();
    const script = join(dir, 'scheme.py');
    const runAs = (file: string, args: string[]) =>
      `import runpy, sys\nsys.argv = [${JSON.stringify(file)}, ${args.map((a) => JSON.stringify(a)).join(', ')}]\nrunpy.run_path(${JSON.stringify(file)}, run_name="__main__")\n`;
    writeFileSync(script, runAs(join(ROOT, 'test/schemes/misbehaving-scheme.py'), ['crash', '2']));
    // A world that changes: the scheme is asked every cycle (a static one is asked once, before the first).
    const config = smallConfig({
      K: 3,
      cycles: 2,
      schemes: ['optimal', 'mine'],
      speed_jitter: 0.2,
      csi: 'last',
      user_schemes: [{ name: 'mine', command: `python3 ${script}` }],
      scheme_timeout_s: 60,
    });
    const out = join(dir, 'run');
    await expect(runExperiment(config, { out, log: () => {} })).rejects.toThrow(
      /^scheme mine \(python3 .*scheme\.py\) exited with code 3; its stderr ends: .*ZeroDivisionError: division by zero$/,
    );
    expect(cyclesOf(out).map((c) => c.split(' ')[0])).toEqual(['optimal@1', 'optimal@2', 'mine@1']);
    expect(() => execFileSync('pgrep', ['-f', script])).toThrow(); // nothing left running
    writeFileSync(script, runAs(join(ROOT, 'examples/schemes/proportional.py'), []));
    const resumed = await runExperiment(config, { out, resume: true, log: () => {} });
    expect(cyclesOf(resumed.out).map((c) => c.split(' ')[0])).toEqual(['optimal@1', 'optimal@2', 'mine@1', 'mine@2']);
    expect(resumed.summary.schemes.mine.cycles).toBe(2);
  });

  it('an infeasible answer stops the run with its reason: before the first cycle (nothing started, no folder), and in a cycle', async () => {
    const dir = tmp();
    const out = join(dir, 'run');
    const config = smallConfig({
      schemes: ['optimal', 'mine'],
      user_schemes: [
        { name: 'mine', command: `python3 ${join(ROOT, 'test/schemes/misbehaving-scheme.py')} infeasible` },
      ],
      scheme_timeout_s: 60,
    });
    await expect(runExperiment(config, { out, log: () => {} })).rejects.toThrow(
      /^scheme mine answered infeasible before the first cycle: my solver gave up$/,
    );
    expect(existsSync(out)).toBe(false);
    // In a world that changes the scheme is asked every cycle; its second answer is infeasible.
    const dynamic = smallConfig({ schemes: ['mine'], speed_jitter: 0.2, csi: 'last' });
    const fleet = generateFleet(dynamic.K, dynamic.seed, dynamic.params);
    const mine: Scheme = {
      name: 'mine',
      kind: 'common-tau',
      allocate: (p) =>
        (p.cycle ?? 0) < 2
          ? BUILTIN_SCHEMES.optimal.allocate(p)
          : { feasible: false, scheme: 'mine', reason: 'my solver gave up', binding: [] },
    };
    const planner = new Planner(dynamic, fleet, createWorld(dynamic, fleet, dynamic.params), schemeRegistry([mine]));
    expect((await planner.plan('mine', 1, new Measurements(dynamic.K))).tau).toBeGreaterThan(0);
    await expect(planner.plan('mine', 2, new Measurements(dynamic.K))).rejects.toThrow(
      /^scheme mine answered infeasible for cycle 2: my solver gave up$/,
    );
  });

  it('in a static world (asked once, before the first cycle) an extra output line stops the run before its first cycle; --resume with the fixed scheme goes on', async () => {
    const dir = tmp();
    const script = join(dir, 'scheme.py');
    const runAs = (file: string, args: string[]) =>
      `import runpy, sys\nsys.argv = [${JSON.stringify(file)}, ${args.map((a) => JSON.stringify(a)).join(', ')}]\nrunpy.run_path(${JSON.stringify(file)}, run_name="__main__")\n`;
    // The answer and the extra line leave in one write, so the line is read with the answer.
    writeFileSync(script, runAs(join(ROOT, 'test/schemes/misbehaving-scheme.py'), ['extra']));
    const config = smallConfig({
      K: 3,
      cycles: 2,
      schemes: ['optimal', 'mine'],
      user_schemes: [{ name: 'mine', command: `python3 ${script}` }],
      scheme_timeout_s: 60,
    });
    const out = join(dir, 'run');
    await expect(runExperiment(config, { out, log: () => {} })).rejects.toThrow(
      /^scheme mine wrote an extra line on stdout after its answer to cycle 0: "debug: done"/,
    );
    expect(cyclesOf(out).map((c) => c.split(' ')[0])).toEqual(['optimal@1', 'optimal@2']);
    writeFileSync(script, runAs(join(ROOT, 'examples/schemes/proportional.py'), []));
    const resumed = await runExperiment(config, { out, resume: true, log: () => {} });
    expect(cyclesOf(resumed.out).map((c) => c.split(' ')[0])).toEqual(['optimal@1', 'optimal@2', 'mine@1', 'mine@2']);
  });
});
