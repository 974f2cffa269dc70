import * as tf from '@tensorflow/tfjs';
import { TfjsLMEngine, type MatLM } from '@matformer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { argmax, probabilities } from './sampling';
import { TableEngine } from './test-engines';
import { randomTinyLM } from './test-models';
import { support, tally, tvDistance, tvTolerance } from './test-stats';

describe('generate on a tiny MatLM (tfjs, wasm)', () => {
  let model: MatLM;
  let engine: TfjsLMEngine;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    model = randomTinyLM(7, 2, 30);
    engine = new TfjsLMEngine(model);
  });
  afterAll(() => model.dispose());

  it('greedy with the KV cache equals recomputing the whole sequence every step', async () => {
    const prompt = [3, 1, 4, 1, 5];
    const { tokens, stats } = await generate(engine, prompt, { maxNewTokens: 12 });
    const seq = [...prompt];
    for (let i = 0; i < 12; i++) {
      const logits = tf.tidy(
        () => model.forward(tf.tensor2d([seq], undefined, 'int32')).dataSync() as Float32Array,
      );
      seq.push(argmax(logits.subarray((seq.length - 1) * 32)));
    }
    expect(tokens).toEqual(seq.slice(prompt.length));
    expect(stats).toMatchObject({
      promptTokens: 5,
      newTokens: 12,
      forwardCalls: 12,
      stopReason: 'maxNewTokens',
    });
    expect(stats.tokensPerSecond).toBeGreaterThan(0);
  });

  it('samples reproducibly from a seed; topK 1 is greedy', async () => {
    const o = { maxNewTokens: 16, temperature: 1.5, topP: 0.95 };
    const a = await generate(engine, [1, 2], { ...o, seed: 4 });
    const b = await generate(engine, [1, 2], { ...o, seed: 4 });
    const c = await generate(engine, [1, 2], { ...o, seed: 5 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
    const greedy = await generate(engine, [1, 2], { maxNewTokens: 16 });
    expect(
      (await generate(engine, [1, 2], { maxNewTokens: 16, temperature: 2, topK: 1 })).tokens,
    ).toEqual(greedy.tokens);
  });

  it('stops after a stop token (kept) and at maxSeqLen, never beyond', async () => {
    const greedy = await generate(engine, [9], { maxNewTokens: 20 });
    const stop = greedy.tokens[5];
    const first = greedy.tokens.indexOf(stop);
    const stopped = await generate(engine, [9], { maxNewTokens: 20, stopTokens: [stop] });
    expect(stopped.tokens).toEqual(greedy.tokens.slice(0, first + 1));
    expect(stopped.stats.stopReason).toBe('stopToken');

    const long = Array(60).fill(2);
    const clamped = await generate(engine, long, { maxNewTokens: 20 });
    expect(clamped.tokens).toHaveLength(4);
    expect(clamped.stats.stopReason).toBe('maxSeqLen');
    const full = await generate(engine, Array(64).fill(2), { maxNewTokens: 3 });
    expect(full.tokens).toEqual([]);
    await expect(generate(engine, Array(65).fill(2), { maxNewTokens: 1 })).rejects.toThrow(
      /prompt of 65 tokens exceeds maxSeqLen 64 .*shorten it/,
    );
    await expect(generate(engine, [1], { maxNewTokens: 1, stopTokens: [99] })).rejects.toThrow(
      /stopTokens/,
    );
    await expect(
      generate(engine, [1], { maxNewTokens: 1, topP: 2, temperature: 1 }),
    ).rejects.toThrow(/topP/);
  });

  it('leaks no tensors', async () => {
    await generate(engine, [1, 2, 3], { maxNewTokens: 4 });
    const before = tf.memory().numTensors;
    await generate(engine, [1, 2, 3], { maxNewTokens: 10 });
    await generate(engine, [1, 2, 3], { maxNewTokens: 10, temperature: 1, topK: 3, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

it('sampled tokens follow the warped distribution (20k seeded draws)', async () => {
  const engine = new TableEngine(16, 8, { seed: 2 });
  const warp = { temperature: 0.7, topK: 10, topP: 0.9 };
  const n = 20_000;
  const counts = new Map<string, number>();
  for (let seed = 0; seed < n; seed++)
    tally(counts, (await generate(engine, [4, 2], { ...warp, maxNewTokens: 1, seed })).tokens[0]);
  const out = await engine.forward([4, 2]);
  const p = support(probabilities(out.logits.subarray(16), warp));
  expect(p.length).toBeGreaterThan(2);
  expect(p.length).toBeLessThan(10);
  const tol = tvTolerance(p.length, n); // < 0.03 for ≤ 9 outcomes
  expect(tvDistance(new Map(p.map(([i, x]) => [String(i), x])), counts, n)).toBeLessThan(tol);
  // Nothing outside the top-k / nucleus is ever drawn.
  for (const k of counts.keys()) expect(p.some(([i]) => String(i) === k)).toBe(true);
});
