import * as tf from '@tensorflow/tfjs';
import { ConfigError, TfjsLMEngine, type MatLM } from '@matformer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { createRng } from './sampling';
import { speculativeGenerate, type RoundInfo, type SpeculativeOptions } from './speculative';
import { speculativeGenerateSharedCache } from './shared-cache';
import { TableEngine, TracingEngine } from './test-engines';
import { randomTinyLM } from './test-models';

/** n prompts of 1..maxLen random tokens. */
function prompts(n: number, vocab: number, maxLen: number, seed: number): number[][] {
  const r = createRng(seed);
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: 1 + (i % maxLen) }, () => Math.floor(r() * vocab)),
  );
}

/**
 * Runs a speculative generation through tracing engines and checks, after every round, that
 * each cache holds exactly the tokens it should: the verifier all committed tokens but the
 * last (it is fed first next round), the draft the committed prefix it saw (never a rejected
 * draft), and nothing else is alive. At the end every state has been released.
 */
async function runTraced<S>(
  draftInner: TfjsLMEngine | TableEngine,
  verifierInner: TfjsLMEngine | TableEngine,
  prompt: number[],
  options: SpeculativeOptions,
  shared = false,
) {
  const live = new Set<never>();
  const draft = new TracingEngine<unknown>(draftInner as never, shared ? live : undefined);
  const verifier = new TracingEngine<unknown>(verifierInner as never, shared ? live : undefined);
  const seq = [...prompt];
  const rounds: RoundInfo[] = [];
  const onRound = (r: RoundInfo) => {
    const nOld = seq.length;
    seq.push(...r.emitted);
    rounds.push(r);
    expect(r.sequenceLength).toBe(seq.length);
    expect(r.emitted.length).toBeLessThanOrEqual(r.accepted + 1);
    if (r.emitted.length < r.accepted + 1) return; // cut by a stop token: the last round, caches unused
    // Verifier: prompt + accepted tokens so far, i.e. everything but the newest token.
    expect(r.verifierCacheLength).toBe(seq.length - 1);
    const states = [...(shared ? live : verifier.live)] as { tokens: number[] }[];
    if (shared) {
      expect(states).toHaveLength(1); // the draft keeps nothing between rounds
      expect(r.draftCacheLength).toBeUndefined();
    } else {
      expect(states).toHaveLength(1);
      const drafts = [...draft.live] as { tokens: number[] }[];
      if (r.draftCacheLength !== undefined) {
        expect(drafts).toHaveLength(1);
        // It fed the committed prefix + drafted[0..k−2]; only accepted ones survive rollback.
        const want = r.drafted > 0 ? Math.min(nOld + r.drafted - 1, nOld + r.accepted) : undefined;
        if (want !== undefined) expect(r.draftCacheLength).toBe(want);
        expect(drafts[0].tokens).toEqual(seq.slice(0, r.draftCacheLength));
      }
    }
    expect(states[0].tokens).toEqual(seq.slice(0, seq.length - 1));
  };
  const run = shared ? speculativeGenerateSharedCache : speculativeGenerate;
  const result = await run(draft, verifier, prompt, { ...options, onRound });
  expect(result.tokens).toEqual(seq.slice(prompt.length));
  expect(draft.live.size + verifier.live.size).toBe(0);
  return { result, rounds };
}

