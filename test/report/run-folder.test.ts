import { afterAll, describe, it, expect } from 'vitest';
import path from 'node:path';
import { loadRunFolder } from '../../src/report/run-folder.ts';
import { parseCycles, parseLearners, validateSummary } from '../../src/run-folder/read.ts';
import { ReportInputError } from '../../src/report/errors.ts';
import { fixtureFiles, removeTempDirs, writeFixtureRun, FIXTURE_T_S } from './fixture.ts';

afterAll(removeTempDirs);

async function loadError(override: Record<string, string | null>): Promise<ReportInputError> {
  const dir = await writeFixtureRun(override);
  const err = await loadRunFolder(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ReportInputError);
  return err as ReportInputError;
}

describe('run folder parsing', () => {
  const files = fixtureFiles();

  it('parses the synthetic cycles and learners', () => {
    const cycles = parseCycles(files['cycles.csv'], 'cycles.csv');
    expect(cycles).toHaveLength(6);
    // The fixture carries the header from before the dynamics columns: they read as null.
    expect(cycles[0]).toEqual({
      scheme: 'optimal',
      cycle: 1,
      tau: 6,
      testAccuracy: 0.9512,
      testLoss: 0.171,
      emulatedTimeS: 12,
      maxLearnerTimeS: 11.8,
      lateLearners: 0,
      wallTimeS: 2.1,
      updatesAggregated: null,
      taskedLearners: null,
      unavailableLearners: null,
    });
    const learners = parseLearners(files['learners.csv'], 'learners.csv');
    expect(learners).toHaveLength(18);
    const eta3 = learners.filter((r) => r.scheme === 'eta' && r.cycle === 3);
    expect(eta3.map((r) => r.status)).toEqual(['on-time', 'late', 'missing']);
    expect(eta3[2]).toMatchObject({ tSendS: null, tComputeS: null, tReturnS: null, tTotalS: null, batch: 200 });
    expect(eta3[1].tTotalS).toBeGreaterThan(FIXTURE_T_S);
  });

  it('reads the dynamics columns of cycles.csv, and rejects a bad count', () => {
    const head =
      'scheme,cycle,tau,test_accuracy,test_loss,emulated_time_s,max_learner_time_s,late_learners,wall_time_s,updates_aggregated,tasked_learners,unavailable_learners';
    expect(parseCycles(`${head}\nrobust,2,3,0.95,0.2,24,11,1,8.5,17,18,2\n`, 'cycles.csv')[0]).toMatchObject({
      updatesAggregated: 17,
      taskedLearners: 18,
      unavailableLearners: 2,
    });
    expect(() => parseCycles(`${head}\nrobust,2,3,0.95,0.2,24,11,1,8.5,1.5,18,2\n`, 'cycles.csv')).toThrow(
      /cycles\.csv:2: column updates_aggregated must be an integer/,
    );
  });

  it('rejects empty times for a learner that reported, and bad late values', () => {
    const head = files['learners.csv'].split('\n')[0];
    expect(() => parseLearners(`${head}\neta,1,1,1e9,1e7,100,,,,,0\n`, 'learners.csv')).toThrow(
      /learners\.csv:2: column t_send_s must be a number/,
    );
    expect(() => parseLearners(`${head}\neta,1,1,1e9,1e7,100,1,1,1,3,yes\n`, 'learners.csv')).toThrow(
      /column late must be one of 0\|1\|missing/,
    );
    // A learner that sat out (batch 0) may have no times.
    expect(parseLearners(`${head}\neta,1,1,1e9,1e7,0,,,,,0\n`, 'learners.csv')[0].tTotalS).toBeNull();
  });

  it('rejects accuracy outside [0, 1] and cycle 0', () => {
    const head = files['cycles.csv'].split('\n')[0];
    expect(() => parseCycles(`${head}\neta,1,2,96.2,0.1,12,11,0,1\n`, 'cycles.csv')).toThrow(
      /column test_accuracy must be in \[0, 1\]/,
    );
    expect(() => parseCycles(`${head}\neta,0,2,0.96,0.1,12,11,0,1\n`, 'cycles.csv')).toThrow(
      /column cycle must be in \[1, Infinity\]/,
    );
  });

  it('reads learners.csv with the reason column, and the older header without it (committed runs)', () => {
    const old = parseLearners(files['learners.csv'], 'learners.csv');
    expect(old.every((r) => r.reason === null)).toBe(true);
    const withReason = files['learners.csv']
      .trim()
      .split('\n')
      .map((l, i) =>
        i === 0 ? `${l},reason` : l.endsWith(',missing') ? `${l},"disconnected (1006, going away)"` : `${l},`,
      )
      .join('\n');
    const rows = parseLearners(withReason, 'learners.csv');
    expect(rows.filter((r) => r.status === 'missing').map((r) => r.reason)).toEqual([
      'disconnected (1006, going away)',
    ]);
    expect(rows.map(({ reason: _r, ...rest }) => rest)).toEqual(old.map(({ reason: _r, ...rest }) => rest));
  });

  it('accepts null results for a scheme that never ran (an interrupted run)', () => {
    const good = JSON.parse(files['summary.json']);
    const notRun = {
      cycles: 0,
      final_accuracy: null,
      best_accuracy: null,
      final_loss: null,
      cycles_to_96_67: null,
      cycles_to_97: null,
      mean_tau: null,
      tau: [],
      late_learner_cycles: 0,
      missing_learner_cycles: 0,
    };
    expect(
      validateSummary({ schemes: { ...good.schemes, eta: notRun } }, 's.json').schemes.eta.final_accuracy,
    ).toBeNull();
  });

  it('validates summary.json field types', () => {
    const good = JSON.parse(files['summary.json']);
    expect(validateSummary(good, 's.json').schemes.eta.cycles_to_97).toBeNull();
    expect(() => validateSummary({}, 's.json')).toThrow(/s\.json: "schemes" must be an object/);
    expect(() => validateSummary({ schemes: { eta: { ...good.schemes.eta, mean_tau: '2' } } }, 's.json')).toThrow(
      /schemes\.eta\.mean_tau must be a number/,
    );
    expect(() =>
      validateSummary({ schemes: { eta: { ...good.schemes.eta, cycles_to_97: 'never' } } }, 's.json'),
    ).toThrow(/cycles_to_97 must be a number or null/);
  });
});

