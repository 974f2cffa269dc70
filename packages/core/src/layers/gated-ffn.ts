import * as tf from '@tensorflow/tfjs';
import { gelu } from './gelu';
import type { InferenceCache } from './inference-cache';
import { matMul, matMulT } from './matmul';

/** A gated FFN's weights in Hugging Face orientation [out, in]. */
export interface GatedFFNWeights {
  gate: tf.Tensor2D; // [dFF, C]: width m keeps the first m rows
  up: tf.Tensor2D; // [dFF, C]: the first m rows
  down: tf.Tensor2D; // [C, dFF]: the first m columns
}

export type GateActivation = 'gelu_tanh' | 'silu';

/** The gate's nonlinearity: GELU-tanh (GeGLU) or SiLU x·σ(x) (SwiGLU). */
export function gateActivation(x: tf.Tensor, act: GateActivation): tf.Tensor {
  return act === 'silu' ? tf.tidy(() => x.mul(tf.sigmoid(x))) : gelu(x);
}

/**
 * The gated FFN nested at width m: only the first m hidden units take part,
 * y = (act(x · gate[:m]ᵀ) ⊙ (x · up[:m]ᵀ)) · down[:, :m]ᵀ. No bias anywhere (Gemma, Llama).
 */
export function gatedFFN(
  x: tf.Tensor2D, // [N, C]
  w: GatedFFNWeights,
  m: number,
  act: GateActivation,
  /** Inference only: keeps the width-m transposed views, keyed under `cacheKey`. */
  cache?: InferenceCache,
  cacheKey = 'ffn',
): tf.Tensor2D {
  return tf.tidy(() => {
    const [dFF, C] = w.gate.shape;
    const rows = (t: tf.Tensor2D) => (m === dFF ? t : t.slice([0, 0], [m, C])); // [m, C]
    const cols = (t: tf.Tensor2D) => (m === dFF ? t : t.slice([0, 0], [C, m])); // [C, m]
    if (cache) {
      const view = (k: string, src: tf.Tensor2D, make: () => tf.Tensor2D) =>
        cache.get(`${cacheKey}.${k}.${m}`, src, make);
      const gateT = view('gateT', w.gate, () => rows(w.gate).transpose()); // [C, m]
      const upT = view('upT', w.up, () => rows(w.up).transpose()); // [C, m]
      const downT = view('downT', w.down, () => cols(w.down).transpose()); // [m, C]
      const h = gateActivation(tf.matMul(x, gateT), act).mul(tf.matMul(x, upT)); // [N, m]
      return tf.matMul(h as tf.Tensor2D, downT); // [N, C]
    }
    const g = gateActivation(matMulT(x, rows(w.gate)), act); // [N, m]
    const h = g.mul(matMulT(x, rows(w.up))) as tf.Tensor2D; // [N, m]
    return matMul(h, cols(w.down).transpose()); // [N, C]
  });
}
