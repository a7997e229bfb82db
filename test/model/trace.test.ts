import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { InputError } from '../../src/errors.ts';
import { generateFleet } from '../../src/model/devices.ts';
import { createDynamics, STATIC_WORLD, type WorldState } from '../../src/model/dynamics.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';
import {
  assertTraceFits,
  formatTrace,
  parseTrace,
  traceFromDynamics,
  traceState,
  TraceError,
  type Trace,
} from '../../src/model/trace.ts';

const HEADER = 'cycle,learner,f_hz,rate_bps,available';
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n');
const OK2x2 = ['1,0,1e9,2e8,1', '1,1,7e8,1e8,0', '2,0,1.1e9,2.1e8,1', '2,1,7e8,1e8,1'];

describe('the example trace', () => {
  const text = readFileSync(new URL('../../data/example-trace.csv', import.meta.url), 'utf8');
  const trace = parseTrace(text, 'data/example-trace.csv');

  it('holds 4 learners over 5 cycles', () => {
    expect([trace.learners, trace.cycles]).toEqual([4, 5]);
    expect(traceState(trace, 0, 1)).toEqual({ available: true, f_hz: 1.964e9, rate_bps: 2.806e8 });
    expect(traceState(trace, 3, 1).available).toBe(false);
  });

  it('repeats the last cycle after the end', () => {
    for (const c of [6, 7, 1000])
      for (let k = 0; k < 4; k++) expect(traceState(trace, k, c)).toBe(traceState(trace, k, 5));
  });
});

