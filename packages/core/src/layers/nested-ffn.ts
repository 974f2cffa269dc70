import * as tf from '@tensorflow/tfjs';
import { gelu } from './gelu';
import type { InferenceCache } from './inference-cache';
import { matMul, matMulT } from './matmul';

export interface FFNWeights {
  fc1: tf.Tensor2D; // [dFF, C]
  b1: tf.Tensor1D; // [dFF]
  fc2: tf.Tensor2D; // [dFF, C]
  b2: tf.Tensor1D; // [C]
}

/**
 * The nested FFN at width m: only the first m hidden neurons take part,
 * FFN_m(x) = gelu(x · fc1[:m]ᵀ + b1[:m]) · fc2[:m] + b2.
 * Slicing a prefix of the hidden dimension is all it takes: no per-width copy of the weights
 * is kept, and gradients reach only the neurons the width uses.
 */
export function nestedFFN(
  x: tf.Tensor2D,
  w: FFNWeights,
  m: number,
  /** Inference only: keeps the width-m views (see InferenceCache), keyed under `cacheKey`. */
  cache?: InferenceCache,
  cacheKey = 'ffn',
): tf.Tensor2D {
  if (cache) {
    const C = w.fc1.shape[1];
    const fc1T = cache.get(
      `${cacheKey}.fc1T.${m}`,
      w.fc1,
      () => w.fc1.slice([0, 0], [m, C]).transpose() as tf.Tensor2D,
    ); // [C, m]
    const b1 = cache.get(`${cacheKey}.b1.${m}`, w.b1, () => w.b1.slice(0, m)); // [m]
    const fc2 = cache.get(
      `${cacheKey}.fc2.${m}`,
      w.fc2,
      () => w.fc2.slice([0, 0], [m, C]) as tf.Tensor2D,
    ); // [m, C]
    return tf.tidy(() => tf.matMul(gelu(tf.matMul(x, fc1T).add(b1)) as tf.Tensor2D, fc2).add(w.b2)); // [N, C]
  }
  return tf.tidy(() => {
    const [dFF, C] = w.fc1.shape;
    const full = m === dFF;
    const fc1 = full ? w.fc1 : w.fc1.slice([0, 0], [m, C]); // [m, C]
    const b1 = full ? w.b1 : w.b1.slice(0, m); // [m]
    const fc2 = full ? w.fc2 : w.fc2.slice([0, 0], [m, C]); // [m, C]
    const h = gelu(matMulT(x, fc1).add(b1)) as tf.Tensor2D; // [N, m]
    return matMul(h, fc2).add(w.b2) as tf.Tensor2D; // [N, C]
  });
}
