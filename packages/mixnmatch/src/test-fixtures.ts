import * as tf from '@tensorflow/tfjs';
import { MatLM, matlmConfig } from '@matformer/core';
import { EvaluationCache, type CachedEvaluator } from './evaluator';
import { lmEvaluator, type DataEvaluator } from './lm-evaluator';

/** A tiny 4-layer MatLM (granularities 8/16/32/64: 4^4 = 256 configs) on the cpu backend. */
export async function tinyModel(nLayers = 4, seed = 1): Promise<MatLM> {
  await tf.setBackend('cpu');
  return MatLM.create(matlmConfig('tiny', { nLayers }), seed);
}

/** A fixed pseudo-random token stream with some structure (so widths change the loss). */
export function tokenStream(n = 1200, vocab = 32): Uint8Array {
  const out = new Uint8Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = i % 3 === 0 ? (s >>> 16) % vocab : (out[i - 1] + 1) % vocab;
  }
  return out;
}

/** An in-memory cached evaluator over a small range of held-out tokens, with a counter of real evaluations. */
export async function countingEvaluator(
  model: MatLM,
  opts: { file?: string; start?: number; end?: number } = {},
): Promise<{ evaluator: CachedEvaluator; raw: DataEvaluator; calls: () => number }> {
  const raw = lmEvaluator(model, tokenStream(), {
    seqLen: 16,
    windows: 6,
    batchSize: 6,
    start: opts.start,
    end: opts.end,
    name: 'test',
  });
  let n = 0;
  const cache = await EvaluationCache.open(opts.file);
  const evaluator = cache.evaluator({
    modelId: 'tiny',
    dataId: raw.dataId,
    config: model.config,
    evaluate: (w) => {
      n++;
      return raw.evaluate(w);
    },
  });
  return { evaluator, raw, calls: () => n };
}
