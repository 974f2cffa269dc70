import type { LMEngine } from '@matformer/core';
import { describe, expect, it } from 'vitest';
import { calibrateSpeculative } from './calibrate';
import { TableEngine } from './test-engines';

/** An engine that takes `ms` per call (busy wait) plus `perToken` ms per fed token. */
function slow<S>(inner: LMEngine<S>, ms: number, perToken = 0): LMEngine<S> {
  return {
    vocabSize: inner.vocabSize,
    maxSeqLen: inner.maxSeqLen,
    name: inner.name,
    async forward(tokens, state) {
      const until = performance.now() + ms + perToken * tokens.length;
      while (performance.now() < until);
      return inner.forward(tokens, state);
    },
    length: (s) => inner.length(s),
    truncate: (s, n) => inner.truncate(s, n),
    release: (s) => inner.release(s),
    dispose: () => inner.dispose(),
  };
}

describe('calibrateSpeculative', () => {
  const V = 16;
  const verifier = slow(new TableEngine(V, 128, { seed: 1 }), 2, 0.4);
  const close = slow(new TableEngine(V, 128, { seed: 1, noise: 0.05, noiseSeed: 2 }), 0.2);
  const costly = slow(new TableEngine(V, 128, { seed: 1, noise: 0.05, noiseSeed: 2 }), 8);
  const o = { reps: 6, maxK: 6, tokens: 24, context: 16 };

  it('measures costs and acceptance, and picks a cheap, accurate draft with a long k', async () => {
    const cal = await calibrateSpeculative(
      verifier,
      [
        { label: 'close', engine: close },
        { label: 'costly', engine: costly },
      ],
      o,
    );
    expect(cal.verifyCost).toHaveLength(6);
    expect(cal.verifyCost[5]).toBeGreaterThan(cal.verifyCost[0]); // 7 tokens cost more than 2
    const [a, b] = cal.drafts;
    expect(a.c).toBeLessThan(0.3);
    expect(b.c).toBeGreaterThan(1.5);
    expect(a.alpha).toBeGreaterThan(0.7);
    expect(cal.choice).toMatchObject({ label: 'close' });
    expect(cal.choice!.k).toBeGreaterThanOrEqual(2);
    expect(b.speedup).toBeLessThan(1); // a draft as slow as the verifier never pays
  });

  it('reports that speculation would not pay (no choice) when no draft is fast enough', async () => {
    const cal = await calibrateSpeculative(verifier, [{ label: 'costly', engine: costly }], o);
    expect(cal.choice).toBeUndefined();
  });
});
