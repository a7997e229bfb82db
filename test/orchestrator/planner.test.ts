/** What the orchestrator knows when it allocates (csi), who it allocates to (availability), and robust's planned miss rate. */
import { describe, expect, it } from 'vitest';
import { wireCoefficients } from '../../src/emulation/wire-coefficients.ts';
import { emulatedPhases } from '../../src/emulation/timing.ts';
import { generateFleet } from '../../src/model/devices.ts';
import type { LearnerRecord } from '../../src/orchestrator/cycle.ts';
import { Measurements, measureFromRow, measureFromTimeline, Planner } from '../../src/orchestrator/planner.ts';
import { createWorld, dynamicsSpecOf } from '../../src/orchestrator/world.ts';
import type { ExperimentConfig } from '../../src/orchestrator/config.ts';
import { smallConfig } from '../helpers/run-config.ts';

const dynamic = (over: Partial<ExperimentConfig> = {}) =>
  smallConfig({
    K: 6,
    train_samples: 2000,
    speed_jitter: 0.2,
    fading: 'rayleigh',
    shadowing_db: 3,
    csi: 'last',
    ...over,
  });

describe('the world', () => {
  it('depends on seed, cycle and learner only: two worlds of one config agree, another seed differs', () => {
    const c = dynamic({ availability: 0.8, mean_on_cycles: 4, speed_mps: 1.5 });
    const fleet = generateFleet(c.K, c.seed, c.params);
    const a = createWorld(c, fleet, c.params);
    const b = createWorld(c, fleet, c.params);
    const other = createWorld({ ...c, seed: c.seed + 1 }, fleet, c.params);
    // b is asked in another order (learners backwards, late cycles first): the same states.
    const cells = [...Array(10).keys()].flatMap((i) => [...Array(c.K).keys()].map((k) => [k, i + 1] as const));
    const fromB = new Map([...cells].reverse().map(([k, cy]) => [`${k}@${cy}`, b.truth(k, cy)]));
    for (const [k, cy] of cells) expect(a.truth(k, cy)).toEqual(fromB.get(`${k}@${cy}`));
    expect(cells.some(([k, cy]) => other.truth(k, cy).rate_bps !== a.truth(k, cy).rate_bps)).toBe(true);
  });

  it("without world flags is the profile (with --speed-jitter: today's jitter draws)", () => {
    const c = smallConfig();
    const fleet = generateFleet(c.K, c.seed, c.params);
    const w = createWorld(c, fleet, c.params);
    for (let k = 0; k < c.K; k++)
      expect(w.truth(k, 3)).toEqual({ available: true, f_hz: fleet[k].f_hz, rate_bps: fleet[k].rate_bps });
    expect(w.presenceVaries).toBe(false);
  });
});

