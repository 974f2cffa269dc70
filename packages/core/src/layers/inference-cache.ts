import * as tf from '@tensorflow/tfjs';

/**
 * Inference-only store of the weight views a forward derives from stored weights (FFN
 * prefixes, transposes). tfjs-wasm repacks every matmul weight it has not seen before, and at
 * batch 1 a per-call transpose costs about as much as the multiply itself, so decoding through
 * kept views is several times faster than rebuilding them each call. An entry is valid while
 * its source tensor keeps its data (Variable.assign gives it new data, which refreshes the
 * entry). Never use it under a gradient tape: kept views are not recorded on it.
 */
export class InferenceCache {
  private readonly entries = new Map<string, { data: object; value: tf.Tensor }>();

  /** The view `key` of `source`, built by `make` on first use or after `source` changed. */
  get<T extends tf.Tensor>(key: string, source: tf.Tensor, make: () => T): T {
    const data = (source as unknown as { dataId: object }).dataId;
    const hit = this.entries.get(key);
    if (hit && hit.data === data) return hit.value as T;
    hit?.value.dispose();
    const value = tf.keep(tf.tidy(make));
    this.entries.set(key, { data, value });
    return value;
  }

  /** Number of kept views (for tests). */
  get size(): number {
    return this.entries.size;
  }

  dispose(): void {
    for (const { value } of this.entries.values()) value.dispose();
    this.entries.clear();
  }
}
