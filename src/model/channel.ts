/**
 * Wireless link model: log-distance path loss and Shannon capacity (paper eq. 4).
 * Pure functions; powers in watts unless the name says dBm/dB.
 */
import type { SystemParams } from './params.ts';

/**
 * The log-distance model only holds beyond its reference distance; closer learners get the loss
 * at 1 m. This also keeps the rate finite for a learner placed exactly at the orchestrator.
 */
export const MIN_DISTANCE_M = 1;

export function dbmToWatts(dbm: number): number {
  return 10 ** ((dbm - 30) / 10);
}

export function dbToLinear(db: number): number {
  return 10 ** (db / 10);
}

/** Path loss in dB: a + b·log10(R), R in metres (Table I: 7 + 2.1·log10(R)). */
export function pathLossDb(distance_m: number, p: SystemParams): number {
  return p.pathloss_a_db + p.pathloss_b_db * Math.log10(Math.max(distance_m, MIN_DISTANCE_M));
}

/** Linear channel power gain h = 10^(−PL/10). */
export function channelGain(distance_m: number, p: SystemParams): number {
  return dbToLinear(-pathLossDb(distance_m, p));
}

/** r = W·log2(1 + P·h/(N0·W)) in bits/s. */
export function shannonRateBps(channelGain: number, p: SystemParams): number {
  const noise_w = dbmToWatts(p.noise_dbm_per_hz) * p.bandwidth_hz;
  const snr = (dbmToWatts(p.tx_power_dbm) * channelGain) / noise_w;
  return p.bandwidth_hz * Math.log2(1 + snr);
}
