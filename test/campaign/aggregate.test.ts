/**
 * Aggregation over seeds on hand-made cycles.csv rows: every statistic is recomputed here by hand
 * (two-pass mean/sd, hard-coded Student t quantiles), not through src/stats.
 */
import { describe, expect, it } from 'vitest';
import {
  aggregateCsv,
  aggregateCycles,
  AGGREGATE_HEADER,
  pairCyclesToTarget,
  summarizeCampaign,
  targetColumn,
  targetKey,
  type SeedCycles,
} from '../../src/campaign/aggregate.ts';
import { ACCURACY_TARGETS, type CycleRow } from '../../src/run-folder/schema.ts';

// t_{0.975, df}
const T975 = { 1: 12.706204736174698, 2: 4.302652729749464, 3: 3.182446305284263 } as Record<number, number>;

function handStats(xs: number[]) {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = T975[n - 1] * (sd / Math.sqrt(n));
  return { mean, sd, low: mean - half, high: mean + half };
}

/** A cycles.csv row; `offset` is added to the emulated time 12·cycle. */
function row(scheme: string, cycle: number, acc: number, offset = 0): CycleRow {
  return {
    scheme,
    cycle,
    tau: scheme === 'eta' ? 2 : 5,
    testAccuracy: acc,
    testLoss: 1 - acc,
    emulatedTimeS: 12 * cycle + offset,
    maxLearnerTimeS: 11,
    lateLearners: 0,
    wallTimeS: 1,
  };
}

// Three seeds × 4 cycles. optimal reaches 96.67 % at cycles 2, 3, 3 and 97 % at 3, 4, never;
// ETA reaches 96.67 % at 4, never, never and 97 % never.
const ACC: Record<string, number[][]> = {
  optimal: [
    [0.95, 0.967, 0.971, 0.975],
    [0.94, 0.96, 0.968, 0.972],
    [0.945, 0.955, 0.9667, 0.969],
  ],
  eta: [
    [0.92, 0.94, 0.955, 0.9667],
    [0.91, 0.935, 0.95, 0.96],
    [0.915, 0.93, 0.945, 0.962],
  ],
};
const SEEDS = [3, 7, 11];
const RUNS: SeedCycles[] = SEEDS.map((seed, i) => ({
  seed,
  rows: ['optimal', 'eta'].flatMap((scheme) => ACC[scheme][i].map((a, c) => row(scheme, c + 1, a, i))),
}));

describe('aggregateCycles', () => {
  it('one row per (scheme, cycle) whose mean, sd and Student-t CI equal a hand computation', () => {
    const rows = aggregateCycles(RUNS, ['optimal', 'eta']);
    expect(rows.map((r) => `${r.scheme}:${r.cycle}`)).toEqual([
      'optimal:1',
      'optimal:2',
      'optimal:3',
      'optimal:4',
      'eta:1',
      'eta:2',
      'eta:3',
      'eta:4',
    ]);
    for (const r of rows) {
      const accs = ACC[r.scheme].map((seed) => seed[r.cycle - 1]);
      const h = handStats(accs);
      expect(r.n).toBe(3);
      expect(r.accuracy_mean).toBeCloseTo(h.mean, 14);
      expect(r.accuracy_sd).toBeCloseTo(h.sd, 14);
      expect(r.accuracy_ci95_low).toBeCloseTo(h.low, 12);
      expect(r.accuracy_ci95_high).toBeCloseTo(h.high, 12);
      expect(r.loss_mean).toBeCloseTo(1 - h.mean, 12);
      expect(r.emulated_time_mean_s).toBeCloseTo(12 * r.cycle + 1, 12); // offsets 0, 1, 2
    }
  });

  it('a cycle only some seeds have counts only those (n), and one seed gives no interval', () => {
    const runs: SeedCycles[] = [
      { seed: 1, rows: [row('eta', 1, 0.9), row('eta', 2, 0.92)] },
      { seed: 2, rows: [row('eta', 1, 0.8)] },
    ];
    const rows = aggregateCycles(runs);
    expect(rows[0]).toMatchObject({ cycle: 1, n: 2 });
    expect(rows[0].accuracy_mean).toBeCloseTo(0.85, 14);
    expect(rows[0].accuracy_ci95_high! - 0.85).toBeCloseTo(T975[1] * ((Math.SQRT2 * 0.05) / Math.SQRT2), 10);
    expect(rows[1]).toMatchObject({
      cycle: 2,
      n: 1,
      accuracy_mean: 0.92,
      accuracy_sd: null,
      accuracy_ci95_low: null,
      accuracy_ci95_high: null,
    });
  });

  it('aggregate.csv: the header of the brief, empty cells for missing intervals, full precision', () => {
    const acc = 0.9123456789012345;
    const csv = aggregateCsv(aggregateCycles([{ seed: 1, rows: [row('eta', 1, acc)] }]));
    const [head, line] = csv.trim().split('\n');
    expect(head.split(',')).toEqual([...AGGREGATE_HEADER]);
    expect(line).toBe(`eta,1,1,${acc},,,,${1 - acc},12`);
  });
});

