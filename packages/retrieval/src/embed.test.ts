import * as tf from '@tensorflow/tfjs';
import { MatViT, matvitConfig, selectBackend, tensorGrowth } from '@matformer/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { embedImages } from './embed';
import { seededRandom } from './test-fixtures';

const config = matvitConfig('tiny'); // 28×28×1, dModel 16, granularities [8, 16, 32, 64]
const px = 28 * 28;

function images(n: number, seed = 1): Float32Array {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: n * px }, () => rand());
}

describe('embedImages', () => {
  let model: MatViT;
  beforeAll(async () => {
    await selectBackend('wasm');
    model = MatViT.create(config, 0);
  });

  it('returns unit-norm [N, C] rows equal to model.embed, for any widths and batch size', async () => {
    const x = images(7);
    for (const widths of [undefined, 8, [8, 64]]) {
      const e = await embedImages(model, x, { widths, batchSize: 3 });
      expect([e.count, e.dim, e.vectors.length]).toEqual([7, 16, 7 * 16]);
      const ref = tf.tidy(() => {
        const r = model.embed(tf.tensor4d(x, [7, 28, 28, 1]), widths);
        return r.div(r.norm('euclidean', 1, true)).dataSync() as Float32Array;
      });
      for (let i = 0; i < ref.length; i++) expect(e.vectors[i]).toBeCloseTo(ref[i], 4);
      for (let i = 0; i < 7; i++) {
        const row = e.vectors.subarray(i * 16, (i + 1) * 16);
        expect(Math.hypot(...row)).toBeCloseTo(1, 5);
      }
    }
    const small = await embedImages(model, x, { widths: 8 });
    const full = await embedImages(model, x);
    expect(Array.from(small.vectors)).not.toEqual(Array.from(full.vectors));
  });

  it('leaves no tensor behind over repeated calls', async () => {
    const x = images(5, 2);
    const growth = await tensorGrowth(() => embedImages(model, x, { widths: 16, batchSize: 2 }), {
      warmup: 1,
      steps: 4,
    });
    expect(growth).toEqual([0, 0, 0, 0]);
    const before = tf.memory().numTensors;
    await expect(embedImages(model, x, { widths: 5 })).rejects.toThrow(
      /widths\[0\] = 5 is out of range/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects images that do not fit the model', async () => {
    await expect(embedImages(model, new Float32Array(px + 1))).rejects.toThrow(
      /not a whole number of 28×28×1 images/,
    );
    await expect(embedImages(model, [0.5] as never)).rejects.toThrow(/must be a Float32Array/);
    await expect(embedImages(model, images(1), { batchSize: 0 })).rejects.toThrow(
      /batchSize must be a positive integer/,
    );
  });
});
