/**
 * The SGD steps of one local training, shared by every engine so the same seed gives the same
 * mini-batches whichever engine trains: rows order[starts[i] .. ends[i]) form step i.
 * 'epoch' mode: each local iteration is a fresh seeded shuffle cut into mini-batches (the last
 * one smaller); 'step' mode: each local iteration is one step over all rows in their order.
 */
import { createRng, deriveSeed } from '../util/rng.ts';

/** 'epoch': one local iteration = one shuffled pass of mini-batch SGD; 'step': one full-batch step. */
export type LocalIterationMode = 'epoch' | 'step';

export interface StepSchedule {
  /** row indices, step after step */
  order: Int32Array;
  starts: Int32Array;
  ends: Int32Array;
}

/**
 * The row order of successive epochs for a seed: each call reshuffles (and returns) the same
 * array.
 */
export function epochOrders(n: number, seed: number): () => Int32Array {
  const rng = createRng(deriveSeed(seed, 'trainLocal', 'minibatch-order'));
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return () => rng.shuffle(order);
}

export function stepSchedule(
  n: number,
  iterations: number,
  mode: LocalIterationMode,
  minibatch: number,
  seed: number,
): StepSchedule {
  if (mode === 'step') {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    return { order, starts: new Int32Array(iterations), ends: new Int32Array(iterations).fill(n) };
  }
  const perEpoch = Math.ceil(n / minibatch);
  const order = new Int32Array(n * iterations);
  const starts = new Int32Array(perEpoch * iterations);
  const ends = new Int32Array(perEpoch * iterations);
  const nextOrder = epochOrders(n, seed);
  for (let it = 0; it < iterations; it++) {
    order.set(nextOrder(), it * n);
    for (let j = 0; j < perEpoch; j++) {
      starts[it * perEpoch + j] = it * n + j * minibatch;
      ends[it * perEpoch + j] = it * n + Math.min((j + 1) * minibatch, n);
    }
  }
  return { order, starts, ends };
}
