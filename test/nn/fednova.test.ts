import { describe, it, expect } from 'vitest';
import { fedAvg, fedNova } from '../../src/nn/mlp.ts';

describe('fedNova', () => {
  it('by hand: updates divided by τ_k, averaged ∝ d_k, scaled by the d_k-weighted mean τ', () => {
    // w = 0; learner A: w_A = 4 after τ = 2, learner B: w_B = 1 after τ = 1, equal d_k.
    // Normalised updates 2 and 1, mean 1.5; τ_eff = 1.5; new w = 2.25 (FedAvg: 2.5).
    const global = Float32Array.from([0, 10]);
    const updates = [
      { weights: Float32Array.from([4, 14]), samples: 5, steps: 2 },
      { weights: Float32Array.from([1, 11]), samples: 5, steps: 1 },
    ];
    expect(Array.from(fedNova(global, updates))).toEqual([2.25, 12.25]);
    expect(Array.from(fedAvg(updates))).toEqual([2.5, 12.5]);
  });

  it('equal τ_k: FedAvg up to float32 rounding', () => {
    const global = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const updates = [3, 7, 11].map((n, j) => ({
      weights: Float32Array.from(global, (x, i) => x + 0.01 * (j + 1) * Math.cos(i)),
      samples: n,
      steps: 4,
    }));
    const a = fedNova(global, updates);
    const b = fedAvg(updates);
    a.forEach((x, i) => expect(Math.abs(x - b[i])).toBeLessThan(1e-6));
  });

  it('rejects empty input, mismatched lengths and bad step counts', () => {
    const g = Float32Array.from([0]);
    expect(() => fedNova(g, [])).toThrow(RangeError);
    expect(() => fedNova(g, [{ weights: Float32Array.from([0, 1]), samples: 1, steps: 1 }])).toThrow(RangeError);
    expect(() => fedNova(g, [{ weights: Float32Array.from([1]), samples: 1, steps: 0 }])).toThrow(RangeError);
  });
});
