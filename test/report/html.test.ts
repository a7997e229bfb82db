import { describe, it, expect } from 'vitest';
import { buildReportHtml } from '../../src/report/html.ts';
import { formatHz, groupThousands, roundNumber } from '../../src/report/format.ts';
import { testSetText, timelineCaption } from '../../src/report/index.ts';
import {
  configGroups,
  describeField,
  engineUsed,
  fleetTable,
  headerFacts,
  summaryGroups,
} from '../../src/report/run-facts.ts';
import { parseLearners, validateSummary } from '../../src/run-folder/read.ts';
import { fixtureFiles } from './fixture.ts';

const files = fixtureFiles();
const config = JSON.parse(files['config.json']) as Record<string, unknown>;
const summary = validateSummary(JSON.parse(files['summary.json']), 'summary.json');
const learners = parseLearners(files['learners.csv'], 'learners.csv');
const html = buildReportHtml({ runName: 'run-x', config, summary, learners, charts: [], warnings: [] });

const factMap = (c: Record<string, unknown>, s: Record<string, unknown> = {}) =>
  Object.fromEntries(headerFacts(c, s).map((f) => [f.label, f.value]));

describe('number formatting', () => {
  it('rounds, groups and keeps units short', () => {
    expect(groupThousands(60000)).toBe('60,000');
    expect(roundNumber(223.36256329300068)).toBe('223.4');
    expect(roundNumber(43.97563598743522, 3)).toBe('44');
    expect(roundNumber(1123736)).toBe('1,123,736');
    expect(roundNumber(0.04840250765246398)).toBe('0.0484');
    expect(formatHz(5e6)).toBe('5 MHz');
    expect(formatHz(2.4e9)).toBe('2.4 GHz');
  });
});

describe('header: what ran (issue 11, report item 1)', () => {
  it('the accuracy caption counts the test images the run used, not always 10,000', () => {
    expect(testSetText(config)).toBe('the 2,000 MNIST test images');
    expect(testSetText({})).toBe('the MNIST test set');
  });

  it('shows the engine that ran, not the requested "auto"', () => {
    expect(engineUsed(config, summary)).toBe('tfjs-wasm');
    // Older runs: backend_used in config.json, or only summary.json backend/engine.
    expect(engineUsed({ backend: 'auto', backend_used: 'wasm' }, {})).toBe('wasm');
    expect(engineUsed({ backend: 'auto' }, { backend: 'wasm' })).toBe('wasm');
    expect(engineUsed({ engine: 'auto' }, { engine: 'onnx' })).toBe('onnx');
    expect(factMap({ backend: 'auto' }, { backend: 'wasm' }).engine).toBe('wasm (requested: auto)');
    expect(factMap({ backend: 'auto' }).engine).toBe('not recorded (requested: auto)');
    expect(html).toContain('<dt>engine</dt><dd>tfjs-wasm (requested: auto)</dd>');
    expect(html).not.toMatch(/backend: auto/);
  });

  it('shows scenario and α, clock and time scale, late policy, jitter, d and the commit', () => {
    const f = factMap(config, summary);
    expect(f).toMatchObject({
      learners: 'K = 3',
      deadline: 'T = 12 s',
      scenario: 'task-parallel (the orchestrator ships each batch)',
      data: 'd = 600 training samples, 2,000 test images',
      clock: 'virtual (emulated time, nothing sleeps)',
      'late learners': 'dropped from the average (--late drop)',
      'speed jitter': 'none (devices exactly as profiled)',
      faults: 'results lost with probability 0.1',
      'git commit': '0123456789ab',
    });
    const other = factMap({
      scenario: 'federated',
      alpha: 0.5,
      clock: 'real',
      time_scale: 0.5,
      late: 'wait',
      speed_jitter: 0.2,
      git_commit: 'abc1234-dirty',
      faults: { kill: [{ learner: 2, cycle: 4 }], drop_prob: 0 },
    });
    expect(other).toEqual({
      scenario: 'federated, non-IID shards (Dirichlet α = 0.5)',
      clock: 'real, time scale 0.5 (an emulated second lasts 0.5 s of wall time)',
      'late learners': 'waited for; the cycle lasts longer (--late wait)',
      'speed jitter': 'σ = 0.2 (log-normal factor on speed and rate, per learner and cycle)',
      faults: 'learner 2 killed in cycle 4 (--fail 2@4)',
      'git commit': 'abc1234-dirty',
    });
    expect(factMap({ scenario: 'federated', alpha: null }).scenario).toBe('federated, IID shards');
    expect(factMap({}).engine).toBeUndefined(); // nothing known, nothing claimed
    for (const label of ['scenario', 'clock', 'late learners', 'speed jitter', 'data', 'git commit'])
      expect(html).toContain(`<dt>${label}</dt>`);
  });
});

