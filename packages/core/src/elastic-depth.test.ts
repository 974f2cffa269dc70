import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matlmConfig, matvitConfig, resolveWidths } from './config';
import { validateConfig } from './models/registry';
import { flopsPerToken, paramCount } from './cost';
import { TfjsLMEngine } from './decoding/tfjs-engine';
import { extract } from './extract';
import { loadModel, saveModel } from './io/checkpoint';
import { tensorGrowth } from './memory';
import { cacheLength, disposeCache, MatLM, truncateCache } from './models/matlm';
import { MatViT } from './models/matvit';
import { maxAbsDiff, testBackends, useBackend } from './test-backends';
import type { Params } from './weights';

// Three layers, so a skipped one can sit first, in the middle or last.
const config3 = matlmConfig('tiny', { nLayers: 3 });

/** A model of only `layers` of the parent, built by hand (copies, renumbered), not by extract. */
function withoutSkipped(parent: MatLM, layers: number[]): MatLM {
  const params: Params = {};
  for (const [name, v] of Object.entries(parent.params)) {
    const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
    if (!m) params[name] = tf.variable(v.clone());
    else if (layers.includes(Number(m[1])))
      params[`blocks.${layers.indexOf(Number(m[1]))}.${m[2]}`] = tf.variable(v.clone());
  }
  return new MatLM({ ...parent.config, nLayers: layers.length }, params);
}

describe('widths with skipped layers (0)', () => {
  it('resolveWidths accepts 0 per layer, keeps it out of granularities, names the allowed values', () => {
    expect(resolveWidths(config3, [16, 0, 64])).toEqual([16, 0, 64]);
    expect(config3.granularities).not.toContain(0);
    expect(() => resolveWidths(config3, [16, 12, 64])).toThrow(
      'widths[1] = 12 is out of range; layer 1 allows [8, 16, 32, 64], or 0 to skip the layer',
    );
    expect(() => resolveWidths(config3, [0, 0, 0])).toThrow(/skip every layer/);
    expect(() => resolveWidths(config3, 0)).toThrow(/skip every layer/);
    expect(() => resolveWidths(config3, [16, -1, 64])).toThrow(/widths\[1\] = -1 is out of range/);
  });

  it('validates config.sourceLayers', () => {
    const ok = { ...config3, nLayers: 2, sourceLayers: [0, 2] };
    expect(validateConfig(ok).sourceLayers).toEqual([0, 2]);
    expect(() => validateConfig({ ...ok, sourceLayers: [2, 0] })).toThrow(
      /config.sourceLayers must list 2 ascending layer indices/,
    );
    expect(() => validateConfig({ ...ok, sourceLayers: [0] })).toThrow(/config.sourceLayers/);
  });

  it('the cost model counts a skipped layer as 0 params and 0 FLOPs', () => {
    const two = matlmConfig('tiny', { nLayers: 2 });
    expect(paramCount(config3, [16, 0, 64])).toBe(paramCount(two, [16, 64]));
    expect(flopsPerToken(config3, [16, 0, 64])).toBe(flopsPerToken(two, [16, 64]));
    expect(paramCount(config3, [16, 0, 64])).toBeLessThan(paramCount(config3, [16, 8, 64]));
  });
});

