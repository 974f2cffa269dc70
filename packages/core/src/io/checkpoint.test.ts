import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matlmConfig, matvitConfig } from '../config';
import { CheckpointError } from '../errors';
import { extract } from '../extract';
import { MatLM } from '../models/matlm';
import { MatViT } from '../models/matvit';
import { maxAbsDiff, useBackend } from '../test-backends';
import { decodeModel, encodeModel, loadModel, saveModel } from './checkpoint';
import { encodeSafetensors, readSafetensorsFile } from './safetensors';

describe('model checkpoints', () => {
  let dir: string;
  beforeAll(async () => {
    await useBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'matformer-ckpt-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('encodeModel writes the bytes saveModel writes, and decodeModel reads them back', async () => {
    const model = MatLM.create(matlmConfig('tiny'), 6);
    const path = join(dir, 'bytes.safetensors');
    await saveModel(path, model, { note: 'x' });
    const bytes = encodeModel(model, { note: 'x' });
    expect(Buffer.from(bytes).equals(await readFile(path))).toBe(true);
    const loaded = decodeModel(bytes);
    expect(loaded).toBeInstanceOf(MatLM);
    expect(loaded.config).toEqual(model.config);
    for (const [name, v] of Object.entries(model.params))
      expect(maxAbsDiff(loaded.params[name], v), name).toBe(0);
    expect(() => decodeModel(bytes.subarray(0, 100), 'upload.safetensors')).toThrow(
      /upload\.safetensors/,
    );
    model.dispose();
    loaded.dispose();
  });

  it('round-trips a MatLM bit-exactly, config and all', async () => {
    const model = MatLM.create(matlmConfig('tiny'), 5);
    const path = join(dir, 'lm.safetensors');
    await saveModel(path, model, { note: 'hello' });
    const loaded = await loadModel(path);
    expect(loaded).toBeInstanceOf(MatLM);
    expect(loaded.config).toEqual(model.config);
    // Same key order as a fresh model (the file is sorted): reductions over all weights match.
    expect(Object.keys(loaded.params)).toEqual(Object.keys(model.params));
    for (const [name, v] of Object.entries(model.params)) {
      expect(
        Buffer.from(loaded.params[name].dataSync().buffer).equals(Buffer.from(v.dataSync().buffer)),
        name,
      ).toBe(true);
    }
    const { metadata } = await readSafetensorsFile(path);
    expect(metadata.note).toBe('hello');
    expect(JSON.parse(metadata.widths)).toEqual([64, 64]);
    model.dispose();
    loaded.dispose();
  });

  it('round-trips an extracted MatViT with its per-layer widths', async () => {
    const parent = MatViT.create(matvitConfig('tiny'), 6);
    const dense = extract(parent, [8, 32]);
    const path = join(dir, 'vit.safetensors');
    await saveModel(path, dense);
    const loaded = (await loadModel(path)) as MatViT;
    expect(loaded.config.layerDFF).toEqual([8, 32]);
    const images = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const a = parent.embed(images, [8, 32]);
    const b = loaded.embed(images);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    tf.dispose([images, a, b]);
    [parent, dense, loaded].forEach((m) => m.dispose());
  });

  it('rejects truncated, foreign, mismatched and missing files clearly, leaking no tensors', async () => {
    const model = MatLM.create(matlmConfig('tiny'), 5);
    const path = join(dir, 'good.safetensors');
    await saveModel(path, model);
    const bytes = await readFile(path);
    const small = MatLM.create(matlmConfig('tiny', { dModel: 8, nHeads: 2 }), 5);
    const before = tf.memory().numTensors;

    const truncated = join(dir, 'truncated.safetensors');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 100));
    await expect(loadModel(truncated)).rejects.toThrow(CheckpointError);

    const foreign = join(dir, 'foreign.safetensors');
    await writeFile(
      foreign,
      encodeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } }),
    );
    await expect(loadModel(foreign)).rejects.toThrow(/not a MatFormer checkpoint/);

    // Weights of one config under the metadata of another.
    const mismatched = join(dir, 'mismatched.safetensors');
    await saveModel(mismatched, small);
    const { tensors } = await readSafetensorsFile(mismatched);
    await writeFile(
      mismatched,
      encodeSafetensors(tensors, {
        format: 'matformer',
        format_version: '1',
        config: JSON.stringify(model.config),
      }),
    );
    await expect(loadModel(mismatched)).rejects.toThrow(
      /weight "tok_emb" has shape \[32, 8\], the config needs \[32, 16\]/,
    );

    const badConfig = join(dir, 'bad-config.safetensors');
    await writeFile(
      badConfig,
      encodeSafetensors(tensors, {
        format: 'matformer',
        format_version: '1',
        config: JSON.stringify({ ...model.config, nHeads: 3 }),
      }),
    );
    await expect(loadModel(badConfig)).rejects.toThrow(
      /invalid config in __metadata__: config.dModel \(16\) must be divisible/,
    );

    await expect(loadModel(join(dir, 'absent.safetensors'))).rejects.toThrow(CheckpointError);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    small.dispose();
  });

  it('saving over an existing checkpoint leaves no temp files behind', async () => {
    const model = MatLM.create(matlmConfig('tiny'), 5);
    const sub = await mkdtemp(join(dir, 'atomic-'));
    await saveModel(join(sub, 'm.safetensors'), model);
    await saveModel(join(sub, 'm.safetensors'), model);
    expect(await readdir(sub)).toEqual(['m.safetensors']);
    model.dispose();
  });
});
