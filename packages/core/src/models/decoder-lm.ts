import * as tf from '@tensorflow/tfjs';
import { SKIP, type Widths } from '../config';
import { ConfigError } from '../errors';
import type { LayerKV } from '../layers/attention';
import type { InferenceCache } from '../layers/inference-cache';
import type { FamilyConfig } from './family';
import { crossEntropy, NestedModel } from './nested-model';

/**
 * Keys and values of every layer for the positions decoded so far. A cache belongs to the
 * widths that built it: a skipped layer (width 0) holds no positions.
 */
export type KVCache = {
  layers: LayerKV[];
};

/** Number of positions a cache holds (skipped layers hold none, so: the longest layer). */
export function cacheLength(cache?: KVCache): number {
  return cache ? Math.max(...cache.layers.map(({ k }) => k.shape[2])) : 0;
}

/** Keeps the first n positions of a cache (rolls back rejected speculative tokens). */
export function truncateCache(cache: KVCache, n: number): KVCache {
  return tf.tidy(() => ({
    layers: cache.layers.map(({ k, v }) => {
      const [B, H, S, hd] = k.shape;
      const keep = Math.min(n, S); // a skipped layer's empty entry stays empty
      return {
        k: k.slice([0, 0, 0, 0], [B, H, keep, hd]),
        v: v.slice([0, 0, 0, 0], [B, H, keep, hd]),
      };
    }),
  }));
}

export function disposeCache(cache?: KVCache): void {
  cache?.layers.forEach(({ k, v }) => {
    k.dispose();
    v.dispose();
  });
}

/**
 * Checks a decoder's input, tokens [B, T] after the positions in `cache` at `widths`: 2-D, not
 * empty, within the context, and a cache of the same batch and skipped layers. Returns B, T and
 * the cached length. Every language-model family's forward starts here.
 */
export function checkDecodeInput(
  tokens: tf.Tensor,
  widths: Widths,
  maxSeqLen: number,
  cache?: KVCache,
): { B: number; T: number; past: number } {
  if (tokens.rank !== 2)
    throw new ConfigError(`tokens must be [batch, time], got shape [${tokens.shape.join(', ')}]`);
  const [B, T] = tokens.shape;
  const past = cacheLength(cache);
  if (T === 0) throw new ConfigError('tokens must hold at least one position');
  if (past + T > maxSeqLen)
    throw new ConfigError(`sequence of ${past + T} positions exceeds maxSeqLen ${maxSeqLen}`);
  if (cache && cache.layers[0].k.shape[0] !== B)
    throw new ConfigError(
      `cache batch ${cache.layers[0].k.shape[0]} does not match tokens batch ${B}`,
    );
  if (cache) checkCacheWidths(cache, widths, past);
  return { B, T, past };
}

/** A cache must come from the same skipped layers: a kept layer needs every past position. */
export function checkCacheWidths(cache: KVCache, widths: Widths, past: number): void {
  if (cache.layers.length !== widths.length) {
    throw new ConfigError(
      `cache holds ${cache.layers.length} layers, the model has ${widths.length}`,
    );
  }
  widths.forEach((m, l) => {
    const held = cache.layers[l].k.shape[2];
    if (m !== SKIP && held !== past) {
      throw new ConfigError(
        `cache layer ${l} holds ${held} positions, expected ${past}: the cache was built at widths that skip other layers (caches are per-widths)`,
      );
    }
  });
}

/**
 * A decoder-only language model of any family: tokens [B, T] → logits [B, T, V], with a KV
 * cache. A family implements `forwardCached`; the plain forward and the loss follow from it.
 */
export abstract class DecoderLM<
  C extends FamilyConfig & { vocabSize: number; maxSeqLen: number },
> extends NestedModel<C> {
  /**
   * Logits for tokens [B, T] that follow the positions in `cache`, and the extended cache. The
   * caller owns both results and the old cache. `weights`: kept weight views (inference only).
   */
  abstract forwardCached(
    tokens: tf.Tensor2D,
    widths?: number | Widths,
    cache?: KVCache,
    weights?: InferenceCache,
  ): { logits: tf.Tensor3D; cache: KVCache };

  /** Logits [B, T, V] for tokens [B, T] at the given widths (default: every layer full). */
  forward(tokens: tf.Tensor2D, widths?: number | Widths): tf.Tensor3D {
    return tf.tidy(() => {
      const { logits, cache } = this.forwardCached(tokens, widths);
      disposeCache(cache);
      return logits;
    });
  }

  /** Mean next-token cross-entropy (nats) of tokens [B, T] against targets [B, T]. */
  loss(tokens: tf.Tensor2D, targets: tf.Tensor2D, widths?: number | Widths): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.forward(tokens, widths); // [B, T, V]
      const [B, T, V] = logits.shape;
      return crossEntropy(logits.reshape([B * T, V]), targets.reshape([B * T]));
    });
  }
}
