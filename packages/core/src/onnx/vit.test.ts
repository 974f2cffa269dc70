import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matvitConfig, type Widths } from '../config';
import type { MatViT } from '../models/matvit';
import { useBackend } from '../test-backends';
import { toOnnx, type Opset } from './export';
import { noisyViT } from './test-models';
import { OnnxViTEncoder } from './vit-encoder';

const maxDiff = (a: Float32Array, b: Float32Array): number => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
};

describe.each(['cls', 'mean'] as const)('MatViT (%s pool) ONNX export + OnnxViTEncoder', (pool) => {
  const config = matvitConfig('tiny', { pool });
  const B = 3;
  let model: MatViT;
  let images: tf.Tensor4D;
  let pixels: Float32Array;
  beforeAll(async () => {
    await useBackend('wasm');
    model = noisyViT(config, 3);
    images = tf.randomUniform([B, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    pixels = images.dataSync() as Float32Array;
  });
  afterAll(() => {
    model.dispose();
    images.dispose();
  });

  const cases: [Widths, Opset][] = [
    [[64, 64], 17],
    [[8, 32], 17],
    [[16, 64], 20],
  ];
  it.each(cases)(
    'widths %j, opset %i: embeddings and logits match tfjs (< 1e-4)',
    async (widths, opset) => {
      const encoder = await OnnxViTEncoder.fromBytes(toOnnx(model, { widths, opset }).bytes);
      const { embedding, logits } = await encoder.run(pixels, B);
      const [refEmb, refLogits] = tf.tidy(() => [
        model.embed(images, widths).dataSync() as Float32Array,
        model.forward(images, widths).dataSync() as Float32Array,
      ]);
      expect(maxDiff(embedding, refEmb)).toBeLessThan(1e-4);
      expect(maxDiff(logits, refLogits)).toBeLessThan(1e-4);
      expect(encoder.dim).toBe(config.dModel);
      // Each image alone gives the same rows: the batch axis is really dynamic.
      const one = await encoder.embed(pixels.subarray(28 * 28, 2 * 28 * 28), 1);
      expect(maxDiff(one, embedding.subarray(config.dModel, 2 * config.dModel))).toBeLessThan(1e-5);
      await expect(encoder.run(pixels, 2)).rejects.toThrow(/pixels must hold batch/);
      encoder.dispose();
    },
  );
});
