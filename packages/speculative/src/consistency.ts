import { ConfigError, type LMEngine } from '@matformer/core';
import { generate } from './generate';
import { argmax, logitsRow } from './sampling';

export interface ConsistencyOptions {
  /** Prompts for the greedy-continuation match; default: the first `promptLength` tokens of each window. */
  prompts?: number[][];
  /** Tokens of each window used as the greedy prompt when `prompts` is absent. Default 16. */
  promptLength?: number;
  /** Greedy tokens generated per prompt by each engine. Default 32. */
  greedyTokens?: number;
}

export interface ConsistencyReport {
  /** Positions scored (windows × window length). */
  positions: number;
  /** Fraction of positions where both engines' argmax agree. */
  top1Agreement: number;
  /** Mean KL(p_reference ‖ p_other) over positions, in nats. */
  meanKL: number;
  /**
   * Mean Σ_x min(p_reference(x), p_other(x)) = 1 − TV: the expected acceptance of `other` as a
   * rejection-sampling draft for `reference` at temperature 1 (Leviathan et al.'s α).
   */
  expectedAcceptance: number;
  /** Fraction of position-wise identical tokens in the two engines' greedy continuations. */
  greedyMatch: number;
  /** Mean length of the identical prefix of those continuations, in tokens. */
  greedyPrefix: number;
}

/** log-softmax of one row in float64: [V]. */
function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (x) => x - lse);
}

/** KL(p ‖ q) from log-probabilities, in nats. */
export function klDivergence(logp: ArrayLike<number>, logq: ArrayLike<number>): number {
  let kl = 0;
  for (let i = 0; i < logp.length; i++) {
    const p = Math.exp(logp[i]);
    if (p > 0) kl += p * (logp[i] - logq[i]);
  }
  return Math.max(0, kl);
}

/**
 * How closely `other` (e.g. a nested submodel, or an independently trained one) follows
 * `reference` (the full model) on held-out token windows: top-1 agreement and mean KL at
 * every position (one full forward of each window per engine), and the token match of their
 * greedy continuations of the same prompts.
 */
export async function consistency<R, O>(
  reference: LMEngine<R>,
  other: LMEngine<O>,
  windows: number[][],
  options: ConsistencyOptions = {},
): Promise<ConsistencyReport> {
  if (reference.vocabSize !== other.vocabSize)
    throw new ConfigError(
      `cannot compare engines with different vocabularies: ${reference.name} has ${reference.vocabSize} tokens, ${other.name} has ${other.vocabSize}`,
    );
  if (windows.length === 0) throw new ConfigError('consistency needs at least one token window');
  const V = reference.vocabSize;
  let positions = 0;
  let agree = 0;
  let klSum = 0;
  let overlapSum = 0;
  for (const w of windows) {
    const [a, b] = [await reference.forward(w), await other.forward(w)];
    reference.release(a.state);
    other.release(b.state);
    for (let t = 0; t < w.length; t++) {
      const [ra, rb] = [logitsRow(a.logits, t, V), logitsRow(b.logits, t, V)];
      if (argmax(ra) === argmax(rb)) agree++;
      const [la, lb] = [logSoftmax(ra), logSoftmax(rb)];
      klSum += klDivergence(la, lb);
      for (let i = 0; i < V; i++) overlapSum += Math.exp(Math.min(la[i], lb[i]));
      positions++;
    }
  }

  const greedyTokens = options.greedyTokens ?? 32;
  const promptLength = options.promptLength ?? 16;
  const prompts = options.prompts ?? windows.map((w) => w.slice(0, promptLength));
  let same = 0;
  let total = 0;
  let prefixSum = 0;
  for (const p of prompts) {
    const ga = (await generate(reference, p, { maxNewTokens: greedyTokens })).tokens;
    const gb = (await generate(other, p, { maxNewTokens: greedyTokens })).tokens;
    const n = Math.min(ga.length, gb.length);
    let prefix = -1;
    for (let i = 0; i < n; i++) {
      if (ga[i] === gb[i]) same++;
      else if (prefix < 0) prefix = i;
    }
    prefixSum += prefix < 0 ? n : prefix;
    total += n;
  }
  return {
    positions,
    top1Agreement: agree / positions,
    meanKL: klSum / positions,
    expectedAcceptance: overlapSum / positions,
    greedyMatch: total > 0 ? same / total : 0,
    greedyPrefix: prompts.length > 0 ? prefixSum / prompts.length : 0,
  };
}

/**
 * `count` evenly spaced, non-overlapping windows of `length` tokens from a held-out stream
 * (as many as fit if fewer do).
 */
export function tokenWindows(stream: ArrayLike<number>, count: number, length: number): number[][] {
  if (!(Number.isInteger(length) && length >= 1))
    throw new ConfigError(`window length must be a positive integer, got ${length}`);
  if (!(Number.isInteger(count) && count >= 1))
    throw new ConfigError(`window count must be a positive integer, got ${count}`);
  const fit = Math.floor(stream.length / length);
  if (fit < 1)
    throw new ConfigError(
      `stream of ${stream.length} tokens is shorter than one window of ${length}`,
    );
  const n = Math.min(count, fit);
  const stride = Math.floor(stream.length / n);
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length }, (_, j) => stream[i * stride + j]),
  );
}
