import * as tf from '@tensorflow/tfjs';
import { TfjsLMEngine, type MatLM } from '@matformer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consistency, klDivergence, tokenWindows } from './consistency';
import { argmax } from './sampling';
import { TableEngine } from './test-engines';
import { randomTinyLM } from './test-models';

describe('consistency between two engines', () => {
  let model: MatLM;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    model = randomTinyLM(3, 2, 30);
  });
  afterAll(() => model.dispose());

  const stream = Array.from({ length: 400 }, (_, i) => (i * 7 + (i >> 3)) % 32);

  it('an engine agrees with itself completely', async () => {
    const e = new TfjsLMEngine(model, 16);
    const r = await consistency(e, e, tokenWindows(stream, 3, 20), {
      promptLength: 5,
      greedyTokens: 8,
    });
    expect(r).toMatchObject({ positions: 60, top1Agreement: 1, greedyMatch: 1, greedyPrefix: 8 });
    expect(r.meanKL).toBeLessThan(1e-9);
    expect(r.expectedAcceptance).toBeCloseTo(1, 9);
  });

  it('measures top-1 agreement, KL(full ‖ sub) and greedy match of a nested submodel', async () => {
    const full = new TfjsLMEngine(model);
    const sub = new TfjsLMEngine(model, 8);
    const windows = tokenWindows(stream, 4, 16);
    const r = await consistency(full, sub, windows, { greedyTokens: 10, promptLength: 4 });
    // Recompute top-1 agreement and the KL of one position by hand.
    let agree = 0;
    for (const w of windows) {
      const [a, b] = [await full.forward(w), await sub.forward(w)];
      for (let t = 0; t < w.length; t++)
        if (
          argmax(a.logits.subarray(t * 32, t * 32 + 32)) ===
          argmax(b.logits.subarray(t * 32, t * 32 + 32))
        )
          agree++;
      full.release(a.state);
      sub.release(b.state);
    }
    expect(r.positions).toBe(64);
    expect(r.top1Agreement).toBeCloseTo(agree / 64, 12);
    expect(r.top1Agreement).toBeGreaterThan(0.3);
    expect(r.top1Agreement).toBeLessThan(1);
    expect(r.meanKL).toBeGreaterThan(0.01);
    expect(r.expectedAcceptance).toBeGreaterThan(0.2);
    expect(r.expectedAcceptance).toBeLessThan(0.99);
    expect(r.greedyMatch).toBeGreaterThanOrEqual(0);
    expect(r.greedyMatch).toBeLessThanOrEqual(1);
  });

  it('computes KL in nats and fails clearly on bad input', async () => {
    const log = (xs: number[]) => xs.map(Math.log);
    // KL([.5,.5] ‖ [.9,.1]) = .5 ln(.5/.9) + .5 ln(.5/.1)
    expect(klDivergence(log([0.5, 0.5]), log([0.9, 0.1]))).toBeCloseTo(
      0.5 * Math.log(0.5 / 0.9) + 0.5 * Math.log(5),
      12,
    );
    expect(klDivergence(log([1, 0]), log([0.5, 0.5]))).toBeCloseTo(Math.log(2), 12);
    await expect(
      consistency(new TfjsLMEngine(model), new TableEngine(8, 64, { seed: 0 }), [[1, 2]]),
    ).rejects.toThrow(/different vocabularies/);
    expect(() => tokenWindows([1, 2, 3], 2, 5)).toThrow(/shorter than one window/);
    expect(tokenWindows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ]);
  });
});
