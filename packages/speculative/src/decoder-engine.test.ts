import * as tf from '@tensorflow/tfjs';
import { TfjsLMEngine, type MatLM, type Widths } from '@matformer/core';
import { OnnxDecoderEngine } from '@matformer/core/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { createRng } from './sampling';
import { speculativeGenerate } from './speculative';
import { speculativeGenerateSharedCache } from './shared-cache';
import { randomTinyLM } from './test-models';

function prompts(n: number, vocab: number, maxLen: number, seed: number): number[][] {
  const r = createRng(seed);
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: 1 + (i % maxLen) }, () => Math.floor(r() * vocab)),
  );
}

describe('speculative decoding on the onnxruntime decoder engine (static KV buffer, in-place attention)', () => {
  let model: MatLM;
  let full: OnnxDecoderEngine;
  const drafts = new Map<string, OnnxDecoderEngine>();
  // Nested width, Mix'n'Match (per-layer widths) and elastic depth (a skipped layer).
  const draftWidths: [string, Widths][] = [
    ['nested 8', [8, 8]],
    ["Mix'n'Match [8, 32]", [8, 32]],
    ['layer 1 skipped [16, 0]', [16, 0]],
    ['layer 0 skipped [0, 8]', [0, 8]],
  ];
  beforeAll(async () => {
    await tf.setBackend('wasm');
    model = randomTinyLM(3, 2, 30); // the smallest width disagrees with the full model ~1 in 4
    full = await OnnxDecoderEngine.fromModel(model, { intraOpNumThreads: 1 });
    for (const [name, widths] of draftWidths)
      drafts.set(name, await OnnxDecoderEngine.fromModel(model, { widths, intraOpNumThreads: 1 }));
    // An int8-weight draft: approximate by design; the float verifier keeps the output exact.
    drafts.set(
      'int8 nested 8',
      await OnnxDecoderEngine.fromModel(model, {
        widths: 8,
        quantize: 'int8',
        intraOpNumThreads: 1,
      }),
    );
  });
  afterAll(() => {
    full.dispose();
    drafts.forEach((d) => d.dispose());
    model.dispose();
  });

  it('plain greedy decoding equals the tfjs engine’s', async () => {
    const ref = new TfjsLMEngine(model);
    for (const prompt of prompts(6, 32, 8, 4)) {
      const a = await generate(ref, prompt, { maxNewTokens: 24 });
      const b = await generate(full, prompt, { maxNewTokens: 24 });
      expect(b.tokens).toEqual(a.tokens);
    }
    ref.dispose();
  });

  it.each([...draftWidths.map(([name]) => name), 'int8 nested 8'])(
    'draft %s: greedy speculative = plain greedy, 12 prompts × k 1..6 × adaptive on/off',
    async (name) => {
      const draft = drafts.get(name)!;
      let accepted = 0;
      let drafted = 0;
      for (const [pi, prompt] of prompts(12, 32, 8, 11).entries()) {
        const ref = await generate(full, prompt, { maxNewTokens: 12 });
        for (let k = 1; k <= 6; k++)
          for (const adaptive of [false, true]) {
            const spec = await speculativeGenerate(draft, full, prompt, {
              maxNewTokens: 12,
              k,
              adaptive,
            });
            expect(spec.tokens, `prompt ${pi} k ${k} adaptive ${adaptive}`).toEqual(ref.tokens);
            accepted += spec.stats.accepted;
            drafted += spec.stats.drafted;
          }
      }
      expect(accepted).toBeGreaterThan(0);
      expect(accepted).toBeLessThan(drafted); // rejections (rollbacks) were exercised
    },
  );

  it('shared cache (the draft continues from the verifier’s buffer): same greedy output', async () => {
    const draft = drafts.get("Mix'n'Match [8, 32]")!;
    for (const prompt of prompts(6, 32, 6, 31))
      for (const k of [1, 3, 6]) {
        const ref = await generate(full, prompt, { maxNewTokens: 14 });
        const spec = await speculativeGenerateSharedCache(draft, full, prompt, {
          maxNewTokens: 14,
          k,
        });
        expect(spec.tokens).toEqual(ref.tokens);
        expect(spec.stats.sharedCache).toBe(true);
      }
  });

  it('sample mode: reproducible with a seed, valid tokens, same sequence length as asked', async () => {
    const draft = drafts.get('nested 8')!;
    const o = { maxNewTokens: 20, temperature: 0.8, seed: 5, k: 3 };
    const a = await speculativeGenerate(draft, full, [1, 2, 3], o);
    const b = await speculativeGenerate(draft, full, [1, 2, 3], o);
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).toHaveLength(20);
    expect(a.tokens.every((t) => Number.isInteger(t) && t >= 0 && t < 32)).toBe(true);
  });
});
