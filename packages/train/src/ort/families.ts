import type * as tf from '@tensorflow/tfjs';
import type { MatLMConfig, MatViTConfig, ModelConfig } from '@matformer/core';
import {
  DataType,
  lmForward,
  vitForward,
  type Dim,
  type GraphBuilder,
  type WeightFn,
} from '@matformer/core/onnx';
import type * as Ort from 'onnxruntime-node';

/** A batch as the splittable tasks make it: inputs and integer targets. */
export interface XYBatch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/** What the onnxruntime engine needs to know of a model family to train and score it. */
export interface OrtFamily {
  /** The model input's graph name, element type and (dynamic) shape. */
  input(config: ModelConfig): { name: string; elemType: number; shape: Dim[] };
  /** Logits [targets, classes] from the family's forward graph, one row per target. */
  logits(g: GraphBuilder, config: ModelConfig, w: WeightFn, input: string): string;
  /** onnxruntime tensors of a batch: the input and the flattened int64 targets. */
  feeds(ort: typeof Ort, batch: XYBatch): { input: Ort.Tensor; labels: Ort.Tensor };
  /** Held-out counts from one batch's logits [targets, classes] (e.g. correct top-1 predictions). */
  counts?(logits: Float32Array, labels: BigInt64Array, classes: number): Record<string, number>;
}

/** How many rows of logits [N, K] have their largest entry at the label. */
function correctTop1(logits: Float32Array, labels: BigInt64Array, K: number): number {
  let correct = 0;
  labels.forEach((label, r) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[r * K + k] > logits[r * K + best]) best = k;
    if (BigInt(best) === label) correct++;
  });
  return correct;
}

const int64 = (ort: typeof Ort, t: tf.Tensor, dims: number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(t.dataSync() as Int32Array, BigInt), dims);

/** Every family the engine trains, by `arch`; their graphs come from core's forward builders. */
export const ortFamilies: Record<ModelConfig['arch'], OrtFamily> = {
  matlm: {
    input: () => ({ name: 'input_ids', elemType: DataType.INT64, shape: ['batch', 'seq'] }),
    logits: (g, c, w, ids) => lmForward(g, c as MatLMConfig, w, ids).logits2d, // [B·T, V]
    feeds: (ort, { x, y }) => ({ input: int64(ort, x, x.shape), labels: int64(ort, y, [y.size]) }),
  },
  matvit: {
    input: (c) => {
      const { imageSize: S, channels } = c as MatViTConfig;
      return { name: 'pixel_values', elemType: DataType.FLOAT, shape: ['batch', S, S, channels] };
    },
    logits: (g, c, w, pixels) => vitForward(g, c as MatViTConfig, w, pixels).logits, // [B, K]
    feeds: (ort, { x, y }) => ({
      input: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape),
      labels: int64(ort, y, [y.size]),
    }),
    counts: (logits, labels, K) => ({ correct: correctTop1(logits, labels, K) }),
  },
};
