import * as tf from '@tensorflow/tfjs';

/**
 * Rotary position tables for positions [start, start + T) of heads of width hd, in the
 * rotate-half convention of HF Llama and Gemma: dimension i pairs with i + hd/2 and both turn
 * by angle p·θ^(−2i/hd), so row p is [cos(p·f_0 … p·f_{hd/2−1}), the same again] (sin alike).
 * Returned as plain arrays [T·hd] so the ONNX graph can embed the same numbers.
 */
export function rotaryTables(
  start: number,
  T: number,
  hd: number,
  theta: number,
): { cos: Float32Array; sin: Float32Array } {
  const half = hd / 2;
  // inv_freq as HF computes it, in float32: 1 / θ^(2i/hd).
  const invFreq = Float32Array.from({ length: half }, (_, i) => 1 / Math.pow(theta, (2 * i) / hd));
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround((start + t) * invFreq[i]);
      cos[t * hd + i] = cos[t * hd + i + half] = Math.cos(angle);
      sin[t * hd + i] = sin[t * hd + i + half] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** rotate_half(x) = [−x₂, x₁] for x = [x₁, x₂] split at the middle of the last axis. */
function rotateHalf(x: tf.Tensor4D): tf.Tensor4D {
  const hd = x.shape[3];
  const [x1, x2] = tf.split(x, [hd / 2, hd / 2], 3);
  return tf.concat([x2.neg(), x1], 3) as tf.Tensor4D;
}

/**
 * Applies rotary positions to queries or keys x [B, heads, T, hd] at positions
 * [start, start + T): x·cos + rotate_half(x)·sin.
 */
export function applyRotary(x: tf.Tensor4D, start: number, theta: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, , T, hd] = x.shape;
    const { cos, sin } = rotaryTables(start, T, hd, theta);
    const c = tf.tensor2d(cos, [T, hd]); // broadcasts over [B, heads]
    const s = tf.tensor2d(sin, [T, hd]);
    return x.mul(c).add(rotateHalf(x).mul(s)) as tf.Tensor4D;
  });
}
