/** Seeds parsing, --fixed-fleet configs, time estimates and the paper verdict rules — no runs. */
import { describe, expect, it } from 'vitest';
import { configDifference, seedConfig } from '../../src/campaign/campaign.ts';
import { summarizeCampaign, type SeedCycles } from '../../src/campaign/aggregate.ts';
import { PAPER_CLAIMS } from '../../src/campaign/paper-claims.ts';
import { formatDuration, WorkTracker } from '../../src/campaign/progress.ts';
import { parseSeeds } from '../../src/campaign/seeds.ts';
import { judgeClaims, judgeFewer, judgeReaches, judgeValue, type Fig1Evidence } from '../../src/campaign/verdict.ts';
import { InputError } from '../../src/errors.ts';
import { buildFleet } from '../../src/orchestrator/run-plan.ts';
import type { CycleRow } from '../../src/run-folder/schema.ts';
import { smallConfig } from '../helpers/run-config.ts';

describe('parseSeeds', () => {
  it('a count starts at the base seed; a list is taken as is', () => {
    expect(parseSeeds('5', 1)).toEqual([1, 2, 3, 4, 5]);
    expect(parseSeeds('3', 10)).toEqual([10, 11, 12]);
    expect(parseSeeds('1,4,9', 1)).toEqual([1, 4, 9]);
    expect(parseSeeds(' 0 , 2 ', 1)).toEqual([0, 2]);
  });

  it.each(['0', 'a,b', '', '2.5', '-1', '1,1', '1,,2', 'x'])('"%s" is an InputError', (raw) => {
    expect(() => parseSeeds(raw, 1)).toThrow(InputError);
  });
});

describe('--fixed-fleet', () => {
  it("every seed gets the first seed's fleet, but keeps its own seed for weights, data order and faults", () => {
    const base = smallConfig({ K: 6 });
    const fixed = seedConfig(base, 5, 1);
    expect(fixed).toMatchObject({ seed: 5, fleet_seed: 1 });
    expect(buildFleet(fixed)).toEqual(buildFleet({ ...base, seed: 1 }));
    expect(buildFleet(seedConfig(base, 5, null))).not.toEqual(buildFleet({ ...base, seed: 1 }));
    expect(seedConfig({ ...base, fleet_seed: 3 }, 5, null).fleet_seed).toBe(null); // every field is set: null = the run's own seed
  });

  it('configDifference: session keys are free, a longer run extends, anything else names the setting', () => {
    const a = smallConfig() as unknown as Record<string, unknown>;
    expect(configDifference(a, { ...a, port: 999, join_timeout_s: 5 })).toBeNull();
    expect(configDifference(a, { ...a, cycles: 5 })).toBeNull();
    expect(configDifference({ ...a, cycles: 5 }, a)).toMatch(/^cycles is 5 there, 2 here/);
    expect(configDifference(a, { ...a, T: 30 })).toMatch(/^T is 12 there, 30 here/);
    expect(configDifference(a, { ...a, fleet_seed: 1 })).toMatch(/fleet_seed/);
  });
});

describe('time estimates', () => {
  it('predictions are rescaled by measured ÷ predicted once a run finished start to end', () => {
    let now = 0;
    const t = new WorkTracker(() => now);
    t.plan('a', 10);
    t.plan('b', 10);
    t.plan('c', 20);
    expect(t.remainingS()).toBe(40);
    expect(t.status()).toMatch(/0\/3 runs done · ≈ 40 s left \(prior estimate\)/);
    t.finish('a', 0, false); // skipped: says nothing about speed
    expect(t.remainingS()).toBe(30);
    now = 25;
    t.finish('b', 25, true); // 2.5× slower than predicted
    expect(t.remainingS()).toBe(50);
    expect(t.status()).toBe('elapsed 25 s · 2/3 runs done · ≈ 50 s left (from the runs so far)');
  });

  it('formatDuration', () => {
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(125)).toBe('2 min 05 s');
    expect(formatDuration(3 * 3600 + 7 * 60)).toBe('3 h 07 min');
  });
});

