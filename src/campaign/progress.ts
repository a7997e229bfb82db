/**
 * Time estimates and progress for campaigns, sweeps and `npm run paper`: every run is planned with
 * a predicted wall time (from its allocation: τ·d sample-iterations per cycle at a prior training
 * rate), and once runs finish the predictions are rescaled by measured ÷ predicted, so the estimate
 * of what is left improves as the campaign goes.
 */
import { monotonicSeconds } from '../emulation/clock.ts';
import type { ExperimentConfig } from '../orchestrator/config.ts';
import { isBuiltinScheme } from '../allocation/index.ts';
import { allocateAll, buildFleet } from '../orchestrator/run-plan.ts';

/**
 * Samples × local iterations per second one compute slot trains before anything is measured. Deliberately
 * modest (a busy machine trains several times slower than an idle one); replaced by measurement after
 * the first run.
 */
export const PRIOR_SAMPLE_ITERATIONS_PER_S = 20_000;

/**
 * Predicted wall seconds of one run of `config` (every scheme, every cycle), before any measurement.
 * A user's scheme is not started for a guess: it counts like optimal (the most work a cycle holds).
 */
export async function predictRunSeconds(config: ExperimentConfig): Promise<number> {
  const schemes = config.schemes.map((s) => (isBuiltinScheme(s) ? s : 'optimal'));
  const byScheme = await allocateAll(
    { ...config, schemes: [...new Set(schemes)], user_schemes: [] },
    buildFleet(config),
  );
  let seconds = 3 + 0.15 * config.K; // start the learner processes, load data
  for (const a of schemes.map((s) => byScheme.get(s)!)) {
    const slots = Math.max(1, Math.min(config.compute_slots, a.batch.filter((b) => b > 0).length));
    const train = (a.tau * config.train_samples) / (PRIOR_SAMPLE_ITERATIONS_PER_S * slots);
    const paced = config.clock === 'real' ? Math.max(train, config.T * config.time_scale) : train;
    const evaluate = config.test_samples / 100_000;
    seconds += config.cycles * (paced + evaluate + 0.2); // + shipping, averaging, writing
  }
  return seconds;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

interface Planned {
  predicted: number;
  /** wall seconds it took; null = not run yet */
  measured: number | null;
  /** finished without running (already complete) or resumed: says nothing about the speed */
  uncalibrated: boolean;
}

/** The runs of a campaign/sweep/paper and how far they are. */
export class WorkTracker {
  private readonly runs = new Map<string, Planned>();
  private readonly start: number;

  constructor(private readonly now: () => number = monotonicSeconds) {
    this.start = now();
  }

  plan(key: string, predictedS: number): void {
    if (!this.runs.has(key)) this.runs.set(key, { predicted: predictedS, measured: null, uncalibrated: false });
  }

  /** A run ended: `measuredS` its wall time; `calibrates` false for skipped or resumed runs. */
  finish(key: string, measuredS: number, calibrates: boolean): void {
    const run = this.runs.get(key);
    if (!run) throw new Error(`run ${key} was not planned`);
    run.measured = measuredS;
    run.uncalibrated = !calibrates;
  }

  elapsedS(): number {
    return this.now() - this.start;
  }

  /** measured ÷ predicted over the runs that were run start to end (1 before any). */
  private factor(): number {
    let measured = 0;
    let predicted = 0;
    for (const r of this.runs.values())
      if (r.measured !== null && !r.uncalibrated) {
        measured += r.measured;
        predicted += r.predicted;
      }
    return predicted > 0 && measured > 0 ? measured / predicted : 1;
  }

  calibrated(): boolean {
    return [...this.runs.values()].some((r) => r.measured !== null && !r.uncalibrated);
  }

  remainingS(): number {
    let left = 0;
    for (const r of this.runs.values()) if (r.measured === null) left += r.predicted;
    return left * this.factor();
  }

  done(): number {
    return [...this.runs.values()].filter((r) => r.measured !== null).length;
  }

  total(): number {
    return this.runs.size;
  }

  /** "elapsed 3 min 12 s · 4/10 runs done · ≈ 6 min 40 s left (measured)" */
  status(): string {
    const basis = this.calibrated() ? 'from the runs so far' : 'prior estimate';
    return `elapsed ${formatDuration(this.elapsedS())} · ${this.done()}/${this.total()} runs done · ≈ ${formatDuration(this.remainingS())} left (${basis})`;
  }
}
