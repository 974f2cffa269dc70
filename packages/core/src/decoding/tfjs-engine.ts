import * as tf from '@tensorflow/tfjs';
import { resolveWidths, type Widths } from '../config';
import { cacheLength, disposeCache, truncateCache, type KVCache } from '../models/matlm';
import type { LanguageModel } from '../models/registry';
import { InferenceCache } from '../layers/inference-cache';
import type { LMEngine } from './engine';

/** A language model (MatLM, MatGemma) at fixed per-layer widths as an LMEngine (KV cache kept as tfjs tensors). */
export class TfjsLMEngine implements LMEngine<KVCache> {
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  readonly widths: Widths;
  readonly name: string;
  /** Transposed / sliced weights kept across calls: decoding's main cost otherwise. */
  private readonly weights = new InferenceCache();

  constructor(
    readonly model: LanguageModel,
    widths?: number | Widths,
  ) {
    this.widths = resolveWidths(model.config, widths);
    this.vocabSize = model.config.vocabSize;
    this.maxSeqLen = model.config.maxSeqLen;
    this.name = `tfjs-${tf.getBackend()} [${this.widths.join(',')}]`;
  }

  async forward(
    tokens: number[],
    state?: KVCache,
  ): Promise<{ logits: Float32Array; state: KVCache }> {
    const input = tf.tensor2d([tokens], [1, tokens.length], 'int32');
    const { logits, cache } = this.model.forwardCached(input, this.widths, state, this.weights);
    input.dispose();
    const data = (await logits.data()) as Float32Array; // [1, T, V] → [T·V]
    logits.dispose();
    return { logits: data, state: cache };
  }

  length(state: KVCache): number {
    return cacheLength(state);
  }

  truncate(state: KVCache, n: number): KVCache {
    return truncateCache(state, n);
  }

  release(state: KVCache): void {
    disposeCache(state);
  }

  /** Frees the kept weight views (the model belongs to the caller). */
  dispose(): void {
    this.weights.dispose();
  }
}
