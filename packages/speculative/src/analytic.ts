import { ConfigError } from '@matformer/core';

function check(alpha: number, k: number, c?: number): void {
  if (!(alpha >= 0 && alpha <= 1)) throw new ConfigError(`alpha must be in [0, 1], got ${alpha}`);
  if (!(Number.isInteger(k) && k >= 0))
    throw new ConfigError(`k must be a non-negative integer, got ${k}`);
  if (c !== undefined && !(c >= 0 && Number.isFinite(c)))
    throw new ConfigError(`c (draft/verifier cost ratio) must be a finite number ≥ 0, got ${c}`);
}

/**
 * Expected tokens produced per verifier call with k drafted tokens, when each drafted token
 * is accepted independently with probability α: (1 − α^{k+1}) / (1 − α) (Leviathan et al. 2023, eq. 1).
 */
export function expectedTokensPerCall(alpha: number, k: number): number {
  check(alpha, k);
  return alpha === 1 ? k + 1 : (1 - alpha ** (k + 1)) / (1 - alpha);
}

/**
 * Leviathan et al.'s expected wall-clock speed-up over plain decoding:
 * (1 − α^{k+1}) / ((1 − α)(k·c + 1)), with c = (time of one draft step) / (time of one verifier
 * step). It assumes a verifier call on k + 1 tokens costs the same as on one token.
 */
export function analyticSpeedup(alpha: number, k: number, c: number): number {
  check(alpha, k, c);
  return expectedTokensPerCall(alpha, k) / (k * c + 1);
}

/** The draft length in 1..maxK with the best analytic speed-up, and that speed-up. */
export function bestDraftLength(
  alpha: number,
  c: number,
  maxK = 16,
): { k: number; speedup: number } {
  let best = { k: 1, speedup: analyticSpeedup(alpha, 1, c) };
  for (let k = 2; k <= maxK; k++) {
    const s = analyticSpeedup(alpha, k, c);
    if (s > best.speedup) best = { k, speedup: s };
  }
  return best;
}
