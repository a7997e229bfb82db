import { describe, it, expect } from 'vitest';
import {
  channelGain,
  dbmToWatts,
  dbToLinear,
  pathLossDb,
  shannonRateBps,
  MIN_DISTANCE_M,
} from '../../src/model/channel.ts';
import { PAPER_PRESET } from '../../src/model/params.ts';

describe('channel model', () => {
  it('converts dBm and dB', () => {
    expect(dbmToWatts(30)).toBeCloseTo(1, 15);
    expect(dbmToWatts(0)).toBeCloseTo(1e-3, 18);
    expect(dbmToWatts(23)).toBeCloseTo(0.19952623149688797, 15);
    expect(dbToLinear(10)).toBeCloseTo(10, 12);
    expect(dbToLinear(-3)).toBeCloseTo(0.501187233627272, 14);
  });

  it('uses the Table I path loss 7 + 2.1·log10(R)', () => {
    expect(pathLossDb(10, PAPER_PRESET)).toBeCloseTo(9.1, 12);
    expect(pathLossDb(50, PAPER_PRESET)).toBeCloseTo(7 + 2.1 * Math.log10(50), 12);
    // Below the 1 m reference distance the loss stays at a (finite rate at 0 m).
    expect(MIN_DISTANCE_M).toBe(1);
    expect(pathLossDb(0, PAPER_PRESET)).toBe(7);
    expect(channelGain(10, PAPER_PRESET)).toBeCloseTo(10 ** -0.91, 14);
  });

  it('gives the hand-computed Shannon rate at 10 m', () => {
    // SNR(dB) = P − PL − (N0 + 10·log10 W) = 23 − 9.1 − (−174 + 66.98970004) = 120.91029996 dB
    // SNR = 10^12.091029996 = 1.233190003723e12; r = 5e6·log2(1 + SNR) = 200 827 661.19 bit/s
    const r = shannonRateBps(channelGain(10, PAPER_PRESET), PAPER_PRESET);
    expect(r).toBeCloseTo(200_827_661.19361585, 3);
  });

  it('counts the parameters of the [784,300,124,60,10] MLP with biases', () => {
    const layers = [784, 300, 124, 60, 10];
    let n = 0;
    for (let i = 1; i < layers.length; i++) n += layers[i - 1] * layers[i] + layers[i];
    expect(n).toBe(280_934); // 784·300+300 + 300·124+124 + 124·60+60 + 60·10+10
    expect(PAPER_PRESET.model_params).toBe(280934);
  });
});