describe('loadRunFolder errors name the file', () => {
  for (const name of ['config.json', 'cycles.csv', 'learners.csv']) {
    it(`missing ${name}`, async () => {
      const e = await loadError({ [name]: null });
      expect(path.basename(e.file)).toBe(name);
      expect(e.message).toMatch(new RegExp(`${name.replace('.', '\\.')}: missing$`));
    });
  }

  it('no summary.json: a run in progress, its summary computed from the CSV rows as the run would', async () => {
    const finished = await loadRunFolder(await writeFixtureRun({}));
    const running = await loadRunFolder(await writeFixtureRun({ 'summary.json': null }));
    expect([finished.inProgress, running.inProgress]).toEqual([false, true]);
    for (const scheme of ['optimal', 'eta'])
      expect(running.summary.schemes[scheme]).toMatchObject(finished.summary.schemes[scheme]);
  });

  it('--targets the run did not count: cycles to them from the rows; summary.json must hold its own targets', async () => {
    const run = await loadRunFolder(await writeFixtureRun({}), [0.95, 0.97]);
    expect(run.targets).toEqual([0.95, 0.97]);
    expect(run.summary.schemes.optimal).toMatchObject({ cycles_to_95: 1, cycles_to_97: 3, cycles_to_96_67: 2 });
    expect(run.summary.schemes.eta.cycles_to_95).toBe(2);
    const custom = JSON.stringify({ ...JSON.parse(fixtureFiles()['config.json']), targets: [0.95] });
    expect((await loadError({ 'config.json': custom })).message).toMatch(
      /schemes\.optimal\.cycles_to_95 must be a number or null/,
    );
  });

  it('malformed JSON, missing T, bad header, missing folder', async () => {
    expect((await loadError({ 'summary.json': '{ "schemes": ' })).message).toMatch(/summary\.json: malformed JSON/);
    expect((await loadError({ 'config.json': '[1,2]' })).message).toMatch(/config\.json: expected a JSON object/);
    expect((await loadError({ 'config.json': '{"K": 3}' })).message).toMatch(
      /config\.json: "T" \(cycle deadline, s\) must be a positive number/,
    );
    expect((await loadError({ 'cycles.csv': 'scheme,cycle\neta,1\n' })).message).toMatch(/cycles\.csv:1: header is/);
    const err = (await loadRunFolder('/nonexistent/run').catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('/nonexistent/run: run folder not found');
  });
});
