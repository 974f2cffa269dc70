import * as tf from '@tensorflow/tfjs';
import type { Widths } from '../../config';
import type { InferenceCache } from '../../layers/inference-cache';
import { matMul, matMulT } from '../../layers/matmul';
import { checkDecodeInput, DecoderLM, type KVCache } from '../decoder-lm';
import { weight } from '../typed-weights';
import type { Params } from '../weight-spec';
import type { MatLMConfig } from './config';

// The cache helpers every decoder shares (re-exported: they were first MatLM's).
export {
  cacheLength,
  checkCacheWidths,
  checkDecodeInput,
  disposeCache,
  truncateCache,
  type KVCache,
} from '../decoder-lm';
import { matlm } from './family';

/**
 * MatLM: a decoder-only Transformer whose every FFN is nested. Learned positions,
 * pre-norm blocks, final LayerNorm, output head tied to the token embedding.
 */
export class MatLM extends DecoderLM<MatLMConfig> {
  /** Token embedding [V, C], also the output head (tied, no bias). */
  private readonly tokEmb: tf.Tensor2D;
  /** Learned positions [maxSeqLen, C]; position p (from 0) adds row p. */
  private readonly posEmb: tf.Tensor2D;

  constructor(config: MatLMConfig, params?: Params, seed = 0) {
    super(config, params, seed);
    this.tokEmb = weight(this.params, 'tok_emb', 2);
    this.posEmb = weight(this.params, 'pos_emb', 2);
  }

  override get family() {
    return matlm;
  }

  static create(config: MatLMConfig, seed = 0): MatLM {
    return new MatLM(config, undefined, seed);
  }

  /**
   * Logits for tokens [B, T] that follow the positions already in `cache`, and the cache
   * extended by them. The caller owns both results and the old cache (dispose it when done).
   * `weights` (inference only) keeps derived weight views between calls: see InferenceCache.
   */
  forwardCached(
    tokens: tf.Tensor2D,
    widths?: number | Widths,
    cache?: KVCache,
    weights?: InferenceCache,
  ): { logits: tf.Tensor3D; cache: KVCache } {
    const w = this.resolveWidths(widths);
    const { B, T, past } = checkDecodeInput(tokens, w, this.config.maxSeqLen, cache);
    return tf.tidy(() => {
      const tokEmb = this.tokEmb; // [V, C]
      const C = this.config.dModel;
      const pos = this.posEmb.slice([past, 0], [T, C]); // [T, C]: positions past … past+T-1
      // Embedding lookup as a one-hot matmul: gather's gradient (UnsortedSegmentSum) has no wasm kernel.
      const oneHot = tf.oneHot(
        tokens.toInt().reshape([B * T]) as tf.Tensor1D,
        this.config.vocabSize,
      ) as tf.Tensor2D; // [B*T, V]
      const x = matMul(oneHot, tokEmb).reshape([B, T, C]).add(pos) as tf.Tensor3D; // [B, T, C]
      const { h, kv } = this.trunk(x, w, true, cache?.layers, weights);
      const h2d = h.reshape([B * T, C]) as tf.Tensor2D;
      const head = weights
        ? tf.matMul(
            h2d,
            weights.get('tok_emb.T', tokEmb, () => tokEmb.transpose()),
          ) // kept [C, V]
        : matMulT(h2d, tokEmb); // tied head, no bias: [B·T, V]
      const logits = head.reshape([B, T, this.config.vocabSize]); // [B, T, V]
      return { logits: logits as tf.Tensor3D, cache: { layers: kv } };
    });
  }
}
