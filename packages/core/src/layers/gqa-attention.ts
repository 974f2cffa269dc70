import * as tf from '@tensorflow/tfjs';
import type { LayerKV } from './attention';
import { causalMask } from './attention';
import type { InferenceCache } from './inference-cache';
import { matMulT } from './matmul';
import { applyRotary } from './rotary';

/** Grouped-query attention weights in Hugging Face orientation [out, in], no biases. */
export interface GQAWeights {
  q: tf.Tensor2D; // [H·hd, C]
  k: tf.Tensor2D; // [Hkv·hd, C]
  v: tf.Tensor2D; // [Hkv·hd, C]
  o: tf.Tensor2D; // [C, H·hd]
}

export interface GQAOptions {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  ropeTheta: number;
  /** Cached keys (already rotated) and values, [B, Hkv, P, hd]; new positions start at P. */
  past?: LayerKV;
  cache?: InferenceCache;
  cacheKey?: string;
}

/**
 * Causal grouped-query self-attention with rotary positions. Query head h reads kv head
 * ⌊h / G⌋ (G = H / Hkv, contiguous groups): the G query heads of a group are stacked along the
 * time axis, so each kv head is multiplied once, never copied. Returns the new cache
 * (past + T positions of rotated keys and values).
 */
export function gqaAttention(
  x: tf.Tensor3D, // [B, T, C]
  w: GQAWeights,
  o: GQAOptions,
): { y: tf.Tensor3D; kv: LayerKV } {
  return tf.tidy(() => {
    const [B, T, C] = x.shape;
    const { nHeads: H, nKvHeads: Hkv, headDim: hd } = o;
    const G = H / Hkv;
    const P = o.past ? o.past.k.shape[2] : 0;
    const x2d = x.reshape([B * T, C]) as tf.Tensor2D;
    const project = (name: 'q' | 'k' | 'v', heads: number) => {
      const y = o.cache
        ? tf.matMul(
            x2d,
            o.cache.get(`${o.cacheKey}.${name}T`, w[name], () => w[name].transpose()),
          )
        : matMulT(x2d, w[name]); // [B·T, heads·hd]
      return y.reshape([B, T, heads, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, heads, T, hd]
    };
    const q = applyRotary(project('q', H), P, o.ropeTheta); // [B, H, T, hd]
    let k = applyRotary(project('k', Hkv), P, o.ropeTheta); // [B, Hkv, T, hd]
    let v = project('v', Hkv); // [B, Hkv, T, hd]
    if (o.past) {
      k = tf.concat([o.past.k, k], 2); // [B, Hkv, S, hd], S = P + T
      v = tf.concat([o.past.v, v], 2);
    }
    const S = P + T;
    const qg = q.reshape([B, Hkv, G * T, hd]); // [B, Hkv, G·T, hd]: a group's heads stacked
    const scores = tf
      .matMul(qg, k, false, true) // [B, Hkv, G·T, S]
      .mul(1 / Math.sqrt(hd))
      .reshape([B, Hkv, G, T, S])
      .add(causalMask(T, P)); // [B, Hkv, G, T, S]
    const att = tf.softmax(scores).reshape([B, Hkv, G * T, S]);
    const ctx = tf
      .matMul(att, v) // [B, Hkv, G·T, hd]
      .reshape([B, H, T, hd])
      .transpose([0, 2, 1, 3])
      .reshape([B * T, H * hd]) as tf.Tensor2D; // [B·T, H·hd]
    const out = o.cache
      ? tf.matMul(
          ctx,
          o.cache.get(`${o.cacheKey}.oT`, w.o, () => w.o.transpose()),
        )
      : matMulT(ctx, w.o); // [B·T, C]
    return { y: out.reshape([B, T, C]) as tf.Tensor3D, kv: { k, v } };
  });
}
