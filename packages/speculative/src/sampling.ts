import { ConfigError, Rng } from '@matformer/core';

/** How logits become a next-token distribution. Applied in this order: temperature, top-k, top-p. */
export interface SamplingOptions {
  /** Softmax temperature; 0 = greedy (argmax, ties → lowest id). Default 0. */
  temperature?: number;
  /** Keep only the k most likely tokens (ties → lower ids first); 0 or absent = off. */
  topK?: number;
  /** Nucleus: keep the smallest set of most likely tokens whose mass reaches p; 1 or absent = off. */
  topP?: number;
}

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** Token-sampling randomness: core's seeded mulberry32 `Rng`; the same seed replays the same draws. */
export function createRng(seed = 0): Random {
  if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer, got ${seed}`);
  const rng = new Rng(seed);
  return () => rng.next();
}

/** Checks sampling options, naming the bad field, and fills in the defaults. */
export function resolveSampling(o: SamplingOptions = {}): Required<SamplingOptions> {
  const temperature = o.temperature ?? 0;
  const topK = o.topK ?? 0;
  const topP = o.topP ?? 1;
  if (!(Number.isFinite(temperature) && temperature >= 0))
    throw new ConfigError(
      `temperature must be a finite number ≥ 0 (0 = greedy), got ${temperature}`,
    );
  if (!(Number.isInteger(topK) && topK >= 0))
    throw new ConfigError(`topK must be a non-negative integer (0 = off), got ${topK}`);
  if (!(topP > 0 && topP <= 1))
    throw new ConfigError(`topP must be in (0, 1] (1 = off), got ${topP}`);
  return { temperature, topK, topP };
}

/** Index of the largest value; ties go to the lowest index. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  if (Number.isNaN(values[best])) throw new ConfigError('logits contain NaN');
  return best;
}

/** Row t of row-major logits [T, V]: a view, no copy. */
export function logitsRow(logits: Float32Array, t: number, V: number): Float32Array {
  return logits.subarray(t * V, (t + 1) * V);
}

/** Token ids ordered by value, highest first, ties → lower id first. */
function rankDescending(values: ArrayLike<number>, ids: number[]): number[] {
  return ids.sort((a, b) => values[b] - values[a] || a - b);
}

/**
 * The exact next-token distribution a sampler draws from: softmax(logits / temperature),
 * restricted to the top-k, then to the top-p nucleus, renormalised. Float64 so that
 * rejection sampling's ratios p/q are exact to double precision. temperature 0 → one-hot argmax.
 */
export function probabilities(
  logits: ArrayLike<number>,
  options: SamplingOptions = {},
): Float64Array {
  const { temperature, topK, topP } = resolveSampling(options);
  const V = logits.length;
  const probs = new Float64Array(V);
  if (temperature === 0) {
    probs[argmax(logits)] = 1;
    return probs;
  }
  for (let i = 0; i < V; i++)
    if (Number.isNaN(logits[i])) throw new ConfigError(`logits contain NaN (token ${i})`);
  let kept = Array.from({ length: V }, (_, i) => i);
  if (topK > 0 && topK < V) kept = rankDescending(logits, kept).slice(0, topK);
  // Softmax over the kept tokens, shifted by their max for stability.
  let max = -Infinity;
  for (const i of kept) max = Math.max(max, logits[i]);
  let sum = 0;
  for (const i of kept) sum += probs[i] = Math.exp((logits[i] - max) / temperature);
  for (const i of kept) probs[i] /= sum;
  if (topP < 1) {
    const ranked = rankDescending(probs, kept);
    let mass = 0;
    let n = 0;
    while (n < ranked.length && mass < topP) mass += probs[ranked[n++]];
    for (let j = n; j < ranked.length; j++) probs[ranked[j]] = 0;
    for (let j = 0; j < n; j++) probs[ranked[j]] /= mass;
  }
  return probs;
}

/** Draws an index from a distribution (inverse CDF). Rounding slack goes to the last nonzero entry. */
export function sampleIndex(probs: ArrayLike<number>, random: Random): number {
  const u = random();
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    cum += probs[i];
    last = i;
    if (u < cum) return i;
  }
  if (last < 0) throw new ConfigError('cannot sample from a distribution with no mass');
  return last;
}

/** Picks the next token from one row of logits: argmax when greedy, else a draw. */
export function pickToken(
  logits: ArrayLike<number>,
  options: SamplingOptions,
  random: Random,
): number {
  return (options.temperature ?? 0) === 0
    ? argmax(logits)
    : sampleIndex(probabilities(logits, options), random);
}
