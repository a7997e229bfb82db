/** Real-clock honesty on its own: compute padding from the task's arrival, and phases judged against the schedule. */
import { describe, expect, it } from 'vitest';
import { createClock } from '../../src/emulation/clock.ts';
import { padCompute } from '../../src/emulation/compute.ts';
import { phaseLagS, PHASE_TOLERANCE } from '../../src/emulation/faithfulness.ts';

const phases = { t_send_s: 1, t_compute_s: 10, t_return_s: 0.5, t_total_s: 11.5 };

describe('padCompute', () => {
  it('waiting for a compute slot counts: 0.3 s of waiting + 0.3 s of training against a 0.5 s budget is a 0.1 s overrun', async () => {
    const r = await padCompute(0.6, 5, createClock('real', 0.1));
    expect(r.overrun_s).toBeCloseTo(0.1, 10);
    expect(r.compute_wall_s).toBe(0.6);
  });

  it('within budget it pads to the budget exactly; the virtual clock never pads', async () => {
    const t0 = performance.now();
    expect(await padCompute(0.01, 0.5, createClock('real', 0.1))).toEqual({ compute_wall_s: 0.05, overrun_s: 0 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
    expect(await padCompute(3, 0.5, createClock('virtual', 1))).toEqual({ compute_wall_s: 3, overrun_s: 0 });
  });
});

describe('phaseLagS', () => {
  it('is 0 while every phase is within tolerance of emulated × time scale', () => {
    expect(phaseLagS(phases, { send_s: 0.5, compute_s: 5, return_s: 0.25 }, 0.5)).toBe(0);
    const edge = 5 * (1 + PHASE_TOLERANCE.relative) + PHASE_TOLERANCE.absolute_s;
    expect(phaseLagS(phases, { send_s: 0.5, compute_s: edge, return_s: 0.25 }, 0.5)).toBe(0);
  });

  it('names the worst lag beyond tolerance of any phase', () => {
    // compute: expected 5 s, tolerated 5.55 s, took 7 s → 1.45 s late; send: expected 0.5, took 0.7 → 0.1 s late.
    expect(phaseLagS(phases, { send_s: 0.7, compute_s: 7, return_s: 0.25 }, 0.5)).toBeCloseTo(1.45, 10);
    expect(phaseLagS(phases, { send_s: 0.7, compute_s: 5, return_s: 0.25 }, 0.5)).toBeCloseTo(0.1, 10);
  });
});
