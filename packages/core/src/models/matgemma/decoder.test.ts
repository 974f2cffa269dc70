import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Widths } from '../../config';
import { TfjsLMEngine } from '../../decoding/tfjs-engine';
import { extract } from '../../extract';
import { OnnxDecoderEngine } from '../../onnx/decoder-engine';
import { decoderUnsupported } from '../../onnx/lm-decoder';
import { useBackend } from '../../test-backends';
import { matgemmaConfig, type MatGemmaConfig } from './config';
import { MatGemma } from './model';
import { noisyGemma } from '../../onnx/test-models';

const maxDiff = (a: Float32Array, b: Float32Array): number => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
};
const argmax = (row: Float32Array): number =>
  row.reduce((best, x, i) => (x > row[best] ? i : best), 0);

// Head size 8 (GroupQueryAttention needs a multiple of 8); 4 query heads on 2 (or 1) kv heads.
const gemma = () => matgemmaConfig('tiny', { nLayers: 3, headDim: 8, maxSeqLen: 40 });
const llama = () =>
  matgemmaConfig('tiny', {
    nLayers: 3,
    headDim: 8,
    nKvHeads: 1,
    maxSeqLen: 40,
    activation: 'silu',
    normOffset: false,
    embedScale: false,
    tiedEmbeddings: false,
    finalSoftcap: 5,
    ropeTheta: 500,
  });

describe('MatGemma decoder graph (RotaryEmbedding + GroupQueryAttention) + OnnxDecoderEngine', () => {
  beforeAll(() => useBackend('wasm'));
  afterAll(() => undefined);
  const prompt = [3, 1, 4, 1, 5, 9];

  const cases: [string, () => MatGemmaConfig, Widths, boolean][] = [
    ['gemma, full width, fused contrib ops', gemma, [64, 64, 64], true],
    ['gemma, mixed, plain ops', gemma, [8, 64, 16], false],
    ['llama (one kv head, SwiGLU, soft-cap), a skipped layer, fused', llama, [32, 0, 16], true],
    ['llama, mixed, plain ops', llama, [16, 64, 8], false],
  ];
  it.each(cases)(
    '%s: prefill, verification-sized chunks and single steps match tfjs (< 1e-4) at every past length',
    async (_, make, widths, fused) => {
      const model = noisyGemma(make(), 3);
      const V = model.config.vocabSize;
      const ref = new TfjsLMEngine(extract(model, widths));
      const dec = await OnnxDecoderEngine.fromModel(model, { widths, fused, intraOpNumThreads: 1 });
      let a = await ref.forward(prompt);
      let b = await dec.forward(prompt);
      expect(maxDiff(b.logits, a.logits)).toBeLessThan(1e-4);
      for (const T of [3, 1, 4, 1, 1, 1, 2, 1, 1]) {
        const next = argmax(a.logits.subarray(a.logits.length - V));
        const toks = Array.from({ length: T }, (_, i) => (next + 5 * i) % V);
        const [a2, b2] = [await ref.forward(toks, a.state), await dec.forward(toks, b.state)];
        expect(maxDiff(b2.logits, a2.logits), `past ${ref.length(a.state)}, T ${T}`).toBeLessThan(
          1e-4,
        );
        ref.release(a.state);
        dec.release(b.state);
        [a, b] = [a2, b2];
      }
      // Roll back three positions (a rejected draft) and continue: still the same model.
      const back = [
        ref.truncate(a.state, ref.length(a.state) - 3),
        dec.truncate(b.state, dec.length(b.state) - 3),
      ] as const;
      const [a3, b3] = [await ref.forward([7, 2], back[0]), await dec.forward([7, 2], back[1])];
      expect(maxDiff(b3.logits, a3.logits)).toBeLessThan(1e-4);
      dec.dispose();
      ref.model.dispose();
      ref.dispose();
      model.dispose();
    },
  );

  it('int8 weights (drafts): close to the float model, not equal', async () => {
    const model = noisyGemma(gemma(), 4, 0.2); // weights of a trained model's size
    const ref = new TfjsLMEngine(model, [16, 64, 32]);
    const q = await OnnxDecoderEngine.fromModel(model, { widths: [16, 64, 32], quantize: 'int8' });
    expect(q.quantize).toBe('int8');
    const [a, b] = [await ref.forward(prompt), await q.forward(prompt)];
    const scale = a.logits.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const diff = maxDiff(b.logits, a.logits);
    expect(diff).toBeGreaterThan(1e-5);
    expect(diff / scale).toBeLessThan(0.1);
    q.dispose();
    ref.dispose();
    model.dispose();
  });

  it('a head size GroupQueryAttention cannot take is refused by name', () => {
    expect(decoderUnsupported(matgemmaConfig('tiny'))).toMatch(/multiple of 8; the model's is 4/);
  });
});
