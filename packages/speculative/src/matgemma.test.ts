import * as tf from '@tensorflow/tfjs';
import { TfjsLMEngine, type MatGemma, type Widths } from '@matformer/core';
import { OnnxDecoderEngine } from '@matformer/core/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { createRng } from './sampling';
import { speculativeGenerate } from './speculative';
import { randomTinyGemma } from './test-models';

function prompts(n: number, seed: number): number[][] {
  const r = createRng(seed);
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: 1 + (i % 7) }, () => Math.floor(r() * 32)),
  );
}

describe('speculative decoding with MatGemma (rotary, grouped-query attention, gated FFN)', () => {
  let model: MatGemma;
  let full: OnnxDecoderEngine;
  const drafts = new Map<string, OnnxDecoderEngine | TfjsLMEngine>();
  const widths: [string, Widths][] = [
    ['nested 8', [8, 8, 8]],
    ['layer 1 skipped [16, 0, 8]', [16, 0, 8]],
  ];
  beforeAll(async () => {
    await tf.setBackend('wasm');
    model = randomTinyGemma(3, 3, 8);
    full = await OnnxDecoderEngine.fromModel(model, { intraOpNumThreads: 1 });
    for (const [name, w] of widths)
      drafts.set(
        name,
        await OnnxDecoderEngine.fromModel(model, { widths: w, intraOpNumThreads: 1 }),
      );
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

  it('the decoder graph’s greedy decoding equals the tfjs engine’s', async () => {
    const ref = new TfjsLMEngine(model);
    for (const prompt of prompts(5, 4)) {
      const [a, b] = [
        await generate(ref, prompt, { maxNewTokens: 20 }),
        await generate(full, prompt, { maxNewTokens: 20 }),
      ];
      expect(b.tokens).toEqual(a.tokens);
    }
    ref.dispose();
  });

  it.each(['nested 8', 'layer 1 skipped [16, 0, 8]', 'int8 nested 8'])(
    'draft %s: greedy speculative = plain greedy, 8 prompts × k 1..5',
    async (name) => {
      const draft = drafts.get(name)!;
      let [accepted, drafted] = [0, 0];
      for (const [pi, prompt] of prompts(8, 11).entries()) {
        const ref = await generate(full, prompt, { maxNewTokens: 12 });
        for (let k = 1; k <= 5; k++) {
          const spec = await speculativeGenerate(draft, full, prompt, { maxNewTokens: 12, k });
          expect(spec.tokens, `prompt ${pi} k ${k}`).toEqual(ref.tokens);
          accepted += spec.stats.accepted;
          drafted += spec.stats.drafted;
        }
      }
      expect(accepted).toBeGreaterThan(0);
      expect(accepted).toBeLessThan(drafted); // rollbacks were exercised
    },
  );

  it('generation past the window (64 positions): plain and speculative agree on both engines', async () => {
    const ref = new TfjsLMEngine(model);
    const o = { maxNewTokens: 100, window: 'slide' as const };
    const a = await generate(ref, [1, 2, 3], o);
    expect(a.tokens).toHaveLength(100);
    expect(a.stats.windowMoves).toBeGreaterThan(0);
    expect((await generate(full, [1, 2, 3], o)).tokens).toEqual(a.tokens);
    const spec = await speculativeGenerate(drafts.get('nested 8')!, full, [1, 2, 3], {
      ...o,
      k: 3,
    });
    expect(spec.tokens).toEqual(a.tokens);
    ref.dispose();
  });
});
