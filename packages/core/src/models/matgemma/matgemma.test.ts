import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Widths } from '../../config';
import { flopsPerToken, paramCount } from '../../cost';
import { extract } from '../../extract';
import { tensorGrowth } from '../../memory';
import { toOnnx } from '../../onnx/export';
import { createSession, loadOrt } from '../../onnx/ort';
import { maxAbsDiff, testBackends, useBackend } from '../../test-backends';
import { disposeCache, type KVCache } from '../matlm/model';
import { matgemmaConfig, type MatGemmaConfig } from './config';
import { MatGemma } from './model';
import { noisyGemma } from '../../onnx/test-models';

const gemma = () => matgemmaConfig('tiny', { nLayers: 3, maxSeqLen: 32 });
const llama = () =>
  matgemmaConfig('tiny', {
    nLayers: 3,
    maxSeqLen: 32,
    nKvHeads: 1,
    headDim: 6,
    activation: 'silu',
    normOffset: false,
    embedScale: false,
    tiedEmbeddings: false,
    finalSoftcap: 5,
    ropeTheta: 500,
  });
const tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];

describe.each(testBackends)('MatGemma on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each([
    ['gemma', gemma],
    ['llama', llama],
  ])('%s: extract equals the nested forward at mixed and skipped widths', (_, make) => {
    const model = noisyGemma(make());
    const x = tf.tensor2d([tokens], [1, tokens.length], 'int32');
    for (const widths of [
      [64, 64, 64],
      [8, 32, 16],
      [16, 0, 64],
    ] as Widths[]) {
      const dense = extract(model, widths);
      const [a, b] = [model.forward(x, widths), dense.forward(x)];
      expect(maxAbsDiff(a, b), `widths [${widths}]`).toBeLessThan(1e-5);
      expect(dense.storedParamCount).toBe(paramCount(model.config, widths));
      tf.dispose([a, b]);
      dense.dispose();
    }
    const [full, small] = [model.forward(x), model.forward(x, 8)];
    expect(maxAbsDiff(full, small)).toBeGreaterThan(1e-2); // the width is really applied
    tf.dispose([x, full, small]);
    model.dispose();
  });

  it('cached decoding equals the full forward at every past length (GQA, 4 query heads on 1 kv head)', () => {
    const model = noisyGemma(llama());
    const widths = [16, 0, 64];
    const x = tf.tensor2d([tokens], [1, tokens.length], 'int32');
    const full = model.forward(x, widths); // [1, T, V]
    let cache: KVCache | undefined;
    let pos = 0;
    for (const n of [4, 1, 3, 2]) {
      const chunk = tf.tensor2d([tokens.slice(pos, pos + n)], [1, n], 'int32');
      const out = model.forwardCached(chunk, widths, cache);
      const want = full.slice([0, pos, 0], [1, n, model.config.vocabSize]);
      expect(maxAbsDiff(out.logits, want), `positions ${pos}..${pos + n}`).toBeLessThan(1e-4);
      disposeCache(cache);
      cache = out.cache;
      pos += n;
      tf.dispose([chunk, out.logits, want]);
    }
    disposeCache(cache);
    tf.dispose([x, full]);
    model.dispose();
  });

  it('leaks no tensors over forwards, cached decoding and losses', async () => {
    const model = noisyGemma(gemma());
    const x = tf.tensor2d([tokens.slice(0, 8)], [1, 8], 'int32');
    const y = tf.tensor2d([tokens.slice(1, 9)], [1, 8], 'int32');
    const growth = await tensorGrowth(() => {
      tf.dispose([model.forward(x, [8, 0, 32]), model.loss(x, y, 16)]);
      const { logits, cache } = model.forwardCached(x, 64);
      logits.dispose();
      disposeCache(cache);
      const grads = tf.variableGrads(() => model.loss(x, y, [32, 16, 64]));
      tf.dispose([grads.value, ...Object.values(grads.grads)]);
    });
    expect(growth).toEqual([0, 0, 0, 0, 0]);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('MatGemma cost model', () => {
  it('counts grouped kv projections, a gated FFN and an untied head', () => {
    const c = llama(); // C 16, H 4 × hd 6, Hkv 1, V 32
    const attn = 16 * 24 + 2 * 16 * 6 + 24 * 16; // q, k, v, o
    const layer = (m: number) => 2 * 16 + attn + 3 * 16 * m; // 2 norms, attention, gate/up/down
    expect(paramCount(c, [8, 0, 64])).toBe(32 * 16 * 2 + layer(8) + layer(64) + 16);
    const flops = (m: number) => 2 * attn + 2 * 2 * 24 * 32 + 2 * 3 * 16 * m;
    expect(flopsPerToken(c, [8, 0, 64])).toBe(flops(8) + flops(64) + 2 * 16 * 32);
  });
});

describe('MatGemma ONNX export', () => {
  beforeAll(() => useBackend('wasm'));
  afterAll(() => undefined);

  it.each([
    ['gemma', gemma, [64, 8, 32]],
    ['llama, a skipped layer', llama, [16, 0, 64]],
  ] as [string, () => MatGemmaConfig, Widths][])(
    '%s: prefill and cached steps on onnxruntime equal tfjs (< 1e-4)',
    async (_, make, widths) => {
      const model = noisyGemma(make());
      const dense = extract(model, widths);
      const ort = await loadOrt();
      const session = await createSession(toOnnx(dense).bytes, 'matgemma test');
      const c = dense.config;
      const V = c.vocabSize;
      const x = tf.tensor2d([tokens], [1, tokens.length], 'int32');
      const want = (await dense.forward(x).data()) as Float32Array; // [T·V]
      let past: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (let l = 0; l < c.nLayers; l++) {
        const empty = new ort.Tensor('float32', new Float32Array(0), [1, c.nKvHeads, 0, c.headDim]);
        past[`past_key_${l}`] = empty;
        past[`past_value_${l}`] = empty;
      }
      let pos = 0;
      for (const n of [6, 1, 1, 2]) {
        const ids = new ort.Tensor(
          'int64',
          BigInt64Array.from(tokens.slice(pos, pos + n), BigInt),
          [1, n],
        );
        const out = await session.run({ input_ids: ids, ...past });
        const got = out.logits.data as Float32Array;
        const ref = want.subarray(pos * V, (pos + n) * V);
        const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - ref[i])), 0);
        expect(worst, `positions ${pos}..${pos + n}`).toBeLessThan(1e-4);
        past = {};
        for (let l = 0; l < c.nLayers; l++) {
          past[`past_key_${l}`] = out[`present_key_${l}`];
          past[`past_value_${l}`] = out[`present_value_${l}`];
        }
        pos += n;
      }
      x.dispose();
      dense.dispose();
      model.dispose();
    },
  );
});
