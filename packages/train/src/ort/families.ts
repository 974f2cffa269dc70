import type * as tf from '@tensorflow/tfjs';
import { familyOf, type ModelConfig } from '@matformer/core';
import { DataType, type Dim, type GraphBuilder, type WeightFn } from '@matformer/core/onnx';
import type * as Ort from 'onnxruntime-node';

/** Graph input name of the integer targets. */
export const LABELS = 'labels';

/** A batch as the splittable tasks make it: inputs and integer targets. */
export interface XYBatch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/** The model input's graph name, element type and (dynamic) shape: the family's own. */
export function modelInput(config: ModelConfig): { name: string; elemType: number; shape: Dim[] } {
  const { name, type, shape } = familyOf(config).onnx.input(config);
  return { name, elemType: type === 'int64' ? DataType.INT64 : DataType.FLOAT, shape };
}

/** Logits [targets, classes] of the family's forward graph (the graph export and serving use). */
export function modelLogits(
  g: GraphBuilder,
  config: ModelConfig,
  w: WeightFn,
  input: string,
): string {
  return familyOf(config).onnx.forward(g, config, w, input).logits;
}

const int64 = (ort: typeof Ort, t: tf.Tensor, dims: readonly number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(t.dataSync() as Int32Array, BigInt), dims);

/** onnxruntime tensors of a batch: the model input as the family declares it, flattened int64 targets. */
export function batchFeeds(
  ort: typeof Ort,
  config: ModelConfig,
  { x, y }: XYBatch,
): Record<string, Ort.Tensor> {
  const input = modelInput(config);
  return {
    [input.name]:
      input.elemType === DataType.INT64
        ? int64(ort, x, x.shape)
        : new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape),
    [LABELS]: int64(ort, y, [y.size]),
  };
}

/** How many rows of logits [N, K] have their largest entry at the label (top-1 correct). */
export function correctTop1(logits: Float32Array, labels: ArrayLike<number>, K: number): number {
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[r * K + k] > logits[r * K + best]) best = k;
    if (best === labels[r]) correct++;
  }
  return correct;
}
