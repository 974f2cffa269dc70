// Consistency and speculative decoding, MatLM submodels vs independently trained baselines.
// MatLM: reference/verifier = the full model, draft = a granularity extracted to a dense model
// (as one would deploy it). Baseline: reference/verifier = the full-width baseline, draft = the
// baseline of the draft's width. The first seed's models. Consistency on tfjs; speculative
// decoding timed on tfjs (the default backend), on onnxruntime with the portable plain-op export
// and with the decoder graph (fused ops, in-place KV buffer: what serving uses). Greedy.
import { loadavg } from 'node:os';
import {
  extract,
  flopsPerToken,
  median,
  paramCount,
  TfjsLMEngine,
  type LMEngine,
  type MatLM,
} from '@matformer/core';
import { OnnxDecoderEngine, OnnxLMEngine, toOnnx } from '@matformer/core/onnx';
import {
  analyticSpeedup,
  consistency,
  forwardTimes,
  generate,
  speculativeGenerate,
  tokenWindows,
  type ConsistencyReport,
} from '@matformer/speculative';
import { decodeBytes } from '@matformer/train';
import { firstBaseline, firstMatLM, type LMFamily } from './lm';
import type { Settings } from './settings';

export interface ConsistencyRow {
  width: number;
  params: number;
  matformer: ConsistencyReport;
  baseline: ConsistencyReport;
}

export interface SpecStats {
  /** Accepted / drafted tokens. */
  acceptanceRate: number;
  /** Per-token acceptance α = accepted / (accepted + rejections). */
  alpha: number;
  tokensPerVerifierCall: number;
  /** Summed over prompts: the fastest of the repetitions per prompt. */
  ms: number;
  /** Plain greedy decoding of the same verifier, same prompts, same run. */
  plainMs: number;
  speedup: number;
  /** Leviathan et al.'s expected speed-up from α, k and the draft/verifier FLOPs ratio. */
  analytic: number;
  /** Median ms of one draft forward of 1 token after a cached prefix. */
  draftStepMs: number;
  /**
   * The speed-up the measured step times predict: tokens per round × verifier 1-token step /
   * (k draft steps + one (k+1)-token verification). Per-call overhead is in it; FLOPs are not.
   */
  stepTimeModel: number;
  /** Prompts whose output equals the verifier's plain greedy output (must be all). */
  identical: number;
}

export interface SpeculativeRow {
  width: number;
  params: number;
  matformer: SpecStats;
  baseline: SpecStats;
}

export type DecodeEngine = 'tfjs' | 'ort' | 'ort-decoder';

const ENGINE_LABELS: Record<DecodeEngine, string> = {
  tfjs: 'tfjs',
  ort: 'onnxruntime (plain export)',
  'ort-decoder': 'onnxruntime (decoder graph)',
};
export const engineLabel = (sp: { engine: DecodeEngine }) => ENGINE_LABELS[sp.engine];

export interface SpeculativeResult {
  /**
   * tfjs (TfjsLMEngine on the default backend), ort (OnnxLMEngine on the plain-op ONNX export) or
   * ort-decoder (OnnxDecoderEngine on the decoder graph).
   */
  engine: DecodeEngine;
  /** The engines' own names, e.g. "tfjs-wasm [..]" / "onnxruntime-cpu [..]" (the verifier's). */
  engineName: string;
  rows: SpeculativeRow[];
  prompts: string[];
  newTokens: number;
  k: number;
  reps: number;
  /** 1-minute load average before and after the timing (others' jobs skew wall-clock numbers). */
  load: [number, number];
  /** Median ms of the verifiers' forwards after a cached prefix: 1 token (a plain decoding step) and k+1 (a verification). */
  verifierStepMs: Record<'matformer' | 'baseline', { one: number; verify: number }>;
}

/** Median wall-clock ms of `engine.forward(T tokens)` after a cached `prefix`. */
export async function stepMs<S>(engine: LMEngine<S>, prefix: number[], T: number, reps = 25): Promise<number> {
  return median(await forwardTimes(engine, prefix, T, reps));
}

const full = (f: LMFamily) => f.config.dFF;
const smaller = (f: LMFamily) => f.config.granularities.slice(0, -1);

export async function consistencyRows(f: LMFamily, s: Settings['consistency']): Promise<ConsistencyRow[]> {
  const windows = tokenWindows(f.corpus.val, s.windows, s.length);
  const opts = { promptLength: s.promptLength, greedyTokens: s.greedyTokens };
  const matFull = new TfjsLMEngine(firstMatLM(f).model);
  const baseFull = new TfjsLMEngine(firstBaseline(f, full(f)).model);
  const rows: ConsistencyRow[] = [];
  for (const w of smaller(f)) {
    rows.push({
      width: w,
      params: paramCount(f.config, w),
      matformer: await consistency(matFull, new TfjsLMEngine(firstMatLM(f).model, w), windows, opts),
      baseline: await consistency(baseFull, new TfjsLMEngine(firstBaseline(f, w).model), windows, opts),
    });
  }
  return rows;
}

/** Prompts: evenly spaced slices of the held-out text, starting at a word boundary. */
function heldOutPrompts(f: LMFamily, n: number, length: number): number[][] {
  const val = f.corpus.val;
  const stride = Math.floor((val.length - 2 * length) / n);
  return Array.from({ length: n }, (_, i) => {
    let at = i * stride;
    while (at < val.length - length - 1 && val[at] !== 32) at++; // a space
    return Array.from(val.subarray(at + 1, at + 1 + length));
  });
}