describe('summarizeCampaign', () => {
  const s = summarizeCampaign(RUNS, ['optimal', 'eta']);

  it('targets come from ACCURACY_TARGETS, keyed in order', () => {
    expect(s.targets).toEqual([...ACCURACY_TARGETS]);
    expect(Object.keys(s.per_scheme.optimal.cycles_to_target)).toEqual(ACCURACY_TARGETS.map(targetKey));
    expect(ACCURACY_TARGETS.map(targetColumn)).toEqual(['96_67', '97']);
  });

  it('per scheme: final accuracy and cycles-to-target distributions (never-reached seeds counted, not imputed)', () => {
    const opt = s.per_scheme.optimal;
    const h = handStats(ACC.optimal.map((a) => a[3]));
    expect(opt.cycles).toBe(4);
    expect(opt.final_accuracy.per_seed).toEqual([0.975, 0.972, 0.969]);
    expect(opt.final_accuracy.mean).toBeCloseTo(h.mean, 14);
    expect(opt.final_accuracy.ci95_low).toBeCloseTo(h.low, 12);
    expect(opt.tau.mean).toBe(5);
    const c96 = opt.cycles_to_target[targetKey(0.9667)];
    expect(c96.per_seed).toEqual([2, 3, 3]);
    const hc = handStats([2, 3, 3]);
    expect(c96).toMatchObject({ seeds: 3, reached: 3, never: 0 });
    expect(c96.mean).toBeCloseTo(hc.mean, 14);
    expect(c96.ci95_high).toBeCloseTo(hc.high, 12);
    const c97 = opt.cycles_to_target[targetKey(0.97)];
    expect(c97.per_seed).toEqual([3, 4, null]);
    expect(c97).toMatchObject({ reached: 2, never: 1, mean: 3.5 });
    expect(s.per_scheme.eta.cycles_to_target[targetKey(0.9667)]).toMatchObject({
      per_seed: [4, null, null],
      reached: 1,
      never: 2,
      mean: 4,
      ci95_low: null,
    });
  });

  it('paired adaptive − ETA: final accuracy difference with its CI and tests', () => {
    expect(s.paired).toHaveLength(1);
    const p = s.paired[0];
    expect(p).toMatchObject({ adaptive: 'optimal', baseline: 'eta', seeds: SEEDS });
    const d = [0.975 - 0.9667, 0.972 - 0.96, 0.969 - 0.962];
    expect(p.final_accuracy.per_seed_difference.map((x, i) => x - d[i]).every((e) => Math.abs(e) < 1e-15)).toBe(true);
    const h = handStats(d);
    expect(p.final_accuracy.difference.mean).toBeCloseTo(h.mean, 14);
    expect(p.final_accuracy.difference.ci95_low).toBeCloseTo(h.low, 12);
    expect(p.final_accuracy.t_test.t).toBeCloseTo(h.mean / (h.sd / Math.sqrt(3)), 10);
    expect(p.final_accuracy.t_test.df).toBe(2);
    expect(p.final_accuracy.sign_test).toMatchObject({ n_positive: 3, n_negative: 0, n_ties: 0 });
    expect(p.final_accuracy.sign_test.p_value).toBeCloseTo(0.25, 14); // 2·(½)³
  });

  it('paired cycles-to-target: a pair where only one scheme reached counts in the sign test, not in the t-test', () => {
    const c = s.paired[0].cycles_to_target[targetKey(0.9667)];
    // seed 3: 2 vs 4 (−2); seed 7: 3 vs never (sign −); seed 11: 3 vs never (sign −)
    expect(c.per_seed.map((p) => [p.difference, p.sign])).toEqual([
      [-2, -1],
      [null, -1],
      [null, -1],
    ]);
    expect(c.complete_pairs).toBe(1);
    expect(c.dropped_from_t_test).toBe(2);
    expect(c.difference).toMatchObject({ n: 1, mean: -2, ci95_low: null });
    expect(c.t_test.degenerate).toBe('too_few_pairs');
    expect(c.sign_test).toMatchObject({ n_positive: 0, n_negative: 3, n_ties: 0 });
    expect(c.sign_test.p_value).toBeCloseTo(0.25, 14);
    expect(c.sign_unknown).toBe(0);
    // 97 %: optimal 3, 4, never; ETA never ×3 → two known signs, one pair with no sign at all.
    const c97 = s.paired[0].cycles_to_target[targetKey(0.97)];
    expect(c97.sign_test).toMatchObject({ n_negative: 2, n_positive: 0 });
    expect(c97.sign_test.p_value).toBeCloseTo(0.5, 14);
    expect(c97.sign_unknown).toBe(1);
    expect(c97.dropped_from_t_test).toBe(3);
  });

  it('pairCyclesToTarget: complete pairs give the paired t-test of a hand computation', () => {
    const p = pairCyclesToTarget([1, 2, 3, 4, 5], [4, 5, 4, null, 6], [7, 7, 9, 8, null], 0.97);
    const d = [-3, -2, -5];
    const h = handStats(d);
    expect(p.complete_pairs).toBe(3);
    expect(p.t_test.t).toBeCloseTo(h.mean / (h.sd / Math.sqrt(3)), 12);
    expect(p.t_test.p_value).toBeGreaterThan(0);
    expect(p.difference.ci95_high).toBeCloseTo(h.high, 12);
    expect(p.sign_test).toMatchObject({ n_negative: 4, n_positive: 1, n_ties: 0 });
    expect(p.sign_test.p_value).toBeCloseTo((2 * (1 + 5)) / 32, 14); // 2·P[X ≤ 1], X ~ Bin(5, ½)
  });

  it('no ETA, no paired section; a seed missing a scheme is an error, not a silent gap', () => {
    expect(summarizeCampaign([{ seed: 1, rows: [row('optimal', 1, 0.9)] }]).paired).toEqual([]);
    expect(() => summarizeCampaign([RUNS[0], { seed: 9, rows: [row('eta', 1, 0.9)] }], ['optimal', 'eta'])).toThrow(
      /seed 9 has no cycles of scheme optimal/,
    );
  });

  it('serialises to JSON without NaN or Infinity', () => {
    expect(JSON.stringify(s)).not.toMatch(/NaN|Infinity/);
  });

  it("a user's scheme is paired with every other scheme of the run, each pair once", () => {
    const withUser = (name: string) =>
      RUNS.map((r) => ({
        ...r,
        rows: [
          ...r.rows,
          ...r.rows
            .filter((x) => x.scheme === 'optimal')
            .map((x) => ({ ...x, scheme: name, testAccuracy: x.testAccuracy - 0.01 })),
        ],
      }));
    const one = summarizeCampaign(withUser('mine'), ['optimal', 'eta', 'mine']);
    expect(one.paired.map((p) => `${p.adaptive}−${p.baseline}`)).toEqual(['optimal−eta', 'mine−optimal', 'mine−eta']);
    expect(one.paired[1].final_accuracy.per_seed_difference.map((x) => +x.toFixed(12))).toEqual([-0.01, -0.01, -0.01]);
    const two = withUser('mine').map((r) => ({
      ...r,
      rows: [...r.rows, ...r.rows.filter((x) => x.scheme === 'eta').map((x) => ({ ...x, scheme: 'theirs' }))],
    }));
    expect(summarizeCampaign(two, ['mine', 'theirs', 'eta']).paired.map((p) => `${p.adaptive}−${p.baseline}`)).toEqual([
      'mine−theirs',
      'mine−eta',
      'theirs−eta',
    ]);
    // Without a user's scheme nothing changes.
    expect(summarizeCampaign(RUNS, ['optimal', 'eta']).paired.map((p) => `${p.adaptive}−${p.baseline}`)).toEqual([
      'optimal−eta',
    ]);
  });
});
