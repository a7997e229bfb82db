/**
 * tfjs local training: τ local iterations of plain SGD on one learner's batch.
 * The batch is scaled once per call, weights stay on the device for the whole call, every
 * step runs inside tf.tidy, and the loop yields to the event loop regularly so a learner
 * process keeps serving its WebSocket while it trains.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ImageSet } from '../../data/mnist.ts';
import { checkImageSet, checkTrainOptions, type TrainOptions, type TrainResult } from '../engine.ts';
import { epochOrders } from '../schedule.ts';
import { ensureBackend } from './backend.ts';
import { applyUpdate } from './backprop.ts';
import { assertWeightLength, DEFAULT_LAYOUT } from '../layout.ts';
import { HostBatch } from './minibatch.ts';
import { tfjsNetwork, type TfjsNetwork } from './network.ts';
import { disposeAll, type DeviceParams } from './params.ts';

/** Yield every this many steps: ~50–100 ms of work at minibatch 64 on wasm. */
const YIELD_EVERY_STEPS = 20;
/**
 * Full-batch ('step' mode) gradients are summed over chunks of this many rows: bounds the
 * activation memory and lets the loop yield between chunks (~16 minibatch steps of work).
 */
const FULL_BATCH_CHUNK_ROWS = 1024;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const DEFAULT_NETWORK = tfjsNetwork(DEFAULT_LAYOUT);

export async function trainLocal(
  weights: Float32Array,
  batch: ImageSet,
  opts: TrainOptions,
  net: TfjsNetwork = DEFAULT_NETWORK,
): Promise<TrainResult> {
  assertWeightLength(weights, 'weights', net.layout);
  checkImageSet(batch, 'batch', net.layout.model);
  checkTrainOptions(opts);
  if (batch.count === 0 || opts.iterations === 0) return { weights: weights.slice(), loss: NaN, steps: 0 };
  await ensureBackend();

  const host = new HostBatch(batch, net.layout.model);
  const state: TrainState = { net, params: net.fromFlat(weights), lossSum: tf.scalar(0), steps: 0 };
  try {
    if (opts.mode === 'epoch') await runEpochs(state, host, opts);
    else await runFullBatchSteps(state, host, opts);
    const loss = (await state.lossSum.data())[0] / state.steps;
    return { weights: net.toFlat(state.params), loss, steps: state.steps };
  } finally {
    disposeAll(state.params);
    state.lossSum.dispose();
  }
}

interface TrainState {
  net: TfjsNetwork;
  params: DeviceParams;
  /** Σ over steps of the step's mean loss, kept on the device (no sync per step) */
  lossSum: tf.Scalar;
  steps: number;
}

/** Replace params and loss accumulator with a step's outputs, freeing the old ones. */
function commit(state: TrainState, next: { params: DeviceParams; lossSum: tf.Scalar }): void {
  disposeAll(state.params);
  state.lossSum.dispose();
  state.params = next.params;
  state.lossSum = next.lossSum;
  state.steps++;
}

async function runEpochs(state: TrainState, host: HostBatch, opts: TrainOptions): Promise<void> {
  const n = host.count;
  const nextOrder = epochOrders(n, opts.seed);
  for (let it = 0; it < opts.iterations; it++) {
    const order = nextOrder();
    for (let start = 0; start < n; start += opts.minibatch) {
      const rows = order.subarray(start, Math.min(start + opts.minibatch, n));
      const next = tf.tidy(() => {
        const { x, yT } = host.upload(rows);
        const { lossSum, grads } = state.net.lossAndGradients(state.params, x, yT, opts.lr / rows.length);
        return {
          params: applyUpdate(state.params, grads),
          lossSum: tf.add(state.lossSum, tf.div(lossSum, rows.length)) as tf.Scalar,
        };
      });
      commit(state, next);
      if (state.steps % YIELD_EVERY_STEPS === 0) await yieldToEventLoop();
    }
  }
}

async function runFullBatchSteps(state: TrainState, host: HostBatch, opts: TrainOptions): Promise<void> {
  const n = host.count;
  for (let it = 0; it < opts.iterations; it++) {
    // Gradient of the mean loss over all n rows = Σ over chunks of chunk gradients scaled by
    // lr/n. One tidy per chunk, so only one chunk's activations are alive at a time.
    let gradSum: tf.Tensor[] = [];
    let loss: tf.Scalar = tf.scalar(0);
    for (let start = 0; start < n; start += FULL_BATCH_CHUNK_ROWS) {
      const rows = Math.min(FULL_BATCH_CHUNK_ROWS, n - start);
      const acc = tf.tidy(() => {
        const { x, yT } = host.uploadRange(start, rows);
        const { lossSum, grads } = state.net.lossAndGradients(state.params, x, yT, opts.lr / n);
        return {
          grads: gradSum.length === 0 ? grads : gradSum.map((g, i) => tf.add(g, grads[i])),
          loss: tf.add(loss, lossSum) as tf.Scalar,
        };
      });
      disposeAll(gradSum);
      loss.dispose();
      gradSum = acc.grads;
      loss = acc.loss;
      await yieldToEventLoop();
    }
    const next = tf.tidy(() => ({
      params: applyUpdate(state.params, gradSum),
      lossSum: tf.add(state.lossSum, tf.div(loss, n)) as tf.Scalar,
    }));
    disposeAll(gradSum);
    loss.dispose();
    commit(state, next);
  }
}