describe('fleet and key/value tables instead of JSON dumps (issue 11, report item 2)', () => {
  it('fleet: f_k in GHz, distance, r_k in Mbit/s and d_k per scheme from learners.csv', () => {
    const fleet = fleetTable(config, learners);
    expect(fleet.schemes).toEqual(['optimal', 'eta']);
    expect(fleet.rows).toEqual([
      { id: 1, fGhz: '2.4', distanceM: '12.3', rateMbps: '61', batch: ['260', '200'] },
      { id: 2, fGhz: '0.7', distanceM: '30.5', rateMbps: '32', batch: ['90', '200'] },
      { id: 3, fGhz: '2.4', distanceM: '48.3', rateMbps: '15', batch: ['250', '200'] },
    ]);
    expect(fleet.totals).toEqual(['600', '600']);
    expect(html).toContain('<th scope="col">d_k adaptive (optimal)</th><th scope="col">d_k ETA</th>');
    expect(html).toContain(
      '<tr><th scope="row">2</th><td>0.7</td><td>30.5</td><td>32</td><td>90</td><td>200</td></tr>',
    );
  });

  it('an old config.json without a fleet still gets one from learners.csv', () => {
    const fleet = fleetTable({}, learners);
    expect(fleet.rows[0]).toEqual({ id: 1, fGhz: '2.4', distanceM: '—', rateMbps: '61', batch: ['260', '200'] });
  });

  it('fields get rounded values and units from their key', () => {
    expect(describeField('heartbeat_s', 10)).toEqual({ label: 'heartbeat', value: '10 s' });
    expect(describeField('wall_s', 223.36256329300068)).toEqual({ label: 'wall time, whole run', value: '223.4 s' });
    expect(describeField('bandwidth_hz', 5e6)).toEqual({ label: 'bandwidth', value: '5 MHz' });
    expect(describeField('cpu_hz_choices', [2.4e9, 7e8])).toEqual({
      label: 'CPU speed choices',
      value: '2.4 GHz, 700 MHz',
    });
    expect(describeField('noise_dbm_per_hz', -174)).toEqual({ label: 'noise', value: '-174 dBm/Hz' });
    expect(describeField('fraction_of_wall', 0.04745859930920664)).toEqual({ label: 'share of wall', value: '4.75 %' });
    expect(describeField('authFailures', 0)).toEqual({ label: 'auth failures', value: '0' });
    expect(describeField('faithful', true)).toEqual({ label: 'faithful', value: 'yes' });
    expect(describeField('alpha', null)).toEqual({ label: 'Dirichlet α (null = IID)', value: '—' });
    expect(describeField('kill', [{ learner: 1, cycle: 2 }]).value).toBe('learner 1 killed in cycle 2 (--fail 1@2)');
  });

  it('config and summary become groups of rows; the fleet is not repeated there', () => {
    const groups = configGroups(config);
    expect(groups.map((g) => g.title)).toEqual(['run', 'preset', 'faults']);
    expect(groups.flatMap((g) => g.facts.map((f) => f.label))).not.toContain('fleet');
    expect(summaryGroups(summary)).toEqual([
      {
        title: 'run',
        facts: [
          { label: 'engine used', value: 'tfjs-wasm' },
          { label: 'wall time, whole run', value: '12.35 s' },
          { label: 'overruns', value: '0' },
        ],
      },
    ]);
  });

  it('older runs: `backend` was the engine request; the timeline caption explains a jittered f_k', () => {
    const label = (c: Record<string, unknown>) => configGroups(c)[0].facts.find((f) => f.value === 'auto')!.label;
    expect(label({ backend: 'auto' })).toBe('engine requested');
    expect(label({ engine: 'onnx', backend: 'auto' })).toBe('tfjs backend requested');
    expect(timelineCaption(3, 12, { speed_jitter: 0 })).not.toContain('jitter');
    expect(timelineCaption(3, 12, { speed_jitter: 0.2 })).toContain(
      'the f_k on each row is the speed that learner really had in this cycle',
    );
  });

  it('no raw JSON on show: the exact files are folded away in <details>', () => {
    expect(html).toContain('<caption>preset</caption>');
    expect(html).toContain('<tr><th scope="row">W</th><td>5 MHz</td></tr>');
    const visible = html.replace(/<details>[\s\S]*?<\/details>/g, '');
    expect(visible).not.toContain('<pre>');
    expect(visible).not.toMatch(/12\.3456789|12\.345678/); // no full-precision floats outside <details>
    expect(html.match(/<details>/g)).toHaveLength(2);
  });
});
