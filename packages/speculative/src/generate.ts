import type { LMEngine } from '@matformer/core';
import { checkStopTokens, type StopReason } from './checks';
import { ContextWindow, type WindowOptions } from './context-window';
import { createRng, logitsRow, pickToken, resolveSampling, type SamplingOptions } from './sampling';

export interface GenerateOptions extends SamplingOptions, WindowOptions {
  /** New tokens to produce at most (fewer if a stop token comes or the context fills up). */
  maxNewTokens: number;
  /** Seed of the sampler's PRNG (ignored when greedy). Default 0. */
  seed?: number;
  /** Generation ends right after any of these tokens (which is kept in the output). */
  stopTokens?: number[];
}

export interface GenerateStats {
  promptTokens: number;
  newTokens: number;
  /** Engine forward calls: one prefill, then one per further token. */
  forwardCalls: number;
  /** Wall-clock time of the whole generation, prefill included. */
  ms: number;
  /** newTokens / seconds. */
  tokensPerSecond: number;
  stopReason: StopReason;
  /** Prompt tokens left out of the context (a prompt longer than maxSeqLen, window 'slide'). */
  promptCropped: number;
  /** Times the context window moved (window 'slide'; each one re-prefills the kept tokens). */
  windowMoves: number;
}

export interface GenerateResult {
  /** The new tokens only (the prompt is not repeated). */
  tokens: number[];
  stats: GenerateStats;
}

/**
 * Plain autoregressive decoding with the engine's KV cache: the prompt is prefilled in one
 * forward, then each new token costs one single-token forward. Greedy by default
 * (temperature 0); temperature / topK / topP sample with a seeded PRNG.
 * The sequence (prompt + new) never exceeds engine.maxSeqLen.
 */
export async function generate<S>(
  engine: LMEngine<S>,
  prompt: number[],
  options: GenerateOptions,
): Promise<GenerateResult> {
  const sampling = resolveSampling(options);
  const { win, budget, clampedBy } = ContextWindow.open(engine, prompt, options);
  const promptCropped = win.start;
  const stops = checkStopTokens(options.stopTokens, engine.vocabSize);
  const random = createRng(options.seed ?? 0);
  const V = engine.vocabSize;
  const t0 = performance.now();
  const tokens: number[] = [];
  let forwardCalls = 0;
  let stopReason: StopReason = clampedBy ?? 'maxNewTokens';
  let state: S | undefined;
  const seq = [...prompt];
  try {
    let input = seq.slice(win.start);
    while (tokens.length < budget) {
      if (win.advance(seq.length)) {
        // The positions moved: the cache is void; prefill the kept tokens afresh.
        if (state !== undefined) engine.release(state);
        state = undefined;
        input = seq.slice(win.start);
      }
      const out = await engine.forward(input, state);
      forwardCalls++;
      if (state !== undefined) engine.release(state);
      state = out.state;
      const next = pickToken(logitsRow(out.logits, input.length - 1, V), sampling, random);
      tokens.push(next);
      seq.push(next);
      if (stops.has(next)) {
        stopReason = 'stopToken';
        break;
      }
      input = [next];
    }
  } finally {
    if (state !== undefined) engine.release(state);
  }
  const ms = performance.now() - t0;
  return {
    tokens,
    stats: {
      promptTokens: prompt.length,
      newTokens: tokens.length,
      forwardCalls,
      ms,
      tokensPerSecond: ms > 0 ? (tokens.length / ms) * 1000 : 0,
      stopReason,
      promptCropped,
      windowMoves: win.moves,
    },
  };
}
