import * as tf from '@tensorflow/tfjs';
import { SKIP, type Widths } from '../../config';
import type { LayerKV } from '../../layers/attention';
import { gatedFFN } from '../../layers/gated-ffn';
import { gqaAttention } from '../../layers/gqa-attention';
import type { InferenceCache } from '../../layers/inference-cache';
import { matMul, matMulT } from '../../layers/matmul';
import { rmsNorm } from '../../layers/rms-norm';
import { checkDecodeInput, DecoderLM, type KVCache } from '../decoder-lm';
import { weight } from '../typed-weights';
import type { Params } from '../weight-spec';
import type { MatGemmaConfig } from './config';
import { matgemma } from './family';
import { matgemmaBlocks, type MatGemmaBlockWeights } from './weights';

/**
 * MatGemma: a decoder-only Transformer with the Gemma 3n / Llama block, every gated FFN nested.
 * Token embedding (× √C for Gemma), then per layer x += attn(norm(x)), x += ffn_m(norm(x)) with
 * RMSNorm, rotary positions and grouped-query attention; a final RMSNorm; a head tied to the
 * embedding or its own `lm_head`; optional soft-capping of the logits.
 */
export class MatGemma extends DecoderLM<MatGemmaConfig> {
  private readonly tokEmb: tf.Tensor2D; // [V, C]
  private readonly lmHead: tf.Tensor2D; // [V, C]: tok_emb when tied
  private readonly normF: tf.Tensor1D; // [C]
  private readonly blocks: MatGemmaBlockWeights[];

  constructor(config: MatGemmaConfig, params?: Params, seed = 0) {
    super(config, params, seed);
    this.tokEmb = weight(this.params, 'tok_emb', 2);
    this.lmHead = config.tiedEmbeddings ? this.tokEmb : weight(this.params, 'lm_head.weight', 2);
    this.normF = weight(this.params, 'norm.weight', 1);
    this.blocks = matgemmaBlocks(this.params, config.nLayers);
  }

  override get family() {
    return matgemma;
  }

  static create(config: MatGemmaConfig, seed = 0): MatGemma {
    return new MatGemma(config, undefined, seed);
  }

  /**
   * Logits for tokens [B, T] that follow the positions in `cache`, and the extended cache
   * (rotated keys and values, [B, Hkv, S, hd] per layer; a skipped layer holds none). The
   * caller owns both results and the old cache. `weights`: kept weight views (inference only).
   */
  forwardCached(
    tokens: tf.Tensor2D,
    widths?: number | Widths,
    cache?: KVCache,
    weights?: InferenceCache,
  ): { logits: tf.Tensor3D; cache: KVCache } {
    const w = this.resolveWidths(widths);
    const c = this.config;
    const { B, T } = checkDecodeInput(tokens, w, c.maxSeqLen, cache);
    return tf.tidy(() => {
      const C = c.dModel;
      // Embedding lookup as a one-hot matmul: gather's gradient has no wasm kernel.
      const oneHot = tf.oneHot(tokens.toInt().reshape([B * T]) as tf.Tensor1D, c.vocabSize); // [B·T, V]
      let x = matMul(oneHot as tf.Tensor2D, this.tokEmb).reshape([B, T, C]) as tf.Tensor3D; // [B, T, C]
      if (c.embedScale) x = x.mul(Math.fround(Math.sqrt(C)));
      const kv: LayerKV[] = [];
      this.blocks.forEach((b, l) => {
        if (w[l] === SKIP) {
          const empty = tf.zeros([B, c.nKvHeads, 0, c.headDim]) as tf.Tensor4D; // [B, Hkv, 0, hd]
          kv.push({ k: empty, v: empty.clone() });
          return;
        }
        const a = gqaAttention(
          rmsNorm(x, b.attnNorm, c.normEps, c.normOffset) as tf.Tensor3D,
          b.attn,
          {
            nHeads: c.nHeads,
            nKvHeads: c.nKvHeads,
            headDim: c.headDim,
            ropeTheta: c.ropeTheta,
            past: cache?.layers[l],
            cache: weights,
            cacheKey: `blocks.${l}.attn`,
          },
        );
        const h = x.add(a.y); // [B, T, C]
        const n2 = rmsNorm(h, b.ffnNorm, c.normEps, c.normOffset).reshape([B * T, C]); // [B·T, C]
        const f = gatedFFN(
          n2 as tf.Tensor2D,
          b.ffn,
          w[l],
          c.activation,
          weights,
          `blocks.${l}.ffn`,
        );
        x = h.add(f.reshape([B, T, C])) as tf.Tensor3D;
        kv.push(a.kv);
      });
      const hF = rmsNorm(x, this.normF, c.normEps, c.normOffset).reshape([B * T, C]) as tf.Tensor2D;
      let logits: tf.Tensor = weights
        ? tf.matMul(
            hF,
            weights.get('lm_head.T', this.lmHead, () => this.lmHead.transpose()),
          )
        : matMulT(hF, this.lmHead); // [B·T, V]
      if (c.finalSoftcap > 0) logits = tf.tanh(logits.div(c.finalSoftcap)).mul(c.finalSoftcap);
      return { logits: logits.reshape([B, T, c.vocabSize]) as tf.Tensor3D, cache: { layers: kv } };
    });
  }
}
