/**
 * Aggregation of the learners' models, accumulated in float64:
 *  - FedAvg: Σ n_k·w_k / Σ n_k, element by element;
 *  - FedNova (Wang et al. 2020): each update w_k − w is divided by its local iterations τ_k, the
 *    normalised updates are averaged with weights ∝ n_k and scaled by τ_eff = Σ n_k·τ_k / Σ n_k, so
 *    a learner that ran more iterations does not pull the average further just for that.
 */

export interface WeightedUpdate {
  weights: Float32Array;
  /** number of samples the update was trained on (d_k); the update's weight */
  samples: number;
}

/** An update with the local iterations τ_k it took (FedNova normalises by them). */
export interface NormalisedUpdate extends WeightedUpdate {
  steps: number;
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

/** w + τ_eff · Σ p_k (w_k − w)/τ_k with p_k = n_k/Σn; equal τ_k give FedAvg (up to rounding). */
export function fedNova(global: Float32Array, updates: NormalisedUpdate[]): Float32Array {
  if (updates.length === 0) throw new RangeError('fedNova: no updates to average');
  let total = 0;
  updates.forEach((u, k) => {
    if (u.weights.length !== global.length) throw new RangeError(`fedNova: update ${k} has ${u.weights.length} weights, the global model ${global.length}`);
    if (!(u.samples >= 0) || !Number.isFinite(u.samples)) throw new RangeError(`fedNova: update ${k} has invalid sample count ${u.samples}`);
    if (u.samples > 0 && !(u.steps > 0 && Number.isFinite(u.steps))) throw new RangeError(`fedNova: update ${k} has invalid local iterations ${u.steps}`);
    total += u.samples;
  });
  if (total === 0) throw new RangeError('fedNova: total sample count is 0; nothing to weight by');
  let tauEff = 0;
  for (const u of updates) tauEff += (u.samples / total) * u.steps;
  const length = global.length;
  const acc = new Float64Array(length);
  for (const u of updates) {
    if (u.samples === 0) continue;
    const c = u.samples / total / u.steps;
    const w = u.weights;
    for (let i = 0; i < length; i++) acc[i] += c * (w[i] - global[i]);
  }
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = global[i] + tauEff * acc[i];
  return out;
}
