import * as tf from '@tensorflow/tfjs';
import { matMul } from './matmul';

export interface AttentionWeights {
  qkv: tf.Tensor2D; // [C, 3C]
  qkvBias: tf.Tensor1D; // [3C]
  out: tf.Tensor2D; // [C, C]
  outBias: tf.Tensor1D; // [C]
}

/** One layer's keys and values for the positions seen so far. */
export type LayerKV = {
  k: tf.Tensor4D; // [B, H, Tpast, hd]
  v: tf.Tensor4D; // [B, H, Tpast, hd]
};

/** Additive causal mask for T new queries after `past` cached positions: [T, past + T]. */
export function causalMask(T: number, past: number): tf.Tensor2D {
  const S = past + T;
  const mask = new Float32Array(T * S);
  for (let i = 0; i < T; i++) for (let j = past + i + 1; j < S; j++) mask[i * S + j] = -1e9;
  return tf.tensor2d(mask, [T, S]);
}

/**
 * Multi-head self-attention. With `past`, the new tokens attend to the cached keys/values too
 * (incremental decoding); the returned `kv` holds past + new positions.
 */
export function multiHeadAttention(
  x: tf.Tensor3D, // [B, T, C]
  w: AttentionWeights,
  nHeads: number,
  causal: boolean,
  past?: LayerKV,
): { y: tf.Tensor3D; kv: LayerKV } {
  return tf.tidy(() => {
    const [B, T, C] = x.shape;
    const hd = C / nHeads;
    const qkv = matMul(x.reshape([B * T, C]), w.qkv).add(w.qkvBias); // [B*T, 3C]
    const heads = (i: number) =>
      qkv
        .slice([0, i * C], [B * T, C])
        .reshape([B, T, nHeads, hd])
        .transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, H, T, hd]
    let k = heads(1);
    let v = heads(2);
    if (past) {
      k = tf.concat([past.k, k], 2); // [B, H, Tpast+T, hd]
      v = tf.concat([past.v, v], 2);
    }
    const pastLen = past ? past.k.shape[2] : 0;
    let scores = tf.matMul(heads(0), k, false, true).mul(1 / Math.sqrt(hd)); // [B, H, T, S]
    if (causal) scores = scores.add(causalMask(T, pastLen));
    const att = tf.softmax(scores); // [B, H, T, S]
    const ctx = tf
      .matMul(att, v)
      .transpose([0, 2, 1, 3])
      .reshape([B * T, C]); // [B*T, C]
    const y = matMul(ctx as tf.Tensor2D, w.out)
      .add(w.outBias)
      .reshape([B, T, C]) as tf.Tensor3D;
    return { y, kv: { k, v } };
  });
}
