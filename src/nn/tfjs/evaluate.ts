/** Test-set accuracy and mean cross-entropy, in fixed-size chunks to bound memory. */
import * as tf from '@tensorflow/tfjs-core';
import type { ImageSet } from '../../data/mnist.ts';
import { checkImageSet, type Evaluation } from '../engine.ts';
import { ensureBackend } from './backend.ts';
import { crossEntropySumT } from './backprop.ts';
import { assertWeightLength, DEFAULT_LAYOUT } from '../layout.ts';
import { HostBatch } from './minibatch.ts';
import { tfjsNetwork, type TfjsNetwork } from './network.ts';
import { disposeAll } from './params.ts';

const EVAL_CHUNK_ROWS = 2000;

const DEFAULT_NETWORK = tfjsNetwork(DEFAULT_LAYOUT);

export async function evaluate(
  weights: Float32Array,
  set: ImageSet,
  net: TfjsNetwork = DEFAULT_NETWORK,
): Promise<Evaluation> {
  assertWeightLength(weights, 'weights', net.layout);
  checkImageSet(set, 'set', net.layout.model);
  if (set.count === 0) return { accuracy: NaN, loss: NaN };
  await ensureBackend();
  const host = new HostBatch(set, net.layout.model);
  const params = net.fromFlat(weights);
  let correct = 0;
  let lossSum = 0;
  try {
    for (let start = 0; start < set.count; start += EVAL_CHUNK_ROWS) {
      const rows = Math.min(EVAL_CHUNK_ROWS, set.count - start);
      const [predicted, chunkLoss] = tf.tidy(() => {
        const { x, yT } = host.uploadRange(start, rows);
        const logitsT = net.logitsT(params, x);
        return [tf.argMax(logitsT, 0), crossEntropySumT(logitsT, yT)];
      });
      const classes = predicted.dataSync();
      for (let i = 0; i < rows; i++) if (classes[i] === set.labels[start + i]) correct++;
      lossSum += chunkLoss.dataSync()[0];
      predicted.dispose();
      chunkLoss.dispose();
    }
  } finally {
    disposeAll(params);
  }
  return { accuracy: correct / set.count, loss: lossSum / set.count };
}
