import { ConfigError, type LMEngine } from '@matformer/core';
import { checkStopTokens, type StopReason } from './checks';
import { ContextWindow, type WindowOptions } from './context-window';
import {
  argmax,
  createRng,
  logitsRow,
  probabilities,
  resolveSampling,
  sampleIndex,
  type SamplingOptions,
} from './sampling';
import { verifyGreedy, verifySampled } from './verify';

export interface SpeculativeOptions extends SamplingOptions, WindowOptions {
  /** New tokens to produce at most. */
  maxNewTokens: number;
  /** Draft length of the first round (with `adaptive`, the schedule's start). Default 4. */
  k?: number;
  /**
   * Hugging Face's schedule: k + 2 after a round whose drafts were all accepted, else
   * max(1, k − 1). Keeps speculation from losing much when acceptance is low. Default true.
   */
  adaptive?: boolean;
  /** Upper bound on k for the adaptive schedule. Default 16. */
  maxK?: number;
  /**
   * 'greedy': output identical to the verifier's greedy decoding. 'sample': rejection sampling,
   * output distributed exactly as the verifier's sampler (temperature default 1, topK, topP).
   * Default: 'sample' if temperature > 0, else 'greedy'.
   */
  mode?: 'greedy' | 'sample';
  /** Seed of the PRNG for sample mode. Default 0. */
  seed?: number;
  /** Generation ends right after any of these tokens (kept in the output). */
  stopTokens?: number[];
  /** Called after every round (for tracing and tests). */
  onRound?: (round: RoundInfo) => void;
}

export interface RoundInfo {
  round: number;
  /** Tokens drafted this round (k, clamped so the round cannot overrun the budget). */
  drafted: number;
  accepted: number;
  /** Tokens appended this round: the accepted drafts, then the verifier's correction or bonus. */
  emitted: number[];
  /** Prompt + generated tokens so far. */
  sequenceLength: number;
  /** Positions in the verifier's cache after rollback: sequenceLength − 1 − the window start (0 unless the window slid). */
  verifierCacheLength: number;
  /** Positions in the draft's own cache after rollback (absent when it shares the verifier's). */
  draftCacheLength?: number;
}

export interface SpeculativeStats {
  mode: 'greedy' | 'sample';
  promptTokens: number;
  newTokens: number;
  /** Draft/verify rounds. */
  rounds: number;
  /** Tokens the draft proposed, and how many the verifier accepted. */
  drafted: number;
  accepted: number;
  /** Rounds that ended in a rejection (the rest accepted every draft). */
  rejections: number;
  /** accepted / drafted (drafts after a rejection count as not accepted). */
  acceptanceRate: number;
  /**
   * Per-token acceptance probability estimated from the tokens actually checked:
   * accepted / (accepted + rejections). The α of Leviathan et al.'s formulas.
   */
  alpha: number;
  /** newTokens / verifierCalls. */
  tokensPerVerifierCall: number;
  verifierCalls: number;
  draftCalls: number;
  /** Mean draft length over rounds, and the last one (they differ with `adaptive`). */
  meanK: number;
  finalK: number;
  ms: number;
  tokensPerSecond: number;
  stopReason: StopReason;
  /** Whether the draft ran on top of the verifier's KV cache (`speculativeGenerateSharedCache`). */
  sharedCache: boolean;
  /** Prompt tokens left out of the context (a prompt longer than maxSeqLen, window 'slide'). */
  promptCropped: number;
  /** Times the context window moved (window 'slide'). */
  windowMoves: number;
}

export interface SpeculativeResult {
  /** The new tokens only. */
  tokens: number[];
  stats: SpeculativeStats;
}

/**
 * Speculative decoding: each round the draft proposes k tokens one at a time (with its KV
 * cache), the verifier scores all of them in ONE forward, the longest acceptable prefix is kept
 * and the verifier adds one token of its own (the correction at the first rejection, or a bonus
 * token after k acceptances). Both caches are then rolled back to the accepted length.
 * Greedy mode reproduces `generate(verifier)` token for token; sample mode preserves the
 * verifier's distribution exactly (rejection sampling). Any two engines with the same
 * vocabulary work; the draft is typically a nested submodel of the verifier's MatLM.
 */
export async function speculativeGenerate<D, V>(
  draft: LMEngine<D>,
  verifier: LMEngine<V>,
  prompt: number[],
  options: SpeculativeOptions,
): Promise<SpeculativeResult> {
  return runSpeculative(draft, verifier, prompt, options, false);
}

interface Resolved {
  mode: 'greedy' | 'sample';
  sampling: Required<SamplingOptions>;
  k: number;
  adaptive: boolean;
  maxK: number;
}

