import * as tf from '@tensorflow/tfjs';
import type { MatViT, Widths } from '@matformer/core';
import { RetrievalError } from './errors';

export interface EmbedOptions {
  /** Per-layer FFN widths of the submodel (a number = that width everywhere); default: full model. */
  widths?: number | Widths;
  /** Images per forward pass; bounds peak memory. */
  batchSize?: number;
}

/** Embeddings of N images: a flat [N, dim] array, each row of unit L2 norm. */
export interface Embeddings {
  vectors: Float32Array; // [N, dim]
  count: number;
  dim: number;
}

/**
 * Embeds images (flat NHWC floats in [0, 1], the model's geometry) with a MatViT submodel and
 * L2-normalises each embedding, batch by batch. Every tensor is freed before returning.
 */
export async function embedImages(
  model: MatViT,
  images: Float32Array,
  { widths, batchSize = 256 }: EmbedOptions = {},
): Promise<Embeddings> {
  const { imageSize: S, channels: Ch, dModel: dim } = model.config;
  const px = S * S * Ch;
  if (!(images instanceof Float32Array))
    throw new RetrievalError('images must be a Float32Array of NHWC pixel values in [0, 1]');
  if (images.length % px !== 0)
    throw new RetrievalError(
      `images has ${images.length} values, not a whole number of ${S}×${S}×${Ch} images (${px} values each)`,
    );
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RetrievalError(
      `batchSize must be a positive integer, got ${JSON.stringify(batchSize)}`,
    );
  const w = model.resolveWidths(widths); // validates before any tensor exists
  const count = images.length / px;
  const vectors = new Float32Array(count * dim);
  for (let start = 0; start < count; start += batchSize) {
    const b = Math.min(batchSize, count - start);
    const unit = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(start * px, (start + b) * px), [b, S, S, Ch]);
      const e = model.embed(x, w); // [b, C]
      // Unit rows make cosine = dot product; the epsilon keeps an all-zero row finite.
      return e.div(e.square().sum(1, true).sqrt().maximum(1e-12)) as tf.Tensor2D; // [b, C]
    });
    try {
      vectors.set(await unit.data(), start * dim);
    } finally {
      unit.dispose();
    }
  }
  return { vectors, count, dim };
}