describe('parseTrace', () => {
  it('reads rows in any order, with comments, blank lines, CRLF, a BOM, spaces and true/false', () => {
    const text =
      '\uFEFF# a comment\r\n\r\n' +
      [
        ' cycle , learner,f_hz,rate_bps, available ',
        '2,1,7e8,1e8,true',
        '# mid',
        '1,1, 7e8 ,1e8,false',
        '2,0,1.1e9,2.1e8,1',
        '',
        '1,0,1e9,2e8,1',
      ].join('\r\n');
    const t = parseTrace(text);
    expect(t).toEqual(parseTrace(csv(...OK2x2)));
    expect(t.states[0][1]).toEqual({ available: false, f_hz: 7e8, rate_bps: 1e8 });
  });

  it('round-trips through formatTrace exactly', () => {
    const state = fc.record({
      available: fc.boolean(),
      f_hz: fc.double({ min: 1e-3, max: 1e12, noNaN: true }),
      rate_bps: fc.double({ min: 1e-3, max: 1e12, noNaN: true }),
    });
    const trace = fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }))
      .chain(([K, C]) => fc.array(fc.array(state, { minLength: K, maxLength: K }), { minLength: C, maxLength: C }))
      .map((states): Trace => ({ learners: states[0].length, cycles: states.length, states }));
    fc.assert(
      fc.property(trace, (t) => {
        expect(parseTrace(formatTrace(t))).toEqual(t);
      }),
      { numRuns: 200 },
    );
  });

  it('replays a recorded dynamics world exactly', () => {
    const fleet = generateFleet(5, 4, PAPER_PRESET);
    const spec = {
      ...STATIC_WORLD,
      fading: 'rayleigh' as const,
      shadowing_db: 3,
      speed_jitter: 0.2,
      availability: 0.8,
      mean_on_cycles: 5,
    };
    const dyn = createDynamics(fleet, spec, PAPER_PRESET, 4);
    const replay = parseTrace(formatTrace(traceFromDynamics(dyn, 5, 12)));
    for (let c = 1; c <= 12; c++)
      for (let k = 0; k < 5; k++) {
        const { available, f_hz, rate_bps } = dyn.state(k, c);
        expect(traceState(replay, k, c)).toEqual({ available, f_hz, rate_bps });
      }
  });

  const bad: [string, string, RegExp][] = [
    ['an empty file', '', /^t\.csv: no header \(expected "cycle,learner,f_hz,rate_bps,available"\)$/],
    ['only comments', '# nothing\n\n', /no header/],
    [
      'a wrong header',
      'cycle,learner,f_hz,rate,available\n1,0,1,1,1',
      /^t\.csv:1: header is "cycle,learner,f_hz,rate,available", expected/,
    ],
    ['a missing header', '1,0,1e9,2e8,1', /^t\.csv:1: header is "1,0,1e9,2e8,1"/],
    ['no rows', HEADER + '\n# none\n', /^t\.csv: no rows after the header$/],
    ['too few fields', csv('1,0,1e9,2e8'), /^t\.csv:2: 4 fields, expected 5/],
    ['too many fields', csv('1,0,1e9,2e8,1,x'), /^t\.csv:2: 6 fields, expected 5/],
    ['cycle 0', csv('0,0,1e9,2e8,1'), /^t\.csv:2: column cycle must be an integer >= 1, got "0"$/],
    ['a fractional cycle', csv('1.5,0,1e9,2e8,1'), /column cycle must be an integer >= 1, got "1.5"/],
    ['a non-numeric cycle', csv('one,0,1e9,2e8,1'), /column cycle must be a decimal number, got "one"/],
    ['a negative learner', csv('1,-1,1e9,2e8,1'), /column learner must be an integer >= 0, got "-1"/],
    ['f_hz 0', csv('1,0,0,2e8,1'), /^t\.csv:2: column f_hz must be > 0 and <= 10000000000000, got "0"$/],
    ['a negative f_hz', csv('1,0,-1e9,2e8,1'), /column f_hz must be > 0/],
    ['a hex f_hz', csv('1,0,0x10,2e8,1'), /column f_hz must be a decimal number, got "0x10"/],
    ['an infinite f_hz', csv('1,0,Infinity,2e8,1'), /column f_hz must be a decimal number/],
    ['an overflowing f_hz', csv('1,0,1e999,2e8,1'), /column f_hz must be a decimal number/],
    ['an empty rate_bps', csv('1,0,1e9,,1'), /column rate_bps must be a decimal number, got ""/],
    ['a zero rate_bps', csv('1,0,1e9,0,1'), /column rate_bps must be > 0/],
    ['a bad available', csv('1,0,1e9,2e8,yes'), /^t\.csv:2: column available must be 1 or 0, got "yes"$/],
    [
      'a duplicate row',
      csv('1,0,1e9,2e8,1', '# c', '1,0,1e9,2e8,0'),
      /^t\.csv:4: cycle 1, learner 0 already given on line 2$/,
    ],
    [
      'a missing learner',
      csv('1,0,1e9,2e8,1', '1,1,1e9,2e8,1', '2,1,1e9,2e8,1'),
      /^t\.csv: no row for cycle 2, learner 0 \(every cycle 1\.\.2 needs learners 0\.\.1\)$/,
    ],
    ['a missing cycle', csv('1,0,1e9,2e8,1', '3,0,1e9,2e8,1'), /no row for cycle 2, learner 0/],
  ];
  it.each(bad)('rejects %s with a one-line TraceError', (_, text, msg) => {
    let err: unknown;
    try {
      parseTrace(text, 't.csv');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceError);
    expect(err).toBeInstanceOf(InputError); // the CLI maps it to exit code 2
    const e = err as TraceError;
    expect(e.message).toMatch(msg);
    expect(e.message).not.toContain('\n');
    expect(e.file).toBe('t.csv');
    expect(e.name).toBe('TraceError');
  });
});

describe('traceState and assertTraceFits', () => {
  const t = parseTrace(csv(...OK2x2));
  it('looks states up by learner and cycle', () => {
    const s: WorldState = traceState(t, 1, 2);
    expect(s).toEqual({ available: true, f_hz: 7e8, rate_bps: 1e8 });
  });

  it('rejects learners outside the trace and cycles below 1', () => {
    expect(() => traceState(t, 2, 1)).toThrow(/learner must be an integer in \[0, 2\)/);
    expect(() => traceState(t, 0, 0)).toThrow(/cycle must be an integer >= 1/);
  });

  it('requires the fleet size to match', () => {
    expect(() => assertTraceFits(t, 2)).not.toThrow();
    expect(() => assertTraceFits(t, 3, 'w.csv')).toThrow(
      /^w\.csv: the trace has 2 learners \(0\.\.1\) but the run has K = 3$/,
    );
  });
});
