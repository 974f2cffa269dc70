import * as tf from '@tensorflow/tfjs';
import type { Params } from '../weights';
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
}

/** Pre-norm Transformer block l: x + attn(ln1(x)), then + ffn_m(ln2(x)). */
export function block(
  x: tf.Tensor3D,
  params: Params,
  l: number,
  o: BlockOptions,
): { y: tf.Tensor3D; kv: LayerKV } {
  return tf.tidy(() => {
    const p = (n: string) => params[`blocks.${l}.${n}`];
    const [B, T, C] = x.shape;
    const a = multiHeadAttention(
      layerNorm(
        x,
        p('ln1.weight') as tf.Tensor1D,
        p('ln1.bias') as tf.Tensor1D,
        o.normEps,
      ) as tf.Tensor3D,
      {
        qkv: p('attn.qkv.weight') as tf.Tensor2D,
        qkvBias: p('attn.qkv.bias') as tf.Tensor1D,
        out: p('attn.out.weight') as tf.Tensor2D,
        outBias: p('attn.out.bias') as tf.Tensor1D,
      },
      o.nHeads,
      o.causal,
      o.past,
    );
    const h = x.add(a.y); // [B, T, C]
    const normed = layerNorm(
      h,
      p('ln2.weight') as tf.Tensor1D,
      p('ln2.bias') as tf.Tensor1D,
      o.normEps,
    ).reshape([B * T, C]) as tf.Tensor2D;
    const f = nestedFFN(
      normed,
      {
        fc1: p('ffn.fc1.weight') as tf.Tensor2D,
        b1: p('ffn.fc1.bias') as tf.Tensor1D,
        fc2: p('ffn.fc2.weight') as tf.Tensor2D,
        b2: p('ffn.fc2.bias') as tf.Tensor1D,
      },
      o.width,
      o.cache,
      `blocks.${l}.ffn`,
    );
    return { y: h.add(f.reshape([B, T, C])) as tf.Tensor3D, kv: a.kv };
  });
}
