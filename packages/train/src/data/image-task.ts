import * as tf from '@tensorflow/tfjs';
import { ConfigError, type MatViT, type Widths } from '@matformer/core';
import type { Rng } from '@matformer/core';
import type { Task } from '../task';
import { datasetSize, type ImageDataset } from './image-dataset';

export interface ImageBatch {
  x: tf.Tensor4D; // [B, H, W, C]
  y: tf.Tensor1D; // [B] class ids
}

export interface ImageTaskOptions {
  batchSize: number;
  /** Random translation of training images by up to this many pixels per axis (0 = none). */
  maxShift?: number;
  /** Held-out images evaluated (default: all of the test split). */
  evalExamples?: number;
}

/** Copies images `indices` into a batch, each shifted by (dx, dy) with zero fill. */
function gather(d: ImageDataset, indices: number[], shifts?: [number, number][]): ImageBatch {
  const { height: H, width: W, channels: C } = d;
  const px = H * W * C;
  const out = new Float32Array(indices.length * px);
  indices.forEach((src, i) => {
    const [dx, dy] = shifts?.[i] ?? [0, 0];
    for (let y = 0; y < H; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= H) continue;
      for (let x = 0; x < W; x++) {
        const sx = x - dx;
        if (sx < 0 || sx >= W) continue;
        for (let c = 0; c < C; c++)
          out[i * px + (y * W + x) * C + c] = d.images[src * px + (sy * W + sx) * C + c];
      }
    }
  });
  return {
    x: tf.tensor4d(out, [indices.length, H, W, C]),
    y: tf.tensor1d(
      Int32Array.from(indices, (i) => d.labels[i]),
      'int32',
    ),
  };
}

/** Image classification for a MatViT: random (optionally shifted) training batches, fixed test batches. */
export function imageTask(
  model: MatViT,
  data: { train: ImageDataset; test: ImageDataset },
  { batchSize, maxShift = 0, evalExamples }: ImageTaskOptions,
): Task<ImageBatch> {
  const c = model.config;
  for (const [split, d] of Object.entries(data)) {
    if (d.height !== c.imageSize || d.width !== c.imageSize || d.channels !== c.channels) {
      throw new ConfigError(
        `${split} images are ${d.height}×${d.width}×${d.channels}; the model takes ${c.imageSize}×${c.imageSize}×${c.channels}`,
      );
    }
    if (d.classes.length > c.numClasses)
      throw new ConfigError(
        `${split} data has ${d.classes.length} classes; the model's head has ${c.numClasses}`,
      );
    if (datasetSize(d) === 0) throw new ConfigError(`${split} split is empty`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`);
  const nEval = Math.min(evalExamples ?? datasetSize(data.test), datasetSize(data.test));
  let evalCache: ImageBatch[] | undefined;
  return {
    model,
    splittable: true,
    unit: 'images',
    unitsPerBatch: batchSize,
    nextBatch(rng: Rng) {
      const idx = Array.from({ length: batchSize }, () => rng.int(datasetSize(data.train)));
      const shifts =
        maxShift > 0
          ? idx.map(
              () =>
                [rng.int(2 * maxShift + 1) - maxShift, rng.int(2 * maxShift + 1) - maxShift] as [
                  number,
                  number,
                ],
            )
          : undefined;
      return gather(data.train, idx, shifts);
    },
    loss: (b: ImageBatch, widths: Widths) => model.loss(b.x, b.y, widths),
    evalBatches() {
      if (!evalCache) {
        evalCache = [];
        for (let i = 0; i < nEval; i += batchSize)
          evalCache.push(
            gather(
              data.test,
              Array.from({ length: Math.min(batchSize, nEval - i) }, (_, j) => i + j),
            ),
          );
      }
      return evalCache;
    },
    evalCounts(b: ImageBatch, widths: Widths) {
      const correct = tf.tidy(
        () => model.forward(b.x, widths).argMax(1).equal(b.y).sum().dataSync()[0],
      );
      return { correct };
    },
    batchExamples: (b: ImageBatch) => b.y.shape[0],
    disposeBatch: (b: ImageBatch) => {
      if (!evalCache?.includes(b)) tf.dispose([b.x, b.y]);
    },
    dispose() {
      evalCache?.forEach((b) => tf.dispose(Object.values(b)));
      evalCache = undefined;
    },
    describe: () => ({
      kind: 'images',
      train: data.train.name,
      test: data.test.name,
      trainExamples: datasetSize(data.train),
      testExamples: nEval,
      batchSize,
      maxShift,
    }),
  };
}
