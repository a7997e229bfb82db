/** Federated averaging: Σ n_k·w_k / Σ n_k, element by element, accumulated in float64. */

export interface WeightedUpdate {
  weights: Float32Array;
  /** number of samples the update was trained on (d_k); the update's weight */
  samples: number;
}

export function fedAvg(updates: WeightedUpdate[]): Float32Array {
  if (updates.length === 0) throw new RangeError('fedAvg: no updates to average');
  const length = updates[0].weights.length;
  let total = 0;
  updates.forEach((u, k) => {
    if (u.weights.length !== length)
      throw new RangeError(`fedAvg: update ${k} has ${u.weights.length} weights, update 0 has ${length}`);
    if (!(u.samples >= 0) || !Number.isFinite(u.samples))
      throw new RangeError(`fedAvg: update ${k} has invalid sample count ${u.samples}`);
    total += u.samples;
  });
  if (total === 0) throw new RangeError('fedAvg: total sample count is 0; nothing to weight by');
  const acc = new Float64Array(length);
  for (const u of updates) {
    if (u.samples === 0) continue;
    const w = u.weights;
    const n = u.samples;
    for (let i = 0; i < length; i++) acc[i] += n * w[i];
  }
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = acc[i] / total;
  return out;
}
