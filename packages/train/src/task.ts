import type * as tf from '@tensorflow/tfjs';
import type { AnyModel, Widths } from '@matformer/core';
import type { Rng } from '@matformer/core';

/**
 * What the trainer needs to know about a model and its data; nothing else about either.
 * `lmTask` and `imageTask` build one for a MatLM on text and a MatViT on images.
 */
export interface Task<Batch = unknown> {
  model: AnyModel;
  /** Draws the next training batch; all randomness comes from rng, so runs replay exactly. */
  nextBatch(rng: Rng): Batch;
  /** Mean loss of a batch at the given per-layer widths. */
  loss(batch: Batch, widths: Widths): tf.Scalar;
  /** Fixed held-out batches (the same every call). */
  evalBatches(): Batch[];
  /** Extra held-out metrics of one batch (e.g. accuracy), summed over its examples. */
  evalCounts?(batch: Batch, widths: Widths): Record<string, number>;
  /** Examples in a batch, for averaging evalCounts. */
  batchExamples(batch: Batch): number;
  disposeBatch(batch: Batch): void;
  /** Frees the cached held-out batches (the model belongs to the caller). */
  dispose(): void;
  /**
   * True when the batch is `{ x, y }` and loss(batch, w) is model.loss(x, y, w): its rows can
   * then be split across threads (data parallelism).
   */
  splittable?: boolean;
  /** Tokens (LM) or images (ViT) per training batch, for throughput. */
  unitsPerBatch: number;
  unit: 'tokens' | 'images';
  /** Describes the data for the run directory (written to config.json). */
  describe(): Record<string, unknown>;
}