describe('Planner', () => {
  it('allocates nothing to offline learners and all d to the ones on', async () => {
    const c = dynamic({ availability: 0.6, mean_on_cycles: 2 });
    const fleet = generateFleet(c.K, c.seed, c.params);
    const world = createWorld(c, fleet, c.params);
    const planner = new Planner(c, fleet, world);
    let sawOffline = false;
    for (const scheme of ['optimal', 'robust', 'eta'] as const)
      for (let cycle = 1; cycle <= 12; cycle++) {
        const plan = await planner.plan(scheme, cycle, new Measurements(c.K));
        const on = fleet.map((_, k) => world.truth(k, cycle).available);
        sawOffline ||= on.includes(false);
        on.forEach((isOn, k) => !isOn && expect(plan.batch[k]).toBe(0));
        if (plan.idleReason) expect(plan.tau).toBe(0);
        else expect(plan.batch.reduce((a, b) => a + b, 0)).toBe(c.train_samples);
      }
    expect(sawOffline).toBe(true);
  });

  it('async and energy per cycle: τ_k and energies in fleet order (0 for who is off), τ = min τ_k, budgets kept on what the scheme believes', async () => {
    const c = dynamic({
      availability: 0.6,
      mean_on_cycles: 2,
      max_staleness: 1,
      energy: { kappa_j_per_cycle_hz2: 1e-28, rx_power_w: 0, budget_j: 2 },
    });
    const fleet = generateFleet(c.K, c.seed, c.params);
    const world = createWorld(c, fleet, c.params);
    const planner = new Planner(c, fleet, world);
    let planned = 0;
    for (const scheme of ['async', 'energy'] as const)
      for (let cycle = 1; cycle <= 8; cycle++) {
        const plan = await planner.plan(scheme, cycle, new Measurements(c.K));
        expect(plan.tau_per_learner).toHaveLength(c.K);
        if (plan.idleReason) {
          expect(plan.tau_per_learner.every((t) => t === 0)).toBe(true);
          continue;
        }
        planned++;
        const on = fleet.map((_, k) => world.truth(k, cycle).available);
        plan.batch.forEach((b, k) => {
          if (!on[k]) expect(b).toBe(0);
          expect(plan.tau_per_learner[k] > 0).toBe(b > 0);
        });
        const taus = plan.tau_per_learner.filter((_, k) => plan.batch[k] > 0);
        expect(plan.tau).toBe(Math.min(...taus));
        expect(Math.max(...taus) - plan.tau).toBeLessThanOrEqual(1);
      }
    expect(planned).toBeGreaterThan(0);
    // energy's budget is on the solver's problem: its plan spends at most 2 J per learner (on the profile it believes).
    const a = await planner.initial('energy');
    if (!a.feasible) throw new Error(a.reason);
    expect(a.energy_j!.every((e) => e <= 2 * (1 + 1e-9))).toBe(true);
    expect(a.tau_per_learner).toHaveLength(c.K);
  });

  it('csi: profile before any measurement, then the last one (last); the truth (perfect); the profile (profile)', () => {
    const c = dynamic();
    const fleet = generateFleet(c.K, c.seed, c.params);
    const world = createWorld(c, fleet, c.params);
    const m = new Measurements(c.K);
    const last = new Planner(c, fleet, world);
    expect(last.estimate('optimal', 2, 5, m)).toEqual(fleet[2]);
    m.add(2, { f_hz: 1e9, rate_bps: 5e7 });
    m.add(2, { f_hz: 2e9, rate_bps: 6e7 });
    expect(last.estimate('optimal', 2, 5, m)).toEqual({ f_hz: 2e9, rate_bps: 6e7 });
    expect(new Planner({ ...c, csi: 'perfect' }, fleet, world).estimate('eta', 2, 5, m)).toEqual(world.truth(2, 5));
    expect(new Planner({ ...c, csi: 'profile' }, fleet, world).estimate('optimal', 2, 5, m)).toEqual(fleet[2]);
    expect(new Planner({ ...c, csi: 'profile' }, fleet, world).perCycle('optimal')).toBe(false);
    expect(last.perCycle('eta')).toBe(true);
  });

  it('measures a learner from its own timeline: the true speed and rate, to 9 digits, as learners.csv gives them back', () => {
    const c = dynamic();
    const truth = { f_hz: 1.234567891234e9, rate_bps: 1.87654321e8 };
    const phases = emulatedPhases({
      bytesSent: 3_000_000,
      bytesReturned: 1_100_000,
      tau: 3,
      samples: 500,
      flops_per_sample: c.params.flops_per_sample,
      ...truth,
    });
    const record: LearnerRecord = {
      learner: 0,
      ...truth,
      batch: 500,
      tau: 3,
      status: 'late',
      phases,
      bytes_returned: 1_100_000,
    };
    const m = measureFromTimeline(record, c.params.flops_per_sample)!;
    expect(m.f_hz / truth.f_hz).toBeCloseTo(1, 8);
    expect(m.rate_bps / truth.rate_bps).toBeCloseTo(1, 8);
    const row = {
      scheme: 'optimal',
      cycle: 1,
      learner: 0,
      fHz: truth.f_hz,
      rateBps: truth.rate_bps,
      batch: 500,
      tSendS: 1,
      tComputeS: phases.t_compute_s,
      tReturnS: 1,
      tTotalS: 3,
      status: 'late' as const,
      reason: null,
      tau: 3,
      energyJ: null,
      energyComputeJ: null,
      energyRadioJ: null,
    };
    expect(measureFromRow(row)).toEqual(m);
    expect(measureFromTimeline({ ...record, status: 'missing' }, c.params.flops_per_sample)).toBeUndefined();
    expect(measureFromTimeline({ ...record, status: 'idle', batch: 0 }, c.params.flops_per_sample)).toBeUndefined();
  });

  it.each([
    ['fading + shadowing + jitter', { speed_jitter: 0.2, fading: 'rayleigh', shadowing_db: 3 }],
    ['jitter alone', { speed_jitter: 0.3, fading: 'none', shadowing_db: 0 }],
    ['comm-heavy: fading + jitter at 150 kHz', { speed_jitter: 0.2, fading: 'rayleigh', shadowing_db: 0, T: 30 }],
  ] as const)(
    'robust plans every learner to miss T with probability ≤ ε on sampled worlds (%s)',
    async (name, over) => {
      const base = dynamic({ ...over, csi: 'profile', epsilon: 0.05 });
      const c = name.startsWith('comm') ? { ...base, params: { ...base.params, bandwidth_hz: 150_000 } } : base;
      const fleet = generateFleet(c.K, c.seed, c.params);
      const world = createWorld(c, fleet, c.params);
      const a = await new Planner(c, fleet, world).initial('robust');
      if (!a.feasible) throw new Error(a.reason);
      const optimal = await new Planner(c, fleet, world).initial('optimal');
      if (!optimal.feasible) throw new Error(optimal.reason);
      const draws = 4000;
      const missRate = (tau: number, batch: number[]) =>
        fleet.map((_, k) => {
          if (batch[k] === 0) return 0;
          let misses = 0;
          for (let cycle = 1; cycle <= draws; cycle++) {
            const t = world.truth(k, cycle);
            const co = wireCoefficients({ id: k, ...t }, c.params, c.scenario);
            if (co.c2_s_per_sample_iter * tau * batch[k] + co.c1_s_per_sample * batch[k] + co.c0_s > c.T) misses++;
          }
          return misses / draws;
        });
      // Sampling error of a 5 % rate over 4000 draws: sd 0.34 %; 4 sd of slack.
      for (const p of missRate(a.tau, a.batch))
        expect(p).toBeLessThanOrEqual(0.05 + 4 * Math.sqrt((0.05 * 0.95) / draws));
      // The profile's optimum fills each cycle: it misses far more often.
      expect(Math.max(...missRate(optimal.tau, optimal.batch))).toBeGreaterThan(0.2);
      expect(dynamicsSpecOf(c).speed_jitter).toBe(over.speed_jitter);
    },
  );
});
