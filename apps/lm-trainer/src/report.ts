import { TfjsLMEngine, type LanguageModel } from '@matformer/core';
import { generate } from '@matformer/speculative';
import { decodeBytes, encodeBytes, formatEvalTable, type EvalResult } from '@matformer/train';

/** The end-of-run table: every granularity's held-out loss against the unigram floor. */
export function formatReport(result: EvalResult, unigramBits: number): string {
  const bits = result.rows.map((r) => r.bitsPerToken!);
  const gap = (bits[0] / bits[bits.length - 1] - 1) * 100;
  return [
    formatEvalTable(result),
    '',
    `unigram baseline: ${unigramBits.toFixed(3)} bits/byte (every granularity should be well below)`,
    result.rows.length > 1
      ? `smallest vs largest granularity: ${gap >= 0 ? '+' : ''}${gap.toFixed(1)}% bits/byte`
      : '',
  ].join('\n');
}

/**
 * A continuation of `prompt` by the model at the given widths. The prompt keeps at most half
 * the context (its tail), so the sample has room to grow.
 */
export async function sampleText(
  model: LanguageModel,
  widths: number | number[],
  prompt: string,
  opts: { maxNewTokens: number; temperature: number; topK?: number; topP?: number; seed: number },
): Promise<{ prompt: string; text: string }> {
  const engine = new TfjsLMEngine(model, widths);
  const tokens = Array.from(encodeBytes(prompt)).slice(-Math.floor(model.config.maxSeqLen / 2));
  const budget = Math.min(opts.maxNewTokens, model.config.maxSeqLen - tokens.length);
  const out = await generate(engine, tokens, { ...opts, maxNewTokens: budget });
  engine.dispose();
  return { prompt: decodeBytes(tokens), text: decodeBytes(out.tokens) };
}

/** Prints a short sample from the smallest and the largest submodel. */
export async function printSamples(
  model: LanguageModel,
  prompt: string,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const g = model.config.granularities;
  for (const m of [g[0], g[g.length - 1]]) {
    const s = await sampleText(model, m, prompt, {
      maxNewTokens: 100,
      temperature: 0.8,
      topK: 40,
      seed: 1,
    });
    out.write(`\n--- sample, width ${m} (temperature 0.8, top-k 40) ---\n${s.prompt}${s.text}\n`);
  }
}