function resolveOptions(o: SpeculativeOptions): Resolved {
  const mode = o.mode ?? ((o.temperature ?? 0) > 0 ? 'sample' : 'greedy');
  if (mode !== 'greedy' && mode !== 'sample')
    throw new ConfigError(`mode must be "greedy" or "sample", got ${JSON.stringify(mode)}`);
  if (mode === 'greedy' && (o.temperature ?? 0) > 0)
    throw new ConfigError(
      `mode "greedy" takes no temperature (got ${o.temperature}); use mode "sample" to sample`,
    );
  const sampling = resolveSampling({
    temperature: mode === 'sample' ? (o.temperature ?? 1) : 0,
    topK: o.topK,
    topP: o.topP,
  });
  const k = o.k ?? 4;
  if (!(Number.isInteger(k) && k >= 1))
    throw new ConfigError(`k (draft length) must be an integer ≥ 1, got ${JSON.stringify(k)}`);
  const maxK = o.maxK ?? Math.max(16, k);
  if (!(Number.isInteger(maxK) && maxK >= k))
    throw new ConfigError(`maxK must be an integer ≥ k (${k}), got ${JSON.stringify(maxK)}`);
  return { mode, sampling, k, adaptive: o.adaptive ?? true, maxK };
}

/** The shared loop; `shareCache` lets the draft continue from the verifier's cache (see shared-cache.ts). */
export async function runSpeculative<D, V>(
  draft: LMEngine<D>,
  verifier: LMEngine<V>,
  prompt: number[],
  options: SpeculativeOptions,
  shareCache: boolean,
): Promise<SpeculativeResult> {
  const o = resolveOptions(options);
  if (draft.vocabSize !== verifier.vocabSize)
    throw new ConfigError(
      `draft and verifier vocabularies differ: ${draft.name} has ${draft.vocabSize} tokens, ${verifier.name} has ${verifier.vocabSize}`,
    );
  const Vsz = verifier.vocabSize;
  const limits = {
    vocabSize: Vsz,
    maxSeqLen: Math.min(draft.maxSeqLen, verifier.maxSeqLen),
    name: `${draft.name} / ${verifier.name}`,
  };
  // Both caches hold positions of seq[win.start, …): a window move voids them.
  const { win, budget, clampedBy } = ContextWindow.open(limits, prompt, options);
  const promptCropped = win.start;
  const stops = checkStopTokens(options.stopTokens, Vsz);
  const random = createRng(options.seed ?? 0);
  const greedy = o.mode === 'greedy';

  const t0 = performance.now();
  const seq = [...prompt]; // committed tokens: prompt + generated
  let vState: V | undefined; // verifier cache: always a prefix of seq, at most seq.length − 1
  let vLen = 0;
  let dState: D | undefined; // the draft's own cache (unused when sharing)
  let dLen = 0;
  let k = o.k;
  const s = {
    rounds: 0,
    drafted: 0,
    accepted: 0,
    rejections: 0,
    verifierCalls: 0,
    draftCalls: 0,
    kSum: 0,
  };
  let stopReason: StopReason = clampedBy ?? 'maxNewTokens';

  // Drafting: kEff forwards of the draft, each feeding what it has not seen yet.
  // Returns the drafted tokens, their distributions q (sample mode), and the draft's new state.
  const runDraft = async (kEff: number) => {
    const drafted: number[] = [];
    const q: Float64Array[] = [];
    // When sharing, the draft starts from the verifier's cache and owns only what it adds.
    let state: D | undefined = shareCache ? (vState as unknown as D) : dState;
    let len = shareCache ? vLen : dLen;
    let owned = !shareCache;
    if (!shareCache) [dState, dLen] = [undefined, 0]; // ownership moves here until drafting ends
    try {
      for (let i = 0; i < kEff; i++) {
        const input = i === 0 ? seq.slice(win.start + len) : [drafted[i - 1]];
        const out = await draft.forward(input, state);
        s.draftCalls++;
        if (owned && state !== undefined) draft.release(state);
        state = out.state;
        owned = true;
        len += input.length;
        const row = logitsRow(out.logits, input.length - 1, Vsz); // predicts drafted[i]
        if (greedy) drafted.push(argmax(row));
        else {
          q.push(probabilities(row, o.sampling));
          drafted.push(sampleIndex(q[i], random));
        }
      }
    } catch (e) {
      if (owned && state !== undefined) draft.release(state);
      throw e;
    }
    // Own cache now holds seq + drafted[0..kEff−2] (the last draft was never fed).
    return { drafted, q, state: owned ? state : undefined, len };
  };

  try {
    while (seq.length - prompt.length < budget) {
      const n = seq.length;
      if (win.advance(n)) {
        // The positions moved: both caches are void; each side prefills the kept tokens afresh.
        if (vState !== undefined) verifier.release(vState);
        if (dState !== undefined) draft.release(dState);
        [vState, vLen, dState, dLen] = [undefined, 0, undefined, 0];
      }
      if (shareCache && vState === undefined && n - win.start > 1) {
        // Prefill the verifier up to the last context token, so the draft never computes the prefix itself.
        const out = await verifier.forward(seq.slice(win.start, -1));
        s.verifierCalls++;
        vState = out.state;
        vLen = n - 1 - win.start;
      }
      // Leave room for the verifier's own token, so a round never overruns the budget.
      // And within the context window: every position this round predicts must fit in it.
      const kEff = Math.min(k, budget - (n - prompt.length) - 1, win.room(n));
      let d: Awaited<ReturnType<typeof runDraft>> = {
        drafted: [],
        q: [],
        state: undefined,
        len: 0,
      };
      if (kEff > 0) {
        d = await runDraft(kEff);
        if (shareCache) {
          if (d.state !== undefined) draft.release(d.state);
        } else [dState, dLen] = [d.state, d.len];
      }

      // Verify: the unseen committed tokens (≥ 1: the last one) then all drafts, in ONE forward.
      const fed = seq.slice(win.start + vLen);
      const out = await verifier.forward([...fed, ...d.drafted], vState);
      s.verifierCalls++;
      if (vState !== undefined) verifier.release(vState);
      vState = out.state; // holds n + kEff positions
      const base = fed.length - 1; // logits row that predicts drafted[0]
      const rows = Array.from({ length: kEff + 1 }, (_, i) => logitsRow(out.logits, base + i, Vsz));
      const verdict = greedy
        ? verifyGreedy(rows, d.drafted)
        : verifySampled(
            rows.map((r) => probabilities(r, o.sampling)),
            d.q,
            d.drafted,
            random,
          );

      let emitted = [...d.drafted.slice(0, verdict.accepted), verdict.next];
      const stopAt = emitted.findIndex((t) => stops.has(t));
      if (stopAt >= 0) emitted = emitted.slice(0, stopAt + 1);
      seq.push(...emitted);

      // Roll back: keep the positions of seq that are valid in each cache. The verifier saw
      // seq[..n) + every draft; drafts past the accepted ones are wrong, and it never saw the
      // correction/bonus token, which it will be fed first next round.
      const seen = n - win.start; // context positions before this round's drafts
      const vKeep = seen + verdict.accepted;
      if (vKeep < seen + kEff) {
        const cut = verifier.truncate(vState, vKeep);
        verifier.release(vState);
        vState = cut;
      }
      vLen = vKeep;
      // The draft saw seq[..n) + drafted[0..kEff−2]: keep at most the accepted ones.
      if (!shareCache && dState !== undefined && dLen > seen + verdict.accepted) {
        const cut = draft.truncate(dState, seen + verdict.accepted);
        draft.release(dState);
        dState = cut;
        dLen = seen + verdict.accepted;
      }

      s.rounds++;
      s.drafted += kEff;
      s.accepted += verdict.accepted;
      s.kSum += kEff;
      if (verdict.accepted < kEff) s.rejections++;
      options.onRound?.({
        round: s.rounds,
        drafted: kEff,
        accepted: verdict.accepted,
        emitted,
        sequenceLength: seq.length,
        verifierCacheLength: verifier.length(vState),
        draftCacheLength: shareCache || dState === undefined ? undefined : draft.length(dState),
      });
      if (o.adaptive && kEff > 0)
        k = verdict.accepted === kEff ? Math.min(o.maxK, k + 2) : Math.max(1, k - 1);
      if (stopAt >= 0) {
        stopReason = 'stopToken';
        break;
      }
    }
  } finally {
    if (vState !== undefined) verifier.release(vState);
    if (dState !== undefined) draft.release(dState);
  }

  const ms = performance.now() - t0;
  const newTokens = seq.length - prompt.length;
  return {
    tokens: seq.slice(prompt.length),
    stats: {
      mode: o.mode,
      promptTokens: prompt.length,
      newTokens,
      rounds: s.rounds,
      drafted: s.drafted,
      accepted: s.accepted,
      rejections: s.rejections,
      acceptanceRate: s.drafted > 0 ? s.accepted / s.drafted : 0,
      alpha: s.accepted + s.rejections > 0 ? s.accepted / (s.accepted + s.rejections) : 0,
      tokensPerVerifierCall: s.verifierCalls > 0 ? newTokens / s.verifierCalls : 0,
      verifierCalls: s.verifierCalls,
      draftCalls: s.draftCalls,
      meanK: s.rounds > 0 ? s.kSum / s.rounds : 0,
      finalK: k,
      ms,
      tokensPerSecond: ms > 0 ? (newTokens / ms) * 1000 : 0,
      stopReason,
      sharedCache: shareCache,
      promptCropped,
      windowMoves: win.moves,
    },
  };
}
