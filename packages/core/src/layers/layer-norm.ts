import * as tf from '@tensorflow/tfjs';

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * weight + bias. */
export function layerNorm(
  x: tf.Tensor,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true); // [..., 1]
    return x
      .sub(mean)
      .mul(tf.rsqrt(variance.add(eps)))
      .mul(weight)
      .add(bias);
  });
}
