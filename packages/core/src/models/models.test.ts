import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matlmConfig, matvitConfig } from '../config';
import { extract } from '../extract';
import { tensorGrowth } from '../memory';
import { maxAbsDiff, testBackends, useBackend } from '../test-backends';
import { cacheLength, disposeCache, MatLM, truncateCache, type KVCache } from './matlm';
import { MatViT } from './matvit';

const widthCases: [string, number | number[]][] = [
  ['uniform smallest', 8],
  ['uniform 32', 32],
  ['full', 64],
  ['mixed per layer', [8, 64]],
  ['mixed, shrinking', [32, 16]],
];

describe.each(testBackends)('MatLM on %s', (backend) => {
  let model: MatLM;
  let tokens: tf.Tensor2D;
  beforeAll(async () => {
    await useBackend(backend);
    model = MatLM.create(matlmConfig('tiny'), 1);
    tokens = tf.tensor2d(
      [
        [1, 5, 9, 2, 31, 0, 7, 7, 3, 12],
        [4, 4, 8, 30, 1, 2, 3, 0, 9, 10],
      ],
      undefined,
      'int32',
    );
  });
  afterAll(() => {
    model.dispose();
    tokens.dispose();
  });

  it('produces logits [B, T, V]', () => {
    const logits = model.forward(tokens, 16);
    expect(logits.shape).toEqual([2, 10, 32]);
    logits.dispose();
  });

  it.each(widthCases)('extract (%s) equals the nested forward', (_name, widths) => {
    const dense = extract(model, widths);
    const expected = model.forward(tokens, widths);
    const got = dense.forward(tokens);
    expect(maxAbsDiff(expected, got)).toBeLessThan(1e-5);
    // The dense model stores only what those widths use.
    const w = model.resolveWidths(widths);
    w.forEach((m, l) => expect(dense.params[`blocks.${l}.ffn.fc1.weight`].shape).toEqual([m, 16]));
    tf.dispose([expected, got]);
    dense.dispose();
  });

  it('an extracted model stands alone: it works after its parent is disposed', () => {
    const parent = MatLM.create(matlmConfig('tiny'), 2);
    const expected = parent.forward(tokens, [16, 8]);
    const dense = extract(parent, [16, 8]);
    parent.dispose();
    const got = dense.forward(tokens);
    expect(maxAbsDiff(expected, got)).toBeLessThan(1e-5);
    // Still nested: it runs at any granularity below what it stores.
    const smaller = dense.forward(tokens, [8, 8]);
    expect(smaller.shape).toEqual([2, 10, 32]);
    tf.dispose([expected, got, smaller]);
    dense.dispose();
  });

  it('different widths give different outputs (the width is really applied)', () => {
    const a = model.forward(tokens, 8);
    const b = model.forward(tokens, 64);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-4);
    tf.dispose([a, b]);
  });

  it.each([[8], [[16, 64]]])('KV-cache decoding equals the full forward at widths %j', (widths) => {
    const full = model.forward(tokens, widths as number | number[]); // [B, T, V]
    const T = tokens.shape[1];
    // Prefill 4 positions, then feed one token at a time.
    let { logits, cache } = model.forwardCached(tokens.slice([0, 0], [2, 4]), widths as number);
    const pieces = [logits];
    for (let t = 4; t < T; t++) {
      const step = model.forwardCached(tokens.slice([0, t], [2, 1]), widths as number, cache);
      disposeCache(cache);
      cache = step.cache;
      pieces.push(step.logits);
    }
    expect(cacheLength(cache)).toBe(T);
    const incremental = tf.concat(pieces, 1);
    expect(maxAbsDiff(full, incremental)).toBeLessThan(1e-5);
    tf.dispose([full, incremental, ...pieces]);
    disposeCache(cache);
  });

  it('a truncated cache resumes exactly where it was cut (speculative rollback)', () => {
    const { logits: l1, cache: c1 } = model.forwardCached(tokens.slice([0, 0], [2, 6]));
    const cut = truncateCache(c1, 3);
    const { logits: l2, cache: c2 } = model.forwardCached(
      tokens.slice([0, 3], [2, 3]),
      undefined,
      cut,
    );
    expect(maxAbsDiff(l1.slice([0, 3, 0], [2, 3, 32]), l2)).toBeLessThan(1e-5);
    tf.dispose([l1, l2]);
    [c1, cut, c2].forEach((c: KVCache) => disposeCache(c));
  });

  it('rejects sequences past maxSeqLen and out-of-range widths clearly', () => {
    const long = tf.zeros([1, 17], 'int32') as tf.Tensor2D;
    expect(() => model.forward(long)).toThrow(/17 positions exceeds maxSeqLen 16/);
    expect(() => model.forward(tokens, 12)).toThrow(/widths\[0\] = 12 is out of range/);
    long.dispose();
  });

  it('leaks no tensors over repeated forwards, cached decoding and losses', async () => {
    const growth = await tensorGrowth(() => {
      const logits = model.forward(tokens, [8, 32]);
      logits.dispose();
      const [prompt, next] = [tokens.slice([0, 0], [2, 3]), tokens.slice([0, 3], [2, 1])];
      const { logits: l, cache } = model.forwardCached(prompt);
      const step = model.forwardCached(next, undefined, cache);
      tf.dispose([l, step.logits, prompt, next]);
      disposeCache(cache);
      disposeCache(step.cache);
      model.loss(tokens, tokens, 16).dispose();
    });
    expect(growth).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('initialisation', () => {
  beforeAll(() => useBackend(testBackends[0]));
  const weights = (m: MatLM | MatViT) =>
    Object.fromEntries(Object.entries(m.params).map(([n, v]) => [n, Array.from(v.dataSync())]));

  it.each([0, 1, 7])('seed %i gives the same weights every time, every one of them', (seed) => {
    for (const create of [
      (s: number) => MatLM.create(matlmConfig('tiny'), s),
      (s: number) => MatViT.create(matvitConfig('tiny'), s),
    ]) {
      const [a, b] = [create(seed), create(seed)];
      try {
        expect(weights(a)).toEqual(weights(b));
      } finally {
        a.dispose();
        b.dispose();
      }
    }
  });

  it('different seeds give different random weights', () => {
    const [a, b] = [MatLM.create(matlmConfig('tiny'), 0), MatLM.create(matlmConfig('tiny'), 1)];
    try {
      const [wa, wb] = [weights(a), weights(b)];
      const random = Object.keys(wa).filter((n) => n.endsWith('weight') && !/(^|\.)ln/.test(n));
      expect(random.length).toBeGreaterThan(4);
      for (const n of random) expect(wa[n], n).not.toEqual(wb[n]);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe.each(testBackends)('MatViT on %s', (backend) => {
  let model: MatViT;
  let images: tf.Tensor4D;
  beforeAll(async () => {
    await useBackend(backend);
    model = MatViT.create(matvitConfig('tiny'), 3);
    images = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
  });
  afterAll(() => {
    model.dispose();
    images.dispose();
  });

  it('gives logits [B, K] and embeddings [B, C]', () => {
    const logits = model.forward(images, 8);
    const emb = model.embed(images, [8, 64]);
    expect(logits.shape).toEqual([3, 10]);
    expect(emb.shape).toEqual([3, 16]);
    tf.dispose([logits, emb]);
  });

  it.each(widthCases)('extract (%s) equals the nested forward and embedding', (_name, widths) => {
    const dense = extract(model, widths);
    const pairs = [
      [model.forward(images, widths), dense.forward(images)],
      [model.embed(images, widths), dense.embed(images)],
    ];
    for (const [a, b] of pairs) expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    tf.dispose(pairs.flat());
    dense.dispose();
  });

  it('patchify lays patches out row-major, pixels row-major within a patch', () => {
    const img = tf.range(0, 28 * 28).reshape([1, 28, 28, 1]) as tf.Tensor4D;
    const patches = model.patchify(img).arraySync()[0]; // [16, 49]
    // Patch 1 is the second patch of the first row: rows 0..6, columns 7..13.
    expect(patches[1].slice(0, 7)).toEqual([7, 8, 9, 10, 11, 12, 13]);
    expect(patches[1][7]).toBe(28 + 7);
    expect(patches[4][0]).toBe(7 * 28); // first patch of the second row
    img.dispose();
  });

  it('mean pooling is supported and differs from the class token', () => {
    const meanModel = new MatViT({ ...model.config, pool: 'mean' }, extract(model).params);
    const a = model.embed(images);
    const b = meanModel.embed(images);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-4);
    tf.dispose([a, b]);
    meanModel.dispose();
  });

  it('rejects images of the wrong shape', () => {
    const bad = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    expect(() => model.forward(bad)).toThrow(
      /images must be \[batch, 28, 28, 1\], got \[1, 32, 32, 1\]/,
    );
    bad.dispose();
  });

  it('leaks no tensors over repeated forwards', async () => {
    const labels = tf.tensor1d([1, 2, 3], 'int32');
    const growth = await tensorGrowth(() => {
      tf.dispose([model.forward(images, [8, 16]), model.embed(images), model.loss(images, labels)]);
    });
    expect(growth).toEqual([0, 0, 0, 0, 0]);
    labels.dispose();
  });
});