describe.each(testBackends)('elastic depth on %s', (backend) => {
  let model: MatLM;
  let tokens: tf.Tensor2D;
  beforeAll(async () => {
    await useBackend(backend);
    model = MatLM.create(config3, 3);
    tokens = tf.tensor2d(
      [
        [1, 5, 9, 2, 31, 0, 7, 7],
        [4, 4, 8, 30, 1, 2, 3, 0],
      ],
      undefined,
      'int32',
    );
  });
  afterAll(() => {
    model.dispose();
    tokens.dispose();
  });

  it.each([
    [
      [16, 0, 64],
      [0, 2],
    ],
    [
      [0, 32, 8],
      [1, 2],
    ],
    [
      [64, 64, 0],
      [0, 1],
    ],
  ])(
    'a skipped layer is really skipped: widths %j equal a model built without it',
    (widths, kept) => {
      const without = withoutSkipped(model, kept);
      const expected = without.forward(
        tokens,
        kept.map((l) => widths[l]),
      );
      const got = model.forward(tokens, widths);
      expect(maxAbsDiff(expected, got)).toBeLessThan(1e-5);
      // And skipping changes the output (the layer did something).
      const full = model.forward(
        tokens,
        widths.map((m) => m || 64),
      );
      expect(maxAbsDiff(full, got)).toBeGreaterThan(1e-4);
      tf.dispose([expected, got, full]);
      without.dispose();
    },
  );

  it('extract drops skipped layers, renumbers blocks, records sourceLayers, equals the nested forward', () => {
    const widths = [16, 0, 64];
    const dense = extract(model, widths);
    expect(dense.config.nLayers).toBe(2);
    expect(dense.config.layerDFF).toEqual([16, 64]);
    expect(dense.config.sourceLayers).toEqual([0, 2]);
    expect(Object.keys(dense.params).filter((n) => n.startsWith('blocks.2'))).toEqual([]);
    expect(dense.params['blocks.1.ffn.fc1.weight'].shape).toEqual([64, 16]);
    expect(dense.storedParamCount).toBe(paramCount(config3, widths));
    expect(paramCount(dense.config)).toBe(dense.storedParamCount);
    const expected = model.forward(tokens, widths);
    const got = dense.forward(tokens);
    expect(maxAbsDiff(expected, got)).toBeLessThan(1e-5);
    // A second extraction composes: its sourceLayers name the original model's layers.
    const again = extract(dense, [0, 8]);
    expect(again.config.sourceLayers).toEqual([2]);
    const ref = model.forward(tokens, [0, 0, 8]);
    const out = again.forward(tokens);
    expect(maxAbsDiff(ref, out)).toBeLessThan(1e-5);
    tf.dispose([expected, got, ref, out]);
    dense.dispose();
    again.dispose();
  });

  it('extract without skipped layers leaves sourceLayers unset', () => {
    const dense = extract(model, [8, 16, 32]);
    expect(dense.config.sourceLayers).toBeUndefined();
    dense.dispose();
  });

  it.each([[[0, 16, 64]], [[16, 0, 64]]])(
    'KV-cache decoding with widths %j equals the full forward; rollback keeps skipped layers empty',
    (widths) => {
      const full = model.forward(tokens, widths); // [B, T, V]
      let { logits, cache } = model.forwardCached(tokens.slice([0, 0], [2, 3]), widths);
      const pieces = [logits];
      for (let t = 3; t < tokens.shape[1]; t++) {
        const step = model.forwardCached(tokens.slice([0, t], [2, 1]), widths, cache);
        disposeCache(cache);
        cache = step.cache;
        pieces.push(step.logits);
      }
      expect(cacheLength(cache)).toBe(tokens.shape[1]);
      widths.forEach((m, l) => expect(cache.layers[l].k.shape[2]).toBe(m ? 8 : 0));
      const incremental = tf.concat(pieces, 1);
      expect(maxAbsDiff(full, incremental)).toBeLessThan(1e-5);
      const cut = truncateCache(cache, 5);
      expect(cacheLength(cut)).toBe(5);
      tf.dispose([full, incremental, ...pieces]);
      disposeCache(cache);
      disposeCache(cut);
    },
  );

  it('a cache built at other skipped layers is refused clearly', () => {
    const { logits, cache } = model.forwardCached(tokens.slice([0, 0], [2, 3]), [16, 0, 64]);
    expect(() => model.forwardCached(tokens.slice([0, 3], [2, 1]), [16, 16, 64], cache)).toThrow(
      /cache layer 1 holds 0 positions, expected 3: .*caches are per-widths/,
    );
    logits.dispose();
    disposeCache(cache);
  });

  it('TfjsLMEngine decodes with a skipped layer', async () => {
    const engine = new TfjsLMEngine(model, [0, 8, 64]);
    const a = await engine.forward([1, 2, 3]);
    const b = await engine.forward([4], a.state);
    expect(engine.length(b.state)).toBe(4);
    expect(b.logits.length).toBe(32);
    engine.release(a.state);
    engine.release(b.state);
  });

  it('leaks no tensors with skipped layers', async () => {
    const growth = await tensorGrowth(() => {
      tf.dispose(model.forward(tokens, [16, 0, 8]));
      const { logits, cache } = model.forwardCached(tokens, [0, 0, 8]);
      logits.dispose();
      disposeCache(cache);
    });
    expect(growth).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('elastic depth: MatViT and checkpoints', () => {
  let dir: string;
  beforeAll(async () => {
    await useBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'elastic-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a MatViT with a skipped layer equals its extracted model, and the cost model its weights', () => {
    const vit = MatViT.create(matvitConfig('tiny', { nLayers: 3 }), 4);
    const images = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const widths = [32, 0, 16];
    const dense = extract(vit, widths);
    const expected = vit.forward(images, widths);
    const got = dense.forward(images);
    expect(maxAbsDiff(expected, got)).toBeLessThan(1e-5);
    expect(dense.storedParamCount).toBe(paramCount(vit.config, widths));
    tf.dispose([images, expected, got]);
    vit.dispose();
    dense.dispose();
  });

  it('an extracted model with dropped layers saves and loads with its sourceLayers', async () => {
    const model = MatLM.create(config3, 6);
    const dense = extract(model, [0, 32, 8]);
    const path = join(dir, 'dense.safetensors');
    await saveModel(path, dense);
    const loaded = await loadModel(path);
    expect(loaded.config.sourceLayers).toEqual([1, 2]);
    expect(loaded.config.nLayers).toBe(2);
    const tokens = tf.tensor2d([[1, 2, 3, 4]], undefined, 'int32');
    const a = model.forward(tokens, [0, 32, 8]);
    const b = (loaded as MatLM).forward(tokens);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    tf.dispose([tokens, a, b]);
    [model, dense, loaded].forEach((m) => m.dispose());
  });
});
