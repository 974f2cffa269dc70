import * as tf from '@tensorflow/tfjs';
import type { BlockWeights } from '../models/typed-weights';
import { multiHeadAttention, type LayerKV } from './attention';
import { layerNorm } from './layer-norm';
import type { InferenceCache } from './inference-cache';
import { nestedFFN } from './nested-ffn';

export interface BlockOptions {
  nHeads: number;
  normEps: number;
  causal: boolean;
  /** FFN width this block runs at. */
  width: number;
  past?: LayerKV;
  /** Inference only: kept weight views (see InferenceCache). */
  cache?: InferenceCache;
  /** Names this block's kept views in `cache` (default "ffn"); the model passes "blocks.l.ffn". */
  cacheKey?: string;
}

/** Pre-norm Transformer block: x + attn(ln1(x)), then + ffn_m(ln2(x)). */
export function block(
  x: tf.Tensor3D, // [B, T, C]
  w: BlockWeights,
  o: BlockOptions,
): { y: tf.Tensor3D; kv: LayerKV } {
  return tf.tidy(() => {
    const [B, T, C] = x.shape;
    const a = multiHeadAttention(
      layerNorm(x, w.ln1.weight, w.ln1.bias, o.normEps) as tf.Tensor3D, // [B, T, C]
      w.attn,
      o.nHeads,
      o.causal,
      o.past,
    );
    const h = x.add(a.y); // [B, T, C]
    const normed = layerNorm(h, w.ln2.weight, w.ln2.bias, o.normEps).reshape([B * T, C]); // [B·T, C]
    const f = nestedFFN(normed as tf.Tensor2D, w.ffn, o.width, o.cache, o.cacheKey); // [B·T, C]
    return { y: h.add(f.reshape([B, T, C])) as tf.Tensor3D, kv: a.kv };
  });
}
