import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Widths } from '../../config';
import { extract } from '../../extract';
import { matgemmaConfig, type MatGemmaConfig } from '../../models/matgemma/config';
import { MatGemma } from '../../models/matgemma/model';
import { createModel } from '../../models/registry';
import { matlmConfig } from '../../models/matlm/config';
import { maxAbsDiff, useBackend } from '../../test-backends';
import { loadHFModel, saveHFModel } from './model';
import { sliceHFDirectory } from './slice';
import { useTempDir } from './test-helpers';
import { noisyGemma } from '../../onnx/test-models';

const tempDir = useTempDir();

const gemma = () => matgemmaConfig('tiny', { nLayers: 4, maxSeqLen: 32 });
const llama = () =>
  matgemmaConfig('tiny', {
    nLayers: 4,
    maxSeqLen: 32,
    nKvHeads: 1,
    headDim: 6,
    activation: 'silu',
    normOffset: false,
    embedScale: false,
    tiedEmbeddings: false,
    ropeTheta: 500,
  });
const tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];

describe('HF directories as models', () => {
  beforeAll(() => useBackend('cpu'));

  it.each([
    ['gemma', gemma],
    ['llama', llama],
  ])(
    '%s: a streamed slice loads as the model extract() gives at the same widths',
    async (_, make) => {
      const root = tempDir();
      const model = noisyGemma(make());
      await saveHFModel(join(root, 'full'), model);
      const x = tf.tensor2d([tokens], [1, tokens.length], 'int32');
      const reloaded = await loadHFModel(join(root, 'full'));
      const [a, b] = [model.forward(x), reloaded.forward(x)];
      expect(maxAbsDiff(a, b)).toBe(0);
      tf.dispose([a, b]);
      for (const widths of [
        [8, 32, 16, 64],
        [16, 0, 64, 0],
      ] as Widths[]) {
        const dir = join(root, widths.join('-'));
        await sliceHFDirectory(join(root, 'full'), dir, widths);
        const sliced = await loadHFModel(dir);
        const dense = extract(model, widths);
        expect(sliced.config).toEqual(dense.config);
        const [want, got] = [dense.forward(x), sliced.forward(x)];
        expect(maxAbsDiff(want, got), `widths [${widths}]`).toBe(0);
        const nested = model.forward(x, widths);
        expect(maxAbsDiff(nested, got)).toBeLessThan(1e-5);
        tf.dispose([want, got, nested]);
        sliced.dispose();
        dense.dispose();
      }
      x.dispose();
      model.dispose();
      reloaded.dispose();
    },
  );

  it('a padded export of an extracted model gives its logits; a BF16 one close to them', async () => {
    const root = tempDir();
    const model = extract(noisyGemma(gemma()), [8, 0, 64, 16]);
    const x = tf.tensor2d([tokens], [1, tokens.length], 'int32');
    await saveHFModel(join(root, 'padded'), model, { intermediateSize: 'padded' });
    await saveHFModel(join(root, 'bf16'), model, { dtype: 'BF16' });
    const want = model.forward(x);
    const padded = await loadHFModel(join(root, 'padded'));
    const bf16 = await loadHFModel(join(root, 'bf16'));
    const [p, h] = [padded.forward(x), bf16.forward(x)];
    expect(maxAbsDiff(want, p)).toBe(0);
    const err = maxAbsDiff(want, h);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(0.5); // 8-bit mantissas on N(0, 0.5) weights
    tf.dispose([x, want, p, h]);
  });

  it('refuses to export a family with no transformers counterpart', async () => {
    const model = createModel(matlmConfig('tiny'));
    await expect(saveHFModel(join(tempDir(), 'x'), model)).rejects.toThrow(
      /cannot export a matlm as a Hugging Face directory: only matgemma/,
    );
    model.dispose();
  });
});
