/** Test-set accuracy and mean cross-entropy, in fixed-size chunks to bound memory. */
import * as tf from '@tensorflow/tfjs-core';
import type { ImageSet } from '../../data/mnist.ts';
import { checkImageSet, type Evaluation } from '../engine.ts';
import { ensureBackend } from './backend.ts';
import { crossEntropySumT, forwardLogitsT } from './backprop.ts';
import { assertWeightLength } from '../layout.ts';
import { HostBatch } from './minibatch.ts';
import { disposeAll, paramsFromFlat } from './params.ts';

const EVAL_CHUNK_ROWS = 2000;

export async function evaluate(weights: Float32Array, set: ImageSet): Promise<Evaluation> {
  assertWeightLength(weights);
  checkImageSet(set, 'set');
  if (set.count === 0) return { accuracy: NaN, loss: NaN };
  await ensureBackend();
  const host = new HostBatch(set);
  const params = paramsFromFlat(weights);
  let correct = 0;
  let lossSum = 0;
  try {
    for (let start = 0; start < set.count; start += EVAL_CHUNK_ROWS) {
      const rows = Math.min(EVAL_CHUNK_ROWS, set.count - start);
      const [predicted, chunkLoss] = tf.tidy(() => {
        const { x, yT } = host.uploadRange(start, rows);
        const logitsT = forwardLogitsT(params, x);
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
