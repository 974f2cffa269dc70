// Speculative decoding where it can pay: a MatLM big enough that a decoding step is bound by
// reading its weights rather than by per-call overhead (the `large` preset, 25.5M parameters), on
// onnxruntime's decoder graph, batch 1. Verifier = the full model; drafts = its smallest
// granularity extracted (float32, and int8 weights: a quarter of the bytes per step) and an
// independently trained dense model of the same width (int8). Greedy at a fixed k (outputs must
// equal plain greedy decoding) and rejection sampling. The models are tools/bench-speculative.ts's
// (../speculative-models.ts, one cache for both).
import { loadavg } from 'node:os';
import { paramCount, type LMEngine } from '@matformer/core';
import { OnnxDecoderEngine } from '@matformer/core/onnx';
import { expectedTokensPerCall, generate, speculativeGenerate, tokenWindows } from '@matformer/speculative';
import type { TextCorpus } from '@matformer/train';
import type { SpeculativeModels } from '../speculative-models';
import { stepMs } from './decoding';
import type { Settings } from './settings';

export interface LargeSpecRow {
  /** e.g. "MatLM 256 int8", "independent 256 int8". */
  draft: string;
  family: 'matformer' | 'independent';
  int8: boolean;
  mode: 'greedy' | 'sample';
  /** Accepted / drafted tokens. */
  acceptance: number;
  /** Per-token acceptance α = accepted / (accepted + rejections). */
  alpha: number;
  tokensPerVerifierCall: number;
  tokensPerSecond: number;
  /** Plain decoding time of the verifier (same mode, prompts and run) / speculative time. */
  speedup: number;
  /** Median ms of one draft forward of 1 token after a cached prefix. */
  draftStepMs: number;
  /**
   * The speed-up the measured step times allow: expected tokens per round (from α and k) × a
   * verifier step / (k draft steps + one (k+1)-token verification).
   */
  stepTimeBound: number;
  /** Greedy: prompts whose output equals plain greedy decoding (must be all). */
  identical: number;
}

/** The measurement settings (threads, k, temperature, prompts, lengths, reps) and what was measured. */
export interface LargeSpecResult extends Omit<Settings['speculativeLarge'], 'training' | 'root'> {
  preset: string;
  params: number;
  /** The drafts' FFN width (the smallest granularity) and parameter count. */
  draftWidth: number;
  draftParams: number;
  trainSteps: number;
  /** Held-out bits/byte at the end of training: the full model, its smallest granularity, the independent draft. */
  heldOut: { full: number; smallest: number; independent: number };
  plainTokensPerSecond: { greedy: number; sample: number };
  /** Median ms of the verifier's forward after a cached prefix: 1 token and k+1. */
  verifierStepMs: { one: number; verify: number };
  rows: LargeSpecRow[];
  load: [number, number];
}

type Sums = { ms: number[]; accepted: number; drafted: number; rejections: number; calls: number; tokens: number; identical: number };

