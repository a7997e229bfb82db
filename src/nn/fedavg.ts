/** Federated averaging: Σ n_k·w_k / Σ n_k, element by element, accumulated in float64. */

export interface WeightedUpdate {
  weights: Float32Array;
  /** number of samples the update was trained on (d_k); the update's weight */
  samples: number;
}

/**
 * FedAvg folded one update at a time, so an update can be dropped as soon as it is added: K
 * models never need to be held at once. Adding the same updates in the same order gives the same
 * bits as fedAvg (float64 sums depend on their order, so the caller fixes one).
 */
export class FedAvgAccumulator {
  private readonly acc: Float64Array;
  private total = 0;
  private count = 0;

  constructor(readonly length: number) {
    this.acc = new Float64Array(length);
  }

  /** updates added so far */
  get added(): number {
    return this.count;
  }

  add(u: WeightedUpdate): void {
    if (u.weights.length !== this.length) throw new RangeError(`fedAvg: update ${this.count} has ${u.weights.length} weights, update 0 has ${this.length}`);
    if (!(u.samples >= 0) || !Number.isFinite(u.samples)) throw new RangeError(`fedAvg: update ${this.count} has invalid sample count ${u.samples}`);
    this.count++;
    this.total += u.samples;
    if (u.samples === 0) return;
    const { acc } = this;
    const w = u.weights;
    const n = u.samples;
    for (let i = 0; i < acc.length; i++) acc[i] += n * w[i];
  }

  /** Σ n_k·w_k / Σ n_k over the updates added. */
  average(): Float32Array {
    if (this.count === 0) throw new RangeError('fedAvg: no updates to average');
    if (this.total === 0) throw new RangeError('fedAvg: total sample count is 0; nothing to weight by');
    const out = new Float32Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.acc[i] / this.total;
    return out;
  }
}

export function fedAvg(updates: WeightedUpdate[]): Float32Array {
  if (updates.length === 0) throw new RangeError('fedAvg: no updates to average');
  const acc = new FedAvgAccumulator(updates[0].weights.length);
  for (const u of updates) acc.add(u);
  return acc.average();
}
