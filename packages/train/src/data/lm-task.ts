import * as tf from '@tensorflow/tfjs';
import {
  capWindows,
  ConfigError,
  distinctWindows,
  type LanguageModel,
  type Widths,
} from '@matformer/core';
import type { Rng } from '@matformer/core';
import type { Task } from '../task';
import type { TextCorpus } from './text-split';

export interface LMBatch {
  x: tf.Tensor2D; // [B, T] input tokens
  y: tf.Tensor2D; // [B, T] next tokens
}

export interface LMTaskOptions {
  batchSize: number;
  /** Context length of each training window (≤ the model's maxSeqLen). */
  seqLen?: number;
  /** Held-out windows evaluated (split into batches of batchSize). */
  evalWindows?: number;
}

/** Copies B windows of T+1 tokens starting at `starts` into input/target tensors. */
function windows(stream: Uint8Array, starts: number[], T: number): LMBatch {
  const x = new Int32Array(starts.length * T);
  const y = new Int32Array(starts.length * T);
  starts.forEach((s, b) => {
    for (let t = 0; t < T; t++) {
      x[b * T + t] = stream[s + t];
      y[b * T + t] = stream[s + t + 1];
    }
  });
  return {
    x: tf.tensor2d(x, [starts.length, T], 'int32'),
    y: tf.tensor2d(y, [starts.length, T], 'int32'),
  };
}

/** Next-token prediction on a byte stream: random training windows, fixed held-out windows. */
export function lmTask(
  model: LanguageModel,
  corpus: TextCorpus,
  { batchSize, seqLen = model.config.maxSeqLen, evalWindows = 64 }: LMTaskOptions,
): Task<LMBatch> {
  const T = seqLen;
  if (!Number.isInteger(T) || T < 1 || T > model.config.maxSeqLen)
    throw new ConfigError(`seqLen must be in [1, maxSeqLen=${model.config.maxSeqLen}], got ${T}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`);
  if (corpus.train.length < T + 1)
    throw new ConfigError(
      `training text (${corpus.train.length} tokens) is shorter than one window of ${T + 1}`,
    );
  const maxVal = distinctWindows(corpus.val.length, T);
  if (maxVal < 1)
    throw new ConfigError(
      `held-out text (${corpus.val.length} tokens) is shorter than one window of ${T + 1}`,
    );
  const nEval = capWindows(evalWindows, corpus.val.length, T);
  let evalCache: LMBatch[] | undefined;
  return {
    model,
    splittable: true,
    unit: 'tokens',
    unitsPerBatch: batchSize * T,
    nextBatch(rng: Rng) {
      const starts = Array.from({ length: batchSize }, () => rng.int(corpus.train.length - T));
      return windows(corpus.train, starts, T);
    },
    loss: (b: LMBatch, widths: Widths) => model.loss(b.x, b.y, widths),
    evalBatches() {
      if (!evalCache) {
        // Evenly spaced, non-overlapping windows over the whole held-out split.
        const stride = Math.floor((corpus.val.length - 1 - T) / Math.max(1, nEval - 1)) || T;
        const starts = Array.from({ length: nEval }, (_, i) =>
          Math.min(i * stride, corpus.val.length - 1 - T),
        );
        evalCache = [];
        for (let i = 0; i < starts.length; i += batchSize)
          evalCache.push(windows(corpus.val, starts.slice(i, i + batchSize), T));
      }
      return evalCache;
    },
    batchExamples: (b: LMBatch) => b.x.shape[0],
    disposeBatch: (b: LMBatch) => {
      if (!evalCache?.includes(b)) tf.dispose([b.x, b.y]);
    },
    dispose() {
      evalCache?.forEach((b) => tf.dispose(Object.values(b)));
      evalCache = undefined;
    },
    describe: () => ({
      kind: 'text',
      source: corpus.name,
      trainTokens: corpus.train.length,
      valTokens: corpus.val.length,
      batchSize,
      seqLen: T,
      evalWindows: nEval,
    }),
  };
}
