import * as tf from '@tensorflow/tfjs';

/**
 * a [M, K] · b [K, N] → [M, N], forward and backward computed with plain (untransposed)
 * matmuls only. tfjs-wasm's transposed matmul kernels run 10–40× slower than its plain one
 * (0.5–1.8 vs ~20 GFLOP/s measured), and tf.matMul's own gradient uses them; an explicit
 * transpose costs O(MK) and keeps every multiply on the fast kernel.
 */
export const matMul = tf.customGrad((a, b, save) => {
  const [x, y] = [a as tf.Tensor2D, b as tf.Tensor2D];
  (save as tf.GradSaveFunc)([x, y]);
  return {
    value: tf.matMul(x, y),
    gradFunc: (dy, saved) => {
      const [sx, sy] = saved as tf.Tensor2D[];
      return [
        tf.matMul(dy as tf.Tensor2D, sy.transpose()),
        tf.matMul(sx.transpose(), dy as tf.Tensor2D),
      ];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** x [M, K] · wᵀ for w stored [N, K]: transposes w (cheap) so the multiply stays plain. */
export function matMulT(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => matMul(x, w.transpose()));
}
