import { describe, expect, it } from 'vitest';
import { analyticSpeedup, bestDraftLength, expectedTokensPerCall } from './analytic';

describe("Leviathan et al.'s analytic speed-up", () => {
  it('matches the closed form and its limits', () => {
    expect(analyticSpeedup(0.8, 4, 0.1)).toBeCloseTo((1 - 0.8 ** 5) / (0.2 * 1.4), 12);
    expect(analyticSpeedup(1, 3, 0.5)).toBeCloseTo(4 / 2.5, 12); // all accepted: k + 1 tokens per call
    expect(analyticSpeedup(0, 3, 0.5)).toBeCloseTo(1 / 2.5, 12); // nothing accepted: pure overhead
    expect(analyticSpeedup(0.6, 2, 0)).toBeCloseTo(1 + 0.6 + 0.36, 12); // free draft: tokens per call
    expect(expectedTokensPerCall(0.5, 0)).toBe(1);
    expect(expectedTokensPerCall(0.999999, 4)).toBeCloseTo(5, 4);
  });

  it('picks the best draft length', () => {
    const best = bestDraftLength(0.8, 0.1);
    for (let k = 1; k <= 16; k++)
      expect(analyticSpeedup(0.8, k, 0.1)).toBeLessThanOrEqual(best.speedup);
    expect(bestDraftLength(0.3, 0.9).speedup).toBeLessThan(1); // speculation cannot pay here
  });

  it('rejects out-of-range inputs', () => {
    expect(() => analyticSpeedup(1.2, 2, 0.1)).toThrow(/alpha must be in \[0, 1\]/);
    expect(() => analyticSpeedup(0.5, -1, 0.1)).toThrow(/k must be/);
    expect(() => analyticSpeedup(0.5, 2, -0.1)).toThrow(/cost ratio/);
  });
});