/** An engine serving `model` (a dense model: extracted or a baseline). */
async function engineFor(kind: DecodeEngine, model: MatLM): Promise<LMEngine<unknown>> {
  if (kind === 'tfjs') return new TfjsLMEngine(model) as LMEngine<unknown>;
  if (kind === 'ort-decoder') return (await OnnxDecoderEngine.fromModel(model)) as unknown as LMEngine<unknown>;
  return (await OnnxLMEngine.fromBytes(toOnnx(model).bytes)) as unknown as LMEngine<unknown>;
}

export async function speculativeRows(
  f: LMFamily,
  s: Settings['speculative'],
  kind: DecodeEngine,
): Promise<SpeculativeResult> {
  const prompts = heldOutPrompts(f, s.prompts, s.promptLength);
  const load0 = loadavg()[0];
  const verifiers = {
    matformer: await engineFor(kind, firstMatLM(f).model),
    baseline: await engineFor(kind, firstBaseline(f, full(f)).model),
  };
  const extracted: MatLM[] = smaller(f).map((w) => extract(firstMatLM(f).model, w));
  const drafts: { width: number; matformer: LMEngine<unknown>; baseline: LMEngine<unknown> }[] = [];
  for (const [i, w] of smaller(f).entries())
    drafts.push({
      width: w,
      matformer: await engineFor(kind, extracted[i]),
      baseline: await engineFor(kind, firstBaseline(f, w).model),
    });
  const families = ['matformer', 'baseline'] as const;
  const decode = { maxNewTokens: s.newTokens };
  const spec = { maxNewTokens: s.newTokens, k: s.k, adaptive: false, mode: 'greedy' as const };

  // Warm-up: the first forward of each shape compiles/allocates; keep it out of the timings.
  for (const fam of families) {
    await generate(verifiers[fam], prompts[0], { maxNewTokens: 2 });
    for (const d of drafts) await speculativeGenerate(d[fam], verifiers[fam], prompts[0], { ...spec, maxNewTokens: 4 });
  }

  type Acc = { ms: number[]; accepted: number; drafted: number; rejections: number; calls: number; tokens: number; identical: number };
  const acc = () => ({ ms: prompts.map(() => Infinity), accepted: 0, drafted: 0, rejections: 0, calls: 0, tokens: 0, identical: 0 }) as Acc;
  const plain = { matformer: acc(), baseline: acc() };
  const specAcc = drafts.map(() => ({ matformer: acc(), baseline: acc() }));

  for (let rep = 0; rep < s.reps; rep++) {
    for (const [pi, prompt] of prompts.entries()) {
      // Interleaved, so a burst of someone else's load hits every config alike.
      for (const fam of families) {
        const t0 = performance.now();
        const out = await generate(verifiers[fam], prompt, decode);
        plain[fam].ms[pi] = Math.min(plain[fam].ms[pi], performance.now() - t0);
        for (const [di, d] of drafts.entries()) {
          const a = specAcc[di][fam];
          const t1 = performance.now();
          const r = await speculativeGenerate(d[fam], verifiers[fam], prompt, spec);
          a.ms[pi] = Math.min(a.ms[pi], performance.now() - t1);
          if (rep > 0) continue; // greedy: the tokens and counts are the same every repetition
          a.accepted += r.stats.accepted;
          a.drafted += r.stats.drafted;
          a.rejections += r.stats.rejections;
          a.calls += r.stats.verifierCalls;
          a.tokens += r.tokens.length;
          if (r.tokens.join() === out.tokens.join()) a.identical++;
        }
      }
    }
  }
  // Step costs, after the timed runs so the same warm engines are measured.
  const verifierStepMs = {
    matformer: { one: await stepMs(verifiers.matformer, prompts[0], 1), verify: await stepMs(verifiers.matformer, prompts[0], s.k + 1) },
    baseline: { one: await stepMs(verifiers.baseline, prompts[0], 1), verify: await stepMs(verifiers.baseline, prompts[0], s.k + 1) },
  };
  const draftStepMs: Record<(typeof families)[number], number>[] = [];
  for (const d of drafts) draftStepMs.push({ matformer: await stepMs(d.matformer, prompts[0], 1), baseline: await stepMs(d.baseline, prompts[0], 1) });
  const engineName = verifiers.matformer.name;
  for (const e of [verifiers.matformer, verifiers.baseline, ...drafts.flatMap((d) => [d.matformer, d.baseline])]) e.dispose();
  extracted.forEach((m) => m.dispose());

  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const rows = drafts.map((d, di) => {
    const stats = (fam: (typeof families)[number]): SpecStats => {
      const a = specAcc[di][fam];
      const alpha = a.accepted + a.rejections > 0 ? a.accepted / (a.accepted + a.rejections) : 0;
      const c = flopsPerToken(f.config, d.width) / flopsPerToken(f.config);
      const tau = a.calls ? a.tokens / a.calls : 1;
      const v = verifierStepMs[fam];
      const dMs = draftStepMs[di][fam];
      return {
        acceptanceRate: a.drafted ? a.accepted / a.drafted : 0,
        alpha,
        tokensPerVerifierCall: a.calls ? a.tokens / a.calls : 0,
        ms: sum(a.ms),
        plainMs: sum(plain[fam].ms),
        speedup: sum(plain[fam].ms) / sum(a.ms),
        analytic: analyticSpeedup(alpha, s.k, c),
        draftStepMs: dMs,
        stepTimeModel: (tau * v.one) / (s.k * dMs + v.verify),
        identical: a.identical,
      };
    };
    return { width: d.width, params: paramCount(f.config, d.width), matformer: stats('matformer'), baseline: stats('baseline') };
  });
  return {
    engine: kind,
    engineName,
    rows,
    prompts: prompts.map((p) => decodeBytes(p)),
    newTokens: s.newTokens,
    k: s.k,
    reps: s.reps,
    load: [load0, loadavg()[0]],
    verifierStepMs,
  };
}
