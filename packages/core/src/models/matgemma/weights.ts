import type * as tf from '@tensorflow/tfjs';
import { storedWidths } from '../../config';
import type { GatedFFNWeights } from '../../layers/gated-ffn';
import type { GQAWeights } from '../../layers/gqa-attention';
import { weight } from '../typed-weights';
import type { Params, WeightSpec } from '../weight-spec';
import type { MatGemmaConfig } from './config';

/**
 * The blocks' and final norm's weights, in checkpoint order, all in Hugging Face orientation
 * [out, in] (so the HF layout is a rename: see hf.ts). The gated FFN is nested along its hidden
 * dimension: gate and up keep their first m rows, down its first m columns.
 */
export function matgemmaBlockSpecs(c: MatGemmaConfig): Record<string, WeightSpec> {
  const { dModel: C, nHeads: H, nKvHeads: Hkv, headDim: hd } = c;
  const norm: WeightSpec['role'] = c.normOffset ? 'norm-offset' : 'norm-gain';
  const specs: Record<string, WeightSpec> = {};
  storedWidths(c).forEach((m, l) => {
    const p = `blocks.${l}`;
    specs[`${p}.attn_norm.weight`] = { shape: [C], role: norm };
    specs[`${p}.attn.q.weight`] = { shape: [H * hd, C], role: 'matrix' };
    specs[`${p}.attn.k.weight`] = { shape: [Hkv * hd, C], role: 'matrix' };
    specs[`${p}.attn.v.weight`] = { shape: [Hkv * hd, C], role: 'matrix' };
    specs[`${p}.attn.o.weight`] = { shape: [C, H * hd], role: 'residual-out' };
    specs[`${p}.ffn_norm.weight`] = { shape: [C], role: norm };
    specs[`${p}.ffn.gate.weight`] = { shape: [m, C], role: 'matrix', nested: 0 };
    specs[`${p}.ffn.up.weight`] = { shape: [m, C], role: 'matrix', nested: 0 };
    specs[`${p}.ffn.down.weight`] = { shape: [C, m], role: 'residual-out', nested: 1 };
  });
  specs['norm.weight'] = { shape: [C], role: norm };
  return specs;
}

/** One block's typed weights (views of the same variables as `params`). */
export interface MatGemmaBlockWeights {
  attnNorm: tf.Tensor1D;
  attn: GQAWeights;
  ffnNorm: tf.Tensor1D;
  ffn: GatedFFNWeights;
}

export function matgemmaBlocks(params: Params, nLayers: number): MatGemmaBlockWeights[] {
  return Array.from({ length: nLayers }, (_, l) => {
    const p = `blocks.${l}`;
    const m = (n: string) => weight(params, `${p}.${n}.weight`, 2);
    return {
      attnNorm: weight(params, `${p}.attn_norm.weight`, 1),
      attn: { q: m('attn.q'), k: m('attn.k'), v: m('attn.v'), o: m('attn.o') },
      ffnNorm: weight(params, `${p}.ffn_norm.weight`, 1),
      ffn: { gate: m('ffn.gate'), up: m('ffn.up'), down: m('ffn.down') },
    };
  });
}