describe('speculative decoding on engine-agnostic fakes (fast, exhaustive)', () => {
  const V = 8;
  const verifier = new TableEngine(V, 40, { seed: 1 });
  // Drafts from close to the verifier (mostly accepted) to unrelated (mostly rejected).
  const drafts = [0.3, 1, 3].map(
    (noise) => new TableEngine(V, 40, { seed: 1, noise, noiseSeed: 9 }),
  );

  it('greedy output equals the verifier’s greedy decoding, caches hold exactly the right tokens', async () => {
    let accepted = 0;
    let drafted = 0;
    for (const [pi, prompt] of prompts(30, V, 6, 5).entries()) {
      const stopTokens = pi % 3 === 0 ? [pi % V] : undefined;
      const maxNewTokens = 1 + (pi % 20);
      const ref = await generate(verifier, prompt, { maxNewTokens, stopTokens });
      for (const draft of drafts)
        for (let k = 1; k <= 8; k++)
          for (const adaptive of [false, true]) {
            const o = { maxNewTokens, k, adaptive, stopTokens };
            const { result } = await runTraced(draft, verifier, prompt, o);
            expect(result.tokens, `prompt ${pi} k ${k} adaptive ${adaptive}`).toEqual(ref.tokens);
            expect(result.stats.stopReason).toBe(ref.stats.stopReason);
            accepted += result.stats.accepted;
            drafted += result.stats.drafted;
          }
    }
    // Both branches (accept and reject) were exercised plenty.
    expect(accepted / drafted).toBeGreaterThan(0.2);
    expect(accepted / drafted).toBeLessThan(0.9);
  });

  it('clamps to maxSeqLen like plain decoding', async () => {
    const prompt = prompts(1, V, 1, 2)[0].concat(Array(35).fill(3)); // 36 of 40 positions
    const ref = await generate(verifier, prompt, { maxNewTokens: 20 });
    expect(ref.tokens).toHaveLength(4);
    expect(ref.stats.stopReason).toBe('maxSeqLen');
    for (let k = 1; k <= 6; k++) {
      const { result } = await runTraced(drafts[0], verifier, prompt, { maxNewTokens: 20, k });
      expect(result.tokens).toEqual(ref.tokens);
      expect(result.stats.stopReason).toBe('maxSeqLen');
    }
  });

  it('shared-cache variant: same greedy output, one cache', async () => {
    for (const [pi, prompt] of prompts(10, V, 5, 8).entries())
      for (const k of [1, 3, 6]) {
        const ref = await generate(verifier, prompt, { maxNewTokens: 12 });
        const { result } = await runTraced(
          drafts[pi % 3],
          verifier,
          prompt,
          { maxNewTokens: 12, k },
          true,
        );
        expect(result.tokens).toEqual(ref.tokens);
        expect(result.stats.sharedCache).toBe(true);
      }
  });

  it('adapts k with Hugging Face’s schedule: +2 after all accepted, −1 (min 1) otherwise', async () => {
    const { rounds } = await runTraced(drafts[1], verifier, [1, 2], {
      maxNewTokens: 30,
      k: 3,
      maxK: 7,
    });
    let k = 3;
    for (const r of rounds) {
      expect(r.drafted).toBe(Math.min(k, 30 - (r.sequenceLength - r.emitted.length - 2) - 1));
      k = r.accepted === r.drafted ? Math.min(7, k + 2) : Math.max(1, k - 1);
    }
  });
});

