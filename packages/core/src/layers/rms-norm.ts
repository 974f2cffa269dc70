import * as tf from '@tensorflow/tfjs';

/**
 * RMSNorm over the last axis: x · rsqrt(mean(x²) + eps) · scale, where scale is the stored
 * weight (Llama) or 1 + weight (Gemma, `offset`: the stored weight is the scale's offset from 1).
 */
export function rmsNorm(
  x: tf.Tensor,
  weight: tf.Tensor1D,
  eps: number,
  offset: boolean,
): tf.Tensor {
  return tf.tidy(() => {
    const ms = x.square().mean(-1, true); // [..., 1]
    const scale = offset ? weight.add(1) : weight; // [C]
    return x.mul(tf.rsqrt(ms.add(eps))).mul(scale);
  });
}
