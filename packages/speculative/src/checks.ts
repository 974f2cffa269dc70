import { ConfigError, type LMEngine } from '@matformer/core';

/** Why a generation stopped. */
export type StopReason = 'maxNewTokens' | 'stopToken' | 'maxSeqLen';

/**
 * Checks a prompt against an engine and returns how many new tokens fit: the whole sequence
 * (prompt + new) stays within maxSeqLen, the context the model's position table covers —
 * unless the context window slides, when any number fits.
 */
export function checkPrompt(
  engine: Pick<LMEngine, 'vocabSize' | 'maxSeqLen' | 'name'>,
  prompt: readonly number[],
  maxNewTokens: number,
  slide = false,
): { budget: number; clampedBy?: 'maxSeqLen' } {
  if (!Array.isArray(prompt) || prompt.length === 0)
    throw new ConfigError('prompt must hold at least one token (there is no implicit start token)');
  prompt.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t >= engine.vocabSize)
      throw new ConfigError(
        `prompt[${i}] = ${JSON.stringify(t)} is not a token id in [0, ${engine.vocabSize}) of ${engine.name}`,
      );
  });
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 0))
    throw new ConfigError(`maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  if (slide) return { budget: maxNewTokens }; // the context window moves instead (context-window.ts)
  if (prompt.length > engine.maxSeqLen)
    throw new ConfigError(
      `prompt of ${prompt.length} tokens exceeds maxSeqLen ${engine.maxSeqLen} of ${engine.name}; shorten it to at most ${engine.maxSeqLen} tokens`,
    );
  const room = engine.maxSeqLen - prompt.length;
  return room < maxNewTokens ? { budget: room, clampedBy: 'maxSeqLen' } : { budget: maxNewTokens };
}

/** Stop tokens as a set, each checked against the vocabulary. */
export function checkStopTokens(
  stopTokens: readonly number[] | undefined,
  vocabSize: number,
): Set<number> {
  const set = new Set(stopTokens ?? []);
  for (const t of set)
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize)
      throw new ConfigError(
        `stopTokens holds ${JSON.stringify(t)}, not a token id in [0, ${vocabSize})`,
      );
  return set;
}
