import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  crossEntropy,
  type LanguageModel,
  type MatLM,
  type MatViT,
  type Widths,
} from '@matformer/core';
import type { EvalFn, Quality } from './evaluator';

export interface LMDataOptions {
  /** Tokens per window (default: the model's maxSeqLen). */
  seqLen?: number;
  /** Windows scored, evenly spaced over [start, end) of the tokens. */
  windows: number;
  /** Windows per forward (default 8). */
  batchSize?: number;
  /** Token range scored (default: all of them). Disjoint ranges never share a window. */
  start?: number;
  end?: number;
  /** A name for the token stream, part of the data id (default "tokens"). */
  name?: string;
}

/** An evaluator bound to one range of held-out data: `dataId` names it in the cache key. */
export interface DataEvaluator {
  evaluate: EvalFn;
  dataId: string;
  /** Frees the data's tensors (the model belongs to the caller). */
  dispose(): void;
}

/** @deprecated Renamed `DataEvaluator`: in this package "slice" names only a widths config (a slice file's row). */
export type SliceEvaluator = DataEvaluator;
/** @deprecated Renamed `LMDataOptions`. */
export type LMSliceOptions = LMDataOptions;

/**
 * Mean next-token loss of a MatLM at any widths over fixed windows of a token stream
 * (held-out text). Windows of T+1 tokens, evenly spaced over [start, end).
 */
export function lmEvaluator(
  model: LanguageModel,
  tokens: ArrayLike<number>,
  opts: LMDataOptions,
): DataEvaluator {
  const T = opts.seqLen ?? model.config.maxSeqLen;
  const { windows, batchSize = 8, start = 0, end = tokens.length, name = 'tokens' } = opts;
  if (!Number.isInteger(T) || T < 1 || T > model.config.maxSeqLen)
    throw new ConfigError(`seqLen must be in [1, ${model.config.maxSeqLen}], got ${T}`);
  if (!Number.isInteger(windows) || windows < 1)
    throw new ConfigError(`windows must be a positive integer, got ${windows}`);
  if (!(start >= 0 && end <= tokens.length && end - start >= T + 1))
    throw new ConfigError(
      `token range [${start}, ${end}) must lie in [0, ${tokens.length}) and hold one window of ${T + 1}`,
    );
  const last = end - T - 1; // last valid window start
  const stride = windows > 1 ? (last - start) / (windows - 1) : 0;
  const starts = Array.from({ length: windows }, (_, i) => start + Math.floor(i * stride));
  const batches: { x: tf.Tensor2D; y: tf.Tensor2D }[] = [];
  for (let i = 0; i < starts.length; i += batchSize) {
    const rows = starts.slice(i, i + batchSize);
    const x = new Int32Array(rows.length * T);
    const y = new Int32Array(rows.length * T);
    rows.forEach((s, b) => {
      for (let t = 0; t < T; t++) {
        x[b * T + t] = tokens[s + t];
        y[b * T + t] = tokens[s + t + 1];
      }
    });
    batches.push({
      x: tf.tensor2d(x, [rows.length, T], 'int32'), // [B, T]
      y: tf.tensor2d(y, [rows.length, T], 'int32'), // [B, T]
    });
  }
  return {
    dataId: `${name}[${start}:${end}]/${windows}x${T}`,
    evaluate(widths: Widths): Quality {
      let sum = 0;
      let n = 0;
      for (const { x, y } of batches) {
        const l = model.loss(x, y, widths);
        sum += l.dataSync()[0] * x.shape[0];
        n += x.shape[0];
        l.dispose();
      }
      const loss = sum / n;
      return { loss, bitsPerToken: loss / Math.LN2 };
    },
    dispose: () => batches.forEach((b) => tf.dispose([b.x, b.y])),
  };
}

/** Loss and top-1 accuracy of a MatViT at any widths over fixed images [N, H, W, Ch] and labels [N]. */
export function vitEvaluator(
  model: MatViT,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  opts: { batchSize?: number; name: string },
): DataEvaluator {
  const N = images.shape[0];
  if (labels.shape[0] !== N)
    throw new ConfigError(`labels hold ${labels.shape[0]} entries for ${N} images`);
  const bs = opts.batchSize ?? 64;
  const labelData = labels.dataSync();
  return {
    dataId: `${opts.name}/${N}`,
    evaluate(widths: Widths): Quality {
      let loss = 0;
      let correct = 0;
      for (let i = 0; i < N; i += bs) {
        const n = Math.min(bs, N - i);
        const [l, pred] = tf.tidy(() => {
          const x = images.slice([i, 0, 0, 0], [n, -1, -1, -1]) as tf.Tensor4D;
          const logits = model.forward(x, widths); // [n, K]
          const y = labels.slice(i, n) as tf.Tensor1D; // [n]
          return [crossEntropy(logits, y), logits.argMax(1)];
        });
        loss += l.dataSync()[0] * n;
        const predicted = pred.dataSync();
        for (let j = 0; j < n; j++) if (predicted[j] === labelData[i + j]) correct++;
        tf.dispose([l, pred]);
      }
      return { loss: loss / N, accuracy: correct / N };
    },
    dispose: () => undefined,
  };
}
