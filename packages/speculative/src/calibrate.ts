import { ConfigError, median, type LMEngine } from '@matformer/core';
import { expectedTokensPerCall } from './analytic';
import type { SamplingOptions } from './sampling';
import { speculativeGenerate } from './speculative';

/** One candidate draft's measured costs and acceptance, and its best draft length. */
export interface DraftCalibration {
  label: string;
  /** Median ms of one single-token draft step (after `context` positions). */
  stepMs: number;
  /** stepMs / the verifier's step: the c of Leviathan et al.'s bound. */
  c: number;
  /** Per-token acceptance α measured on a short speculative run in the caller's sampling mode. */
  alpha: number;
  /** The draft length with the best predicted speed-up, and that speed-up. */
  k: number;
  speedup: number;
}

export interface SpeculativeCalibration {
  /** Median ms of one single-token verifier step after `context` positions. */
  verifierStepMs: number;
  /** verifyCost[k − 1] = (ms of a (k + 1)-token verifier forward) / verifierStepMs, k = 1..maxK. */
  verifyCost: number[];
  drafts: DraftCalibration[];
  /** The best (draft, k) when its predicted speed-up reaches `minSpeedup`; absent when speculation would not pay. */
  choice?: { label: string; k: number; speedup: number };
  context: number;
  minSpeedup: number;
}

export interface CalibrateOptions extends SamplingOptions {
  /** Positions before the timed calls (default 64, clamped to the context). */
  context?: number;
  /** Longest draft length considered (default 8). */
  maxK?: number;
  /** Timed calls per measurement (default 12; the median counts). */
  reps?: number;
  /** New tokens of the acceptance run per draft (default 48). */
  tokens?: number;
  /** Below this predicted speed-up speculation is reported as not paying (default 1.05). */
  minSpeedup?: number;
  /** The acceptance run's prompt (default: `context` tokens of a fixed pattern). */
  prompt?: number[];
  seed?: number;
}

/**
 * Wall-clock ms of each of `reps` forwards of T tokens (taken from `prefix`) from the state after
 * `prefix`, two warm-up calls excluded: the step cost of a decoding call at that context.
 */
export async function forwardTimes<S>(
  engine: LMEngine<S>,
  prefix: number[],
  T: number,
  reps: number,
): Promise<number[]> {
  const { state } = await engine.forward(prefix);
  const tokens = Array.from({ length: T }, (_, i) => prefix[i % prefix.length]);
  const times: number[] = [];
  try {
    for (let i = 0; i < reps + 2; i++) {
      const t0 = performance.now();
      const out = await engine.forward(tokens, state);
      if (i >= 2) times.push(performance.now() - t0);
      engine.release(out.state);
    }
  } finally {
    engine.release(state);
  }
  return times;
}

/**
 * Measures what speculative decoding would gain on these engines, here and now: the
 * verifier's single-step cost and its (k + 1)-token verification cost for every k, each draft's
 * step cost, and each draft's acceptance α on a short run. Predicts the speed-up of each
 * (draft, k) as E[tokens per round] / (k·c + verifyCost(k)) (Leviathan et al.'s formula with the
 * measured verification cost in place of 1) and picks the best; `choice` is absent when even
 * the best stays under `minSpeedup`, i.e. speculation would be slower than plain decoding.
 */
export async function calibrateSpeculative<V>(
  verifier: LMEngine<V>,
  drafts: { label: string; engine: LMEngine<unknown> }[],
  o: CalibrateOptions = {},
): Promise<SpeculativeCalibration> {
  const maxK = o.maxK ?? 8;
  const reps = o.reps ?? 12;
  const minSpeedup = o.minSpeedup ?? 1.05;
  if (!(Number.isInteger(maxK) && maxK >= 1))
    throw new ConfigError(`maxK must be an integer ≥ 1, got ${maxK}`);
  const room = verifier.maxSeqLen - maxK - 1;
  if (room < 1)
    throw new ConfigError(
      `the verifier's context (${verifier.maxSeqLen}) is too short to calibrate`,
    );
  const context = Math.max(1, Math.min(o.context ?? 64, room));
  const prefix = Array.from({ length: context }, (_, i) => (i * 7 + 3) % verifier.vocabSize);

  // Interleave the verifier and drafts so that load changes hit all of them alike.
  const vTimes: number[] = [];
  const dTimes = drafts.map(() => [] as number[]);
  for (let round = 0; round < 3; round++) {
    vTimes.push(...(await forwardTimes(verifier, prefix, 1, Math.ceil(reps / 3))));
    for (const [i, d] of drafts.entries())
      dTimes[i].push(...(await forwardTimes(d.engine, prefix, 1, Math.ceil(reps / 3))));
  }
  const verifierStepMs = median(vTimes);
  const verifyCost: number[] = [];
  for (let k = 1; k <= maxK; k++)
    verifyCost.push(median(await forwardTimes(verifier, prefix, k + 1, reps)) / verifierStepMs);

  const prompt = o.prompt ?? prefix.slice(0, Math.min(prefix.length, 32));
  const tokens = Math.max(1, Math.min(o.tokens ?? 48, verifier.maxSeqLen - prompt.length - 1));
  const calibrated: DraftCalibration[] = [];
  for (const [i, d] of drafts.entries()) {
    const { stats } = await speculativeGenerate(d.engine, verifier, prompt, {
      maxNewTokens: tokens,
      k: 4,
      adaptive: false,
      temperature: o.temperature,
      topK: o.topK,
      topP: o.topP,
      seed: o.seed,
    });
    const c = median(dTimes[i]) / verifierStepMs;
    const alpha = stats.alpha;
    let best = { k: 1, speedup: 0 };
    for (let k = 1; k <= maxK; k++) {
      const speedup = expectedTokensPerCall(alpha, k) / (k * c + verifyCost[k - 1]);
      if (speedup > best.speedup) best = { k, speedup };
    }
    calibrated.push({ label: d.label, stepMs: median(dTimes[i]), c, alpha, ...best });
  }
  const top = [...calibrated].sort((a, b) => b.speedup - a.speedup)[0];
  return {
    verifierStepMs,
    verifyCost,
    drafts: calibrated,
    choice:
      top && top.speedup >= minSpeedup
        ? { label: top.label, k: top.k, speedup: top.speedup }
        : undefined,
    context,
    minSpeedup,
  };
}
