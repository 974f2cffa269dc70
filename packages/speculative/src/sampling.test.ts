import { ConfigError } from '@matformer/core';
import { describe, expect, it } from 'vitest';
import { argmax, createRng, pickToken, probabilities, sampleIndex } from './sampling';

const softmax = (xs: number[]) => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

const expectClose = (got: ArrayLike<number>, want: number[]) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i], `index ${i}`).toBeCloseTo(w, 12));
};

describe('greedy', () => {
  it('takes the argmax, ties → lowest id', () => {
    expect(argmax([0, 3, 1, 3])).toBe(1);
    expect(argmax([-1, -1, -1])).toBe(0);
    expect(argmax([-Infinity, -5, Infinity, Infinity])).toBe(2);
    expectClose(probabilities([1, 7, 7, 2]), [0, 1, 0, 0]);
    expect(pickToken(Float32Array.from([2, 9, 9]), {}, createRng(0))).toBe(1);
  });
});

describe('probabilities (exact, hand-made logits)', () => {
  const logits = [2, 1, 0, 3, -1]; // rank by logit: 3, 0, 1, 2, 4

  it('temperature scales the logits', () => {
    expectClose(probabilities(logits, { temperature: 1 }), softmax(logits));
    expectClose(probabilities(logits, { temperature: 0.5 }), softmax(logits.map((x) => x * 2)));
    expectClose(probabilities(logits, { temperature: 4 }), softmax(logits.map((x) => x / 4)));
  });

  it('top-k keeps the k highest logits, renormalised', () => {
    const s = softmax([3, 2]);
    expectClose(probabilities(logits, { temperature: 1, topK: 2 }), [s[1], 0, 0, s[0], 0]);
    expectClose(probabilities(logits, { temperature: 1, topK: 1 }), [0, 0, 0, 1, 0]);
    expectClose(probabilities(logits, { temperature: 1, topK: 5 }), softmax(logits));
    expectClose(probabilities(logits, { temperature: 1, topK: 99 }), softmax(logits));
    // Ties at the cut: lower ids win.
    expectClose(probabilities([1, 5, 5, 5], { temperature: 1, topK: 2 }), [0, 0.5, 0.5, 0]);
  });

  it('top-p keeps the smallest set of most likely tokens reaching p, renormalised', () => {
    const p = softmax(logits); // ≈ [.2341, .0861, .0317, .6364, .0117]
    const nucleus = (ids: number[]) => {
      const mass = ids.reduce((s, i) => s + p[i], 0);
      return p.map((x, i) => (ids.includes(i) ? x / mass : 0));
    };
    expectClose(probabilities(logits, { temperature: 1, topP: 0.5 }), nucleus([3]));
    expectClose(probabilities(logits, { temperature: 1, topP: 0.636 }), nucleus([3]));
    expectClose(probabilities(logits, { temperature: 1, topP: 0.64 }), nucleus([3, 0]));
    expectClose(probabilities(logits, { temperature: 1, topP: 0.9 }), nucleus([3, 0, 1]));
    expectClose(probabilities(logits, { temperature: 1, topP: 1 }), p);
  });

  it('applies temperature, then top-k, then top-p', () => {
    // T = 0.5 sharpens to softmax(2·logits); top-3 keeps {3, 0, 1}; top-p 0.9 of those keeps {3, 0}.
    const sharp = softmax([6, 4, 2]); // tokens 3, 0, 1
    expect(sharp[0]).toBeLessThan(0.9);
    expect(sharp[0] + sharp[1]).toBeGreaterThan(0.9);
    const m = sharp[0] + sharp[1];
    expectClose(probabilities(logits, { temperature: 0.5, topK: 3, topP: 0.9 }), [
      sharp[1] / m,
      0,
      0,
      sharp[0] / m,
      0,
    ]);
  });

  it('rejects bad options and NaN logits with clear errors', () => {
    expect(() => probabilities(logits, { temperature: -1 })).toThrow(/temperature must be/);
    expect(() => probabilities(logits, { temperature: 1, topK: 1.5 })).toThrow(/topK must be/);
    expect(() => probabilities(logits, { temperature: 1, topP: 0 })).toThrow(/topP must be in/);
    expect(() => probabilities(logits, { temperature: 1, topP: 1.2 })).toThrow(ConfigError);
    expect(() => probabilities([0, NaN], { temperature: 1 })).toThrow(/NaN/);
    expect(() => argmax([NaN, NaN])).toThrow(/NaN/);
    expect(() => createRng(0.5)).toThrow(/seed/);
  });
});

describe('seeded sampling', () => {
  it('replays the same draws for the same seed, and differs across seeds', () => {
    const draw = (seed: number) => {
      const r = createRng(seed);
      return Array.from({ length: 20 }, () => r());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(7).every((u) => u >= 0 && u < 1)).toBe(true);
  });

  it('draws match the distribution (10k draws, TV < 0.02)', () => {
    const p = [0.5, 0.25, 0, 0.125, 0.125];
    const r = createRng(3);
    const counts = new Array(p.length).fill(0);
    const n = 10_000;
    for (let i = 0; i < n; i++) counts[sampleIndex(p, r)]++;
    expect(counts[2]).toBe(0); // zero mass is never drawn
    const tv = 0.5 * p.reduce((s, x, i) => s + Math.abs(x - counts[i] / n), 0);
    expect(tv).toBeLessThan(0.02);
  });
});
