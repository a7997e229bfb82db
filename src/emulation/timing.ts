/**
 * The emulated timeline of one learner in one cycle, from the bytes that really crossed the
 * wire and the compute the model charges. Both clocks use exactly these numbers.
 */
import type { PhaseTimes } from '../model/coefficients.ts';

export function transferSeconds(bytes: number, rate_bps: number): number {
  return (8 * bytes) / rate_bps;
}

/** τ iterations over d_k samples at C_m FLOPs per sample per iteration on an f_hz processor. */
export function computeSeconds(tau: number, samples: number, flops_per_sample: number, f_hz: number): number {
  return (tau * samples * flops_per_sample) / f_hz;
}

export function emulatedPhases(args: {
  bytesSent: number;
  bytesReturned: number;
  tau: number;
  samples: number;
  flops_per_sample: number;
  f_hz: number;
  rate_bps: number;
}): PhaseTimes {
  const t_send_s = transferSeconds(args.bytesSent, args.rate_bps);
  const t_compute_s = computeSeconds(args.tau, args.samples, args.flops_per_sample, args.f_hz);
  const t_return_s = transferSeconds(args.bytesReturned, args.rate_bps);
  return { t_send_s, t_compute_s, t_return_s, t_total_s: t_send_s + t_compute_s + t_return_s };
}
