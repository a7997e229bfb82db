/**
 * Model sharing: under the virtual clock a task to a learner that shares its process (a learner host)
 * with others names the global model instead of carrying it, and the process fetches each model once
 * (`model_request` / `model`). Nothing waits for bytes in that mode, so only their count matters, and
 * it is the full frame's. Under the real clock every task carries its model: the bytes are the link's load.
 */
import { randomBytes } from 'node:crypto';
import type { ClockMode } from '../../emulation/clock.ts';

/** Models a learner may still ask for: a cycle names one per scheme, and schemes run one after another. */
const MODELS_KEPT = 8;

export class ModelSharing {
  /** connected learners per process (the transport's host key) */
  private readonly sessionsPerHost = new Map<string, number>();
  /** the global models tasks named, newest last; refs are unique to this hub (a rejoining host never mixes runs) */
  private readonly models = new Map<string, Float32Array>();
  private readonly refs = new WeakMap<Float32Array, string>();
  private readonly refPrefix = randomBytes(4).toString('hex');
  private modelCount = 0;

  constructor(private readonly clockMode: ClockMode) {}

  joined(host: string): void {
    this.sessionsPerHost.set(host, (this.sessionsPerHost.get(host) ?? 0) + 1);
  }

  left(host: string): void {
    const left = (this.sessionsPerHost.get(host) ?? 1) - 1;
    if (left > 0) this.sessionsPerHost.set(host, left);
    else this.sessionsPerHost.delete(host);
  }

  /** A learner shares its process with others and nothing waits for bytes: its tasks may name their model. */
  sharesWith(host: string): boolean {
    return this.clockMode === 'virtual' && (this.sessionsPerHost.get(host) ?? 0) > 1;
  }

  /**
   * The ref of a global model (the same array, the same ref), kept for the learners that will ask for
   * it. A model may be named again much later (every scheme starts from the same initial weights).
   */
  refOf(weights: Float32Array): string {
    let ref = this.refs.get(weights);
    if (ref === undefined) {
      ref = `${this.refPrefix}-${++this.modelCount}`;
      this.refs.set(weights, ref);
    }
    // Newest last: the least recently named model goes first.
    this.models.delete(ref);
    this.models.set(ref, weights);
    for (const old of this.models.keys()) if (this.models.size > MODELS_KEPT) this.models.delete(old);
    return ref;
  }

  /** The weights behind a ref, while they are kept. */
  model(ref: string): Float32Array | undefined {
    return this.models.get(ref);
  }
}
