/** The contract of a user's scheme: the problem it reads, and every way its answer can be wrong. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { allocationFromAnswer, problemMessage, SchemeAnswerError } from '../../src/allocation/answer.ts';
import {
  BUILTIN_SCHEMES,
  schemeRegistry,
  solveAnalytical,
  solveAsync,
  solveEta,
  solveOptimal,
  type SchemeProblem,
} from '../../src/allocation/index.ts';
import { InputError } from '../../src/errors.ts';
import { coefficients } from '../../src/model/coefficients.ts';
import { generateFleet } from '../../src/model/devices.ts';
import { energyCoefficients, DEFAULT_ENERGY_PARAMS } from '../../src/model/energy.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';

// Three learners, ids 10..12 in the fleet; t_k = c2·τ·d + c1·d + c0 with T_s = 10.
const problem: SchemeProblem = {
  cycle: 4,
  T_s: 10,
  d: 100,
  coeffs: [
    { c0_s: 1, c1_s_per_sample: 0.01, c2_s_per_sample_iter: 0.02 },
    { c0_s: 1, c1_s_per_sample: 0.01, c2_s_per_sample_iter: 0.04 },
    { c0_s: 12, c1_s_per_sample: 0.01, c2_s_per_sample_iter: 0.01 },
  ],
  devices: [
    { id: 10, f_hz: 2e9, rate_bps: 1e7 },
    { id: 11, f_hz: 1e9, rate_bps: 1e7 },
    { id: 12, f_hz: 4e9, rate_bps: 1e6 },
  ],
};
const answer = (a: unknown) => allocationFromAnswer('mine', 'per-learner-tau', problem, a);
const wrong = (a: unknown, message: RegExp) => {
  expect(() => answer(a)).toThrow(SchemeAnswerError);
  expect(() => answer(a)).toThrow(message);
};

describe("a user scheme's answer", () => {
  it('one τ: the allocation with times, τ_k = τ for who has samples, 0 for who sits out', () => {
    const a = answer({ batch: [60, 40, 0], tau: 5 });
    expect(a).toEqual({
      feasible: true,
      scheme: 'mine',
      tau: 5,
      batch: [60, 40, 0],
      tau_per_learner: [5, 5, 0],
      staleness: 0,
      time_s: [1 + 0.6 + 6, 1 + 0.4 + 8, 0],
    });
  });

  it('a τ_k per learner: τ = min over who has samples, staleness = spread', () => {
    const a = answer({ batch: [60, 40, 0], tau: [7, 5, 0] });
    expect(a).toMatchObject({ feasible: true, tau: 5, tau_per_learner: [7, 5, 0], staleness: 2 });
  });

  it("τ above the run's --tau-max is lowered to it (that only frees time)", () => {
    const a = allocationFromAnswer('mine', 'common-tau', { ...problem, tau_max: 3 }, { batch: [60, 40, 0], tau: 5 });
    expect(a).toMatchObject({ tau: 3, tau_per_learner: [3, 3, 0] });
  });

  it('{"infeasible": why} is an infeasible allocation with the scheme\'s reason', () => {
    expect(answer({ infeasible: 'too slow' })).toEqual({
      feasible: false,
      scheme: 'mine',
      reason: 'too slow',
      binding: [],
    });
    wrong({ infeasible: '' }, /"infeasible" must be a non-empty string/);
    wrong({ infeasible: 'too slow', batch: [1, 2], tau: 1 }, /not both/);
  });

  it('Σ d_k ≠ d', () => wrong({ batch: [60, 30, 0], tau: 5 }, /^scheme mine, cycle 4: Σ d_k = 90 ≠ d = 100$/));

  it('t_k > T_s names the learner (its fleet id) and the numbers', () => {
    wrong(
      { batch: [60, 40, 0], tau: 6 },
      /^scheme mine, cycle 4: learner 11: t_k = 11(\.\d+)? s > T_s = 10 s \(d_k = 40, τ_k = 6, c0 = 1, c1 = 0\.01, c2 = 0\.04\)$/,
    );
    // A learner that cannot even exchange the model in time may not be given samples.
    wrong({ batch: [60, 39, 1], tau: 1 }, /learner 12: t_k = 12\.02 s > T_s = 10 s/);
  });

  it('τ = 0, a τ_k = 0 for a learner with samples, a fractional τ', () => {
    wrong({ batch: [60, 40, 0], tau: 0 }, /τ = 0: must be an integer ≥ 1/);
    wrong(
      { batch: [60, 40, 0], tau: [5, 0, 0] },
      /learner 11: τ_k = 0 with d_k = 40: a learner given samples needs τ_k ≥ 1/,
    );
    wrong({ batch: [60, 40, 0], tau: 2.5 }, /τ = 2\.5: must be an integer ≥ 1/);
  });

  it('non-integer or negative batches, a batch of the wrong length, a missing or malformed τ', () => {
    wrong({ batch: [59.5, 40.5, 0], tau: 5 }, /learner 10: d_k = 59\.5 is not an integer ≥ 0/);
    wrong({ batch: [110, -10, 0], tau: 1 }, /learner 11: d_k = -10 is not an integer ≥ 0/);
    wrong({ batch: ['60', 40, 0], tau: 1 }, /learner 10: d_k = "60" is not an integer ≥ 0/);
    wrong({ batch: [100, 0], tau: 1 }, /"batch" must be an array of 3 integers/);
    wrong({ batch: [60, 40, 0] }, /"tau" must be an integer ≥ 1 or an array of 3 integers/);
    wrong({ batch: [60, 40, 0], tau: [5, 5] }, /"tau" must be an integer ≥ 1 or an array of 3 integers/);
  });

  it('not an object', () => {
    wrong([1, 2], /the answer must be a JSON object, got \[1,2\]/);
    wrong('ok', /the answer must be a JSON object, got "ok"/);
    wrong(null, /the answer must be a JSON object/);
  });

  it('a common-tau scheme must give one τ', () => {
    expect(() => allocationFromAnswer('mine', 'common-tau', problem, { batch: [60, 40, 0], tau: [5, 5, 0] })).toThrow(
      /"tau" must be one integer ≥ 1 \(a common-tau scheme\)/,
    );
  });

  it('wrong answers are input errors (exit 2)', () => {
    expect(() => answer({ batch: [1, 1, 1], tau: 1 })).toThrow(InputError);
  });
});

describe('the problem message', () => {
  it('carries the coefficients the planner has, the ids, speeds and rates, energy when the run has it, finite budgets only', () => {
    const energy = problem.coeffs.map((_, i) => ({ e0_j: i, e1_j_per_sample: 0.1, e2_j_per_sample_iter: 0.2 }));
    const m = problemMessage('mine', { ...problem, tau_max: 8, energy, budget_j: [5, Infinity, 7] });
    expect(m).toEqual({
      scheme: 'mine',
      cycle: 4,
      T_s: 10,
      d: 100,
      tau_max: 8,
      learners: [
        { id: 10, c0: 1, c1: 0.01, c2: 0.02, f_hz: 2e9, rate_bps: 1e7, e0: 0, e1: 0.1, e2: 0.2, budget_j: 5 },
        { id: 11, c0: 1, c1: 0.01, c2: 0.04, f_hz: 1e9, rate_bps: 1e7, e0: 1, e1: 0.1, e2: 0.2 },
        { id: 12, c0: 12, c1: 0.01, c2: 0.01, f_hz: 4e9, rate_bps: 1e6, e0: 2, e1: 0.1, e2: 0.2, budget_j: 7 },
      ],
    });
    // JSON keeps every double exactly: the scheme checks against the very numbers the emulator checks.
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });
});

describe('the built-in schemes through the Scheme interface', () => {
  it("give exactly the solvers' allocations", () => {
    const fleet = generateFleet(20, 1, PAPER_PRESET);
    const p = {
      coeffs: fleet.map((l) => coefficients(l, PAPER_PRESET, 'parallel')),
      T_s: 12,
      d: 60000,
      max_staleness: 1,
      energy: fleet.map((l) => energyCoefficients(l, PAPER_PRESET, 'parallel', DEFAULT_ENERGY_PARAMS)),
      budget_j: fleet.map(() => Infinity),
    };
    expect(BUILTIN_SCHEMES.optimal.allocate(p)).toEqual(solveOptimal(p));
    expect(BUILTIN_SCHEMES.eta.allocate(p)).toEqual(solveEta(p));
    expect(BUILTIN_SCHEMES.analytical.allocate(p)).toEqual(solveAnalytical(p));
    expect(BUILTIN_SCHEMES.async.allocate(p)).toEqual(solveAsync(p));
    expect(BUILTIN_SCHEMES.robust.allocate(p)).toEqual({ ...solveOptimal(p), scheme: 'robust' });
    expect(BUILTIN_SCHEMES.optimal.kind).toBe('common-tau');
    expect(BUILTIN_SCHEMES.async.kind).toBe('per-learner-tau');
  });

  it('the registry holds built-in and user schemes alike and refuses a taken name', () => {
    const mine = {
      name: 'mine',
      kind: 'common-tau' as const,
      allocate: () => ({ feasible: false as const, scheme: 'mine', reason: 'x', binding: [] }),
    };
    const r = schemeRegistry([mine]);
    expect(r.names()).toEqual(['eta', 'analytical', 'optimal', 'async', 'energy', 'robust', 'mine']);
    expect(r.get('mine')).toBe(mine);
    expect(() => schemeRegistry([{ ...mine, name: 'optimal' }])).toThrow(/scheme name "optimal" is taken/);
    expect(() => r.get('theirs')).toThrow(/unknown scheme "theirs"/);
  });
});

describe('the JSON Schemas in docs/schemes/ describe the messages', () => {
  const load = (name: string) =>
    JSON.parse(readFileSync(join(import.meta.dirname, '../../docs/schemes', name), 'utf8'));
  const ajv = new Ajv({ strict: false });
  const problemSchema = ajv.compile(load('problem.schema.json'));
  const answerSchema = ajv.compile(load('answer.schema.json'));

  it('every problem the emulator writes is valid', () => {
    const energy = problem.coeffs.map(() => ({ e0_j: 1, e1_j_per_sample: 0.1, e2_j_per_sample_iter: 0.2 }));
    for (const p of [
      problem,
      { ...problem, tau_max: 3, energy, budget_j: [1, Infinity, 2] },
      { ...problem, devices: undefined, cycle: undefined },
    ])
      expect(problemSchema(problemMessage('mine', p)), JSON.stringify(problemSchema.errors)).toBe(true);
  });

  it('the answers the emulator accepts are valid, and the malformed ones it refuses are not', () => {
    for (const a of [
      { batch: [60, 40, 0], tau: 5 },
      { batch: [60, 40, 0], tau: [7, 5, 0] },
      { infeasible: 'too slow' },
    ]) {
      expect(answerSchema(a)).toBe(true);
      expect(() => answer(a)).not.toThrow();
    }
    for (const a of [
      { batch: [59.5, 40.5, 0], tau: 5 },
      { batch: [60, 40, 0], tau: 0 },
      { batch: [60, 40, 0] },
      { infeasible: '' },
      [1, 2],
    ]) {
      expect(answerSchema(a)).toBe(false);
      expect(() => answer(a)).toThrow(SchemeAnswerError);
    }
  });
});
