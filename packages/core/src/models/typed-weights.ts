import type * as tf from '@tensorflow/tfjs';
import type { AttentionWeights } from '../layers/attention';
import type { FFNWeights } from '../layers/nested-ffn';
import type { Params } from './weight-spec';

/** A LayerNorm's gain and bias, each [C]. */
export interface NormWeights {
  weight: tf.Tensor1D;
  bias: tf.Tensor1D;
}

/** A linear layer stored [in, out] with its bias [out]. */
export interface LinearWeights {
  weight: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** One pre-norm block, named as in the checkpoint: blocks.l.{ln1, attn, ln2, ffn}. */
export interface BlockWeights {
  ln1: NormWeights;
  attn: AttentionWeights;
  ln2: NormWeights;
  ffn: FFNWeights;
}

/** The shared trunk: every block, then the final norm `ln_f`. */
export interface TrunkWeights {
  blocks: BlockWeights[];
  lnF: NormWeights;
}

/**
 * A weight by its checkpoint name, typed by rank: the one place the flat, named `Params` (the
 * checkpoint's and the optimizer's view) are read as tensors of a known rank. The views share
 * the variables, so an optimizer update is seen through them.
 */
export function weight<R extends 1 | 2>(
  params: Params,
  name: string,
  rank: R,
): R extends 1 ? tf.Tensor1D : tf.Tensor2D {
  const t = params[name];
  if (!t || t.rank !== rank)
    throw new Error(
      `internal: weight "${name}" is ${t ? `rank ${t.rank}` : 'missing'}, expected rank ${rank}`,
    );
  return t as unknown as R extends 1 ? tf.Tensor1D : tf.Tensor2D;
}

export function normWeights(params: Params, prefix: string): NormWeights {
  return {
    weight: weight(params, `${prefix}.weight`, 1),
    bias: weight(params, `${prefix}.bias`, 1),
  };
}

export function linearWeights(params: Params, prefix: string): LinearWeights {
  return {
    weight: weight(params, `${prefix}.weight`, 2),
    bias: weight(params, `${prefix}.bias`, 1),
  };
}

/** Typed views of the trunk's weights (blocks.0 … blocks.L-1, ln_f). */
export function trunkWeights(params: Params, nLayers: number): TrunkWeights {
  const blocks = Array.from({ length: nLayers }, (_, l): BlockWeights => {
    const p = `blocks.${l}`;
    const qkv = linearWeights(params, `${p}.attn.qkv`);
    const out = linearWeights(params, `${p}.attn.out`);
    const fc1 = linearWeights(params, `${p}.ffn.fc1`);
    const fc2 = linearWeights(params, `${p}.ffn.fc2`);
    return {
      ln1: normWeights(params, `${p}.ln1`),
      attn: { qkv: qkv.weight, qkvBias: qkv.bias, out: out.weight, outBias: out.bias },
      ln2: normWeights(params, `${p}.ln2`),
      ffn: { fc1: fc1.weight, b1: fc1.bias, fc2: fc2.weight, b2: fc2.bias },
    };
  });
  return { blocks, lnF: normWeights(params, 'ln_f') };
}
