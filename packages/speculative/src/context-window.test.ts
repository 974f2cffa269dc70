import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { TfjsLMEngine, type LMEngine } from '@matformer/core';
import { OnnxDecoderEngine, OnnxLMEngine, toOnnx } from '@matformer/core/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { argmax, createRng, logitsRow } from './sampling';
import { speculativeGenerate } from './speculative';
import { speculativeGenerateSharedCache } from './shared-cache';
import { TableEngine } from './test-engines';
import { randomTinyLM } from './test-models';

/** n prompts of 1..maxLen random tokens. */
function prompts(n: number, vocab: number, maxLen: number, seed: number): number[][] {
  const r = createRng(seed);
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: 1 + ((i * 7) % maxLen) }, () => Math.floor(r() * vocab)),
  );
}

/**
 * The sliding-window rule spelled out without caches: every new token is predicted by one
 * fresh forward over seq[start, n), where start moves to n − keep whenever n − start would
 * exceed the context. The cached decoders must give exactly this.
 */
async function naiveGreedy(engine: LMEngine, prompt: number[], count: number, keep: number) {
  const W = engine.maxSeqLen;
  const seq = [...prompt];
  let start = Math.max(0, prompt.length - W);
  for (let i = 0; i < count; i++) {
    if (seq.length - start > W) start = seq.length - keep;
    const ctx = seq.slice(start);
    const { logits, state } = await engine.forward(ctx);
    engine.release(state);
    seq.push(argmax(logitsRow(logits, ctx.length - 1, engine.vocabSize)));
  }
  return seq.slice(prompt.length);
}

describe("window 'slide': decoding past the context window", () => {
  const V = 8;
  const W = 12;
  const verifier = new TableEngine(V, W, { seed: 1 });
  const draft = new TableEngine(V, W, { seed: 1, noise: 0.5, noiseSeed: 3 });

  it('plain greedy decoding equals the cache-free rule, for every keep', async () => {
    for (const keep of [1, 5, 11]) {
      for (const prompt of prompts(6, V, 20, 2)) {
        const want = await naiveGreedy(verifier, prompt, 40, keep);
        const got = await generate(verifier, prompt, { maxNewTokens: 40, window: 'slide', keep });
        expect(got.tokens, `keep ${keep}, prompt of ${prompt.length}`).toEqual(want);
        expect(got.tokens).toHaveLength(40);
        expect(got.stats.windowMoves).toBeGreaterThan(0);
        expect(got.stats.promptCropped).toBe(Math.max(0, prompt.length - W));
      }
    }
  });

  it('greedy speculative output equals plain greedy across window moves: every k, own and shared cache', async () => {
    let moves = 0;
    for (const keep of [1, 6, 11]) {
      for (const prompt of prompts(8, V, 20, 4)) {
        const o = { maxNewTokens: 45, window: 'slide' as const, keep };
        const ref = await generate(verifier, prompt, o);
        for (let k = 1; k <= 7; k++)
          for (const adaptive of [false, true]) {
            for (const run of [speculativeGenerate, speculativeGenerateSharedCache]) {
              const spec = await run(draft, verifier, prompt, { ...o, k, adaptive });
              expect(spec.tokens, `keep ${keep} k ${k} adaptive ${adaptive} ${run.name}`).toEqual(
                ref.tokens,
              );
              expect(spec.stats.windowMoves).toBe(ref.stats.windowMoves);
              moves += spec.stats.windowMoves;
            }
          }
      }
    }
    expect(moves).toBeGreaterThan(100);
  });

  it("window 'stop' (the default) still ends at maxSeqLen", async () => {
    const got = await generate(verifier, [1, 2, 3], { maxNewTokens: 40 });
    expect(got.tokens).toHaveLength(W - 3);
    expect(got.stats.stopReason).toBe('maxSeqLen');
  });

  it('rejects a keep that leaves no room', async () => {
    await expect(
      generate(verifier, [1], { maxNewTokens: 20, window: 'slide', keep: W }),
    ).rejects.toThrow(/keep must be an integer in \[1, 11\]/);
  });
});

describe('a nested MatLM past its context, on tfjs and onnxruntime', () => {
  let model: ReturnType<typeof randomTinyLM>;
  const engines: Record<string, { full: LMEngine<unknown>; draft: LMEngine<unknown> }> = {};
  beforeAll(async () => {
    await tf.setBackend('wasm');
    model = randomTinyLM(3, 2, 30); // context 64; the smallest width disagrees at ~1 in 4
    engines.tfjs = { full: new TfjsLMEngine(model), draft: new TfjsLMEngine(model, 8) };
    const onnx = (w?: number) =>
      OnnxLMEngine.fromBytes(toOnnx(model, w ? { widths: w } : {}).bytes, { intraOpNumThreads: 1 });
    engines.onnxruntime = { full: await onnx(), draft: await onnx(8) };
    const decoder = (widths?: number) =>
      OnnxDecoderEngine.fromModel(model, { widths, intraOpNumThreads: 1 });
    engines['onnxruntime decoder'] = { full: await decoder(), draft: await decoder(8) };
  });
  afterAll(() => {
    Object.values(engines).forEach((e) => [e.full, e.draft].forEach((x) => x.dispose()));
    model.dispose();
  });

  for (const name of ['tfjs', 'onnxruntime', 'onnxruntime decoder'])
    it(`${name}: 150 tokens from a 64-position model; speculative greedy = plain greedy`, async () => {
      const { full, draft } = engines[name];
      await generate(full, [5], { maxNewTokens: 4 }); // warm-up: engines keep weight views
      await generate(draft, [5], { maxNewTokens: 4 });
      const tensors = tf.memory().numTensors;
      for (const prompt of [[5], Array.from({ length: 70 }, (_, i) => (i * 5) % 32)]) {
        const o = { maxNewTokens: 150, window: 'slide' as const };
        const ref = await generate(full, prompt, o);
        expect(ref.tokens).toHaveLength(150);
        expect(ref.stats.windowMoves).toBeGreaterThanOrEqual(3);
        expect(ref.stats.promptCropped).toBe(Math.max(0, prompt.length - 64));
        expect(ref.tokens).toEqual(await naiveGreedy(full, prompt, 150, 32));
        for (const k of [1, 3, 6]) {
          const spec = await speculativeGenerate(draft, full, prompt, { ...o, k });
          expect(spec.tokens, `k ${k}, prompt of ${prompt.length}`).toEqual(ref.tokens);
        }
      }
      // Window moves release every voided cache: no tensor outlives the generations.
      expect(tf.memory().numTensors).toBe(tensors);
    });
});