describe('paper verdicts (mechanical)', () => {
  it('a number: yes inside the CI with every seed reached; partly when seeds never reached or one seed matched; no otherwise', () => {
    expect(judgeValue([4, 5, 4, 3, 4], 4, 'seeds', 10).verdict).toBe('yes');
    expect(judgeValue([4, 4, 4], 4, 'seeds', 10).verdict).toBe('yes'); // zero-width CI containing it
    expect(judgeValue([4, 5, null], 4, 'seeds', 10)).toMatchObject({
      verdict: 'partly',
      why: expect.stringMatching(/1 of 3 seeds never reached/),
    });
    expect(judgeValue([4, 6, 6, 6, 6], 4, 'seeds', 10)).toMatchObject({
      verdict: 'partly',
      why: expect.stringMatching(/1 of 5 seeds gave exactly 4/),
    });
    expect(judgeValue([6, 6, 7], 4, 'seeds', 10)).toMatchObject({
      verdict: 'no',
      why: expect.stringMatching(/excludes the paper's 4 \(ours is higher\)/),
    });
    expect(judgeValue([null, null], 7, 'seeds', 10)).toMatchObject({
      verdict: 'no',
      ours: 'never within 10 cycles (0/2 seeds)',
    });
    expect(judgeValue([13, 13, 14], 6, 'fleets').verdict).toBe('no');
    expect(judgeValue([5], 5, 'seeds', 10).verdict).toBe('yes');
  });

  it('reaches / never reaches: every seed yes, some partly, none no', () => {
    expect(judgeReaches([3, 4], true, 10).verdict).toBe('yes');
    expect(judgeReaches([3, null], true, 10).verdict).toBe('partly');
    expect(judgeReaches([null, null], true, 10).verdict).toBe('no');
    expect(judgeReaches([null, null], false, 10).verdict).toBe('yes');
    expect(judgeReaches([8, null], false, 10).verdict).toBe('partly');
    expect(judgeReaches([8, 9], false, 10).verdict).toBe('no');
  });

  const row = (scheme: string, cycle: number, acc: number): CycleRow => ({
    scheme,
    cycle,
    tau: 1,
    testAccuracy: acc,
    testLoss: 0.1,
    emulatedTimeS: cycle,
    maxLearnerTimeS: 1,
    lateLearners: 0,
    wallTimeS: 1,
  });
  const run = (seed: number, opt: number[], eta: number[]): SeedCycles => ({
    seed,
    rows: [...opt.map((a, i) => row('optimal', i + 1, a)), ...eta.map((a, i) => row('eta', i + 1, a))],
  });

  it('fewer cycles: yes when adaptive is ahead on every seed (including seeds where only adaptive reached)', () => {
    const s = summarizeCampaign(
      [run(1, [0.96, 0.97, 0.98], [0.95, 0.96, 0.97]), run(2, [0.97, 0.98, 0.98], [0.9, 0.9, 0.9])],
      ['optimal', 'eta'],
    );
    expect(judgeFewer(s, 'optimal', 0.97).verdict).toBe('yes');
    const tie = summarizeCampaign(
      [run(1, [0.96, 0.97, 0.98], [0.95, 0.97, 0.97]), run(2, [0.97, 0.98, 0.98], [0.9, 0.9, 0.9])],
      ['optimal', 'eta'],
    );
    expect(judgeFewer(tie, 'optimal', 0.97).verdict).toBe('partly');
    const none = summarizeCampaign([run(1, [0.9], [0.9])], ['optimal', 'eta']);
    expect(judgeFewer(none, 'optimal', 0.97).verdict).toBe('no');
  });

  it('judgeClaims covers every claim with a verdict and a reason; absent evidence is a no, never a yes', () => {
    const fig1: Fig1Evidence = {
      fleets: 2,
      vsK: [10, 20].flatMap((K) =>
        [30, 60].flatMap((T) =>
          ['eta', 'analytical', 'optimal'].map((scheme) => ({
            scheme,
            K,
            T,
            per_fleet: [
              scheme === 'eta' ? K / 10 + T / 60 : 2 * (K / 10) + T / 10,
              scheme === 'eta' ? K / 10 + T / 60 : 2 * (K / 10) + T / 10,
            ],
          })),
        ),
      ),
      vsT: [],
    };
    const judged = judgeClaims(PAPER_CLAIMS, { fig1, panels: {}, adaptive: 'optimal' });
    expect(judged).toHaveLength(PAPER_CLAIMS.length);
    for (const j of judged) {
      expect(['yes', 'partly', 'no']).toContain(j.verdict);
      expect(j.why.length).toBeGreaterThan(5);
      if (j.verdict !== 'yes') expect(j.context).toBeTruthy();
    }
    expect(judged.find((j) => j.id === 'fig1-analytical')!.verdict).toBe('yes');
    // K = 20, T = 30: optimal 4 + 3 = 7 ≠ 6; ETA 2 + 0.5 = 2.5 ≠ 1
    expect(judged.find((j) => j.id === 'fig1-K20-T30-opt')!.verdict).toBe('no');
    expect(
      judged.filter((j) => j.id.startsWith('fig2')).every((j) => j.verdict === 'no' && /not run/.test(j.why)),
    ).toBe(true);
  });
});