describe('speculative decoding with a nested MatLM draft (tfjs, wasm)', () => {
  let model: MatLM;
  let full: TfjsLMEngine;
  let draft: TfjsLMEngine;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    // Scaled so that the smallest width disagrees with the full model at ~1 position in 4.
    model = randomTinyLM(3, 2, 30);
    full = new TfjsLMEngine(model);
    draft = new TfjsLMEngine(model, 8);
  });
  afterAll(() => model.dispose());

  it('greedy output is token-for-token the full model’s greedy decoding: 20 prompts × k 1..6 × adaptive on/off', async () => {
    let accepted = 0;
    let drafted = 0;
    for (const [pi, prompt] of prompts(20, 32, 8, 11).entries()) {
      const ref = await generate(full, prompt, { maxNewTokens: 10 });
      for (let k = 1; k <= 6; k++)
        for (const adaptive of [false, true]) {
          const spec = await speculativeGenerate(draft, full, prompt, {
            maxNewTokens: 10,
            k,
            adaptive,
          });
          expect(spec.tokens, `prompt ${pi} k ${k} adaptive ${adaptive}`).toEqual(ref.tokens);
          accepted += spec.stats.accepted;
          drafted += spec.stats.drafted;
        }
    }
    expect(accepted / drafted).toBeGreaterThan(0.2); // neither trivially all accepted …
    expect(accepted / drafted).toBeLessThan(0.95); // … nor all rejected
  });

  it('rolls both KV caches back to exactly the accepted tokens every round (no off-by-one)', async () => {
    let rejections = 0;
    for (const [i, prompt] of prompts(4, 32, 6, 21).entries()) {
      const ref = await generate(full, prompt, { maxNewTokens: 16 });
      const { result, rounds } = await runTraced(draft, full, prompt, {
        maxNewTokens: 16,
        k: 2 + i,
      });
      expect(result.tokens).toEqual(ref.tokens);
      rejections += rounds.filter((r) => r.accepted < r.drafted).length;
    }
    expect(rejections).toBeGreaterThan(0);
  });

  it('shared-cache variant keeps the verifier’s output exactly', async () => {
    for (const prompt of prompts(4, 32, 6, 31)) {
      const ref = await generate(full, prompt, { maxNewTokens: 12 });
      const { result } = await runTraced(draft, full, prompt, { maxNewTokens: 12, k: 3 }, true);
      expect(result.tokens).toEqual(ref.tokens);
    }
  });

  it('leaks no tensors over whole generations (greedy, sample, shared cache)', async () => {
    const prompt = [1, 2, 3, 4];
    await speculativeGenerate(draft, full, prompt, { maxNewTokens: 8 }); // warm-up
    const before = tf.memory().numTensors;
    await speculativeGenerate(draft, full, prompt, { maxNewTokens: 20, k: 3 });
    await speculativeGenerate(draft, full, prompt, { maxNewTokens: 20, mode: 'sample', seed: 3 });
    await speculativeGenerateSharedCache(draft, full, prompt, { maxNewTokens: 20, k: 2 });
    await generate(full, prompt, { maxNewTokens: 10, temperature: 0.8, topK: 5, seed: 1 });
    await expect(
      speculativeGenerate(draft, full, prompt, { maxNewTokens: 5, k: 0 }),
    ).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad input with clear errors', async () => {
    const o = { maxNewTokens: 4 };
    const long = Array(65).fill(1);
    await expect(speculativeGenerate(draft, full, long, o)).rejects.toThrow(
      /prompt of 65 tokens exceeds maxSeqLen 64/,
    );
    await expect(generate(full, long, o)).rejects.toThrow(/exceeds maxSeqLen 64/);
    await expect(speculativeGenerate(draft, full, [1], { ...o, k: 0 })).rejects.toThrow(
      /k \(draft length\) must be an integer ≥ 1, got 0/,
    );
    await expect(speculativeGenerate(draft, full, [1], { ...o, k: 2.5 })).rejects.toThrow(
      ConfigError,
    );
    const other = new TableEngine(256, 64, { seed: 0 });
    await expect(speculativeGenerate(other, full, [1], o)).rejects.toThrow(
      /vocabularies differ: .* has 256 tokens, .* has 32/,
    );
    await expect(speculativeGenerateSharedCache(other as never, full, [1], o)).rejects.toThrow(
      /same kind/,
    );
    await expect(speculativeGenerate(draft, full, [], o)).rejects.toThrow(/at least one token/);
    await expect(speculativeGenerate(draft, full, [40], o)).rejects.toThrow(/prompt\[0\] = 40/);
    await expect(
      speculativeGenerate(draft, full, [1], { ...o, temperature: 1, mode: 'greedy' }),
    ).rejects.toThrow(/use mode "sample"/);
    await expect(speculativeGenerate(draft, full, [1], { ...o, k: 5, maxK: 3 })).rejects.toThrow(
      /maxK/,
    );
    await expect(speculativeGenerate(draft, full, [1], { maxNewTokens: -1 })).rejects.toThrow(
      /maxNewTokens must be/,
    );
  });
});