export async function largeSpeculative(
  models: SpeculativeModels,
  corpus: TextCorpus,
  s: Settings['speculativeLarge'],
): Promise<LargeSpecResult> {
  const load0 = loadavg()[0];
  const { model, baseline } = models;
  const g0 = model.config.granularities[0];
  const prompts = tokenWindows(corpus.val, s.prompts, s.promptLength);
  const opts = { intraOpNumThreads: s.threads };
  const verifier = await OnnxDecoderEngine.fromModel(model, opts);
  const drafts = new Map<string, LMEngine<unknown>>([
    [`MatLM ${g0}`, await OnnxDecoderEngine.fromModel(model, { ...opts, widths: g0 })],
    [`MatLM ${g0} int8`, await OnnxDecoderEngine.fromModel(model, { ...opts, widths: g0, quantize: 'int8' })],
    [`independent ${g0} int8`, await OnnxDecoderEngine.fromModel(baseline, { ...opts, quantize: 'int8' })],
  ] as [string, LMEngine<unknown>][]);
  const configs: { draft: string; mode: 'greedy' | 'sample' }[] = [
    ...[...drafts.keys()].map((draft) => ({ draft, mode: 'greedy' as const })),
    { draft: `MatLM ${g0} int8`, mode: 'sample' },
    { draft: `independent ${g0} int8`, mode: 'sample' },
  ];
  const family = (draft: string) => (draft.startsWith('MatLM') ? 'matformer' : 'independent');
  const sampling = (mode: 'greedy' | 'sample', seed: number) =>
    mode === 'sample' ? { mode, temperature: s.temperature, seed } : { mode };

  // Warm-up: the first call of each shape allocates; keep it out of the timings.
  await generate(verifier, prompts[0], { maxNewTokens: 4 });
  for (const d of drafts.values()) await speculativeGenerate(d, verifier, prompts[0], { maxNewTokens: 8, k: s.k, adaptive: false });

  const sums = (): Sums => ({ ms: prompts.map(() => Infinity), accepted: 0, drafted: 0, rejections: 0, calls: 0, tokens: 0, identical: 0 });
  const plain = { greedy: sums(), sample: sums() };
  const spec = configs.map(sums);
  const reference: string[] = [];
  for (let rep = 0; rep < s.reps; rep++)
    for (const [pi, prompt] of prompts.entries()) {
      // Interleaved, so a burst of someone else's load hits every config alike.
      for (const mode of ['greedy', 'sample'] as const) {
        const t0 = performance.now();
        const out = await generate(verifier, prompt, { maxNewTokens: s.newTokens, ...sampling(mode, pi) });
        plain[mode].ms[pi] = Math.min(plain[mode].ms[pi], performance.now() - t0);
        plain[mode].tokens += rep === 0 ? out.tokens.length : 0;
        if (mode === 'greedy') reference[pi] = out.tokens.join();
      }
      for (const [ci, c] of configs.entries()) {
        const a = spec[ci];
        const t0 = performance.now();
        const r = await speculativeGenerate(drafts.get(c.draft)!, verifier, prompt, {
          maxNewTokens: s.newTokens,
          k: s.k,
          adaptive: false,
          ...sampling(c.mode, pi),
        });
        a.ms[pi] = Math.min(a.ms[pi], performance.now() - t0);
        if (rep > 0) continue; // same seeds every repetition: the same tokens and counts
        a.accepted += r.stats.accepted;
        a.drafted += r.stats.drafted;
        a.rejections += r.stats.rejections;
        a.calls += r.stats.verifierCalls;
        a.tokens += r.tokens.length;
        if (c.mode === 'greedy' && r.tokens.join() === reference[pi]) a.identical++;
      }
    }
  // Step costs, after the timed runs so the same warm engines are measured.
  const verifierStepMs = { one: await stepMs(verifier, prompts[0], 1), verify: await stepMs(verifier, prompts[0], s.k + 1) };
  const draftStepMs = new Map<string, number>();
  for (const [name, d] of drafts) draftStepMs.set(name, await stepMs(d, prompts[0], 1));
  verifier.dispose();
  for (const d of drafts.values()) d.dispose();

  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const rows = configs.map((c, ci): LargeSpecRow => {
    const a = spec[ci];
    const alpha = a.accepted + a.rejections > 0 ? a.accepted / (a.accepted + a.rejections) : 0;
    const dMs = draftStepMs.get(c.draft)!;
    const v = verifierStepMs;
    const p = plain[c.mode];
    return {
      draft: c.draft,
      family: family(c.draft),
      int8: c.draft.endsWith('int8'),
      mode: c.mode,
      acceptance: a.drafted ? a.accepted / a.drafted : 0,
      alpha,
      tokensPerVerifierCall: a.calls ? a.tokens / a.calls : 0,
      tokensPerSecond: (a.tokens / sum(a.ms)) * 1000,
      speedup: sum(p.ms) / p.tokens / (sum(a.ms) / a.tokens),
      draftStepMs: dMs,
      stepTimeBound: (expectedTokensPerCall(alpha, s.k) * v.one) / (s.k * dMs + v.verify),
      identical: a.identical,
    };
  });
  const g = model.config.granularities;
  return {
    preset: s.training.label,
    params: paramCount(model.config),
    draftWidth: g0,
    draftParams: paramCount(model.config, g0),
    trainSteps: s.training.steps,
    heldOut: {
      full: models.heldOut.matformer[String(g[g.length - 1])] ?? NaN,
      smallest: models.heldOut.matformer[String(g0)] ?? NaN,
      independent: models.heldOut.baseline,
    },
    threads: s.threads,
    k: s.k,
    temperature: s.temperature,
    prompts: s.prompts,
    promptLength: s.promptLength,
    newTokens: s.newTokens,
    reps: s.reps,
    plainTokensPerSecond: {
      greedy: (plain.greedy.tokens / sum(plain.greedy.ms)) * 1000,
      sample: (plain.sample.tokens / sum(plain.sample.ms)) * 1000,
    },
    verifierStepMs,
    rows,
    load: [load0, loadavg()[0]],
  };
}
