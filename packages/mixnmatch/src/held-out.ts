import type { LanguageModel } from '@matformer/core';
import type { CachedEvaluator, EvaluationCache } from './evaluator';
import { lmEvaluator, type LMDataOptions } from './lm-evaluator';

/** Cached evaluators over the two halves of held-out tokens (see `searchAndReportHalves`). */
export interface SearchAndReport {
  /** Scores configs on the first half: what a search optimises. */
  search: CachedEvaluator;
  /** Scores configs on the second half, never seen by the search: the numbers to report. */
  report: CachedEvaluator;
  /** Frees both halves' tensors (the model and the cache belong to the caller). */
  dispose(): void;
}

/**
 * The held-out protocol of a Mix'n'Match search: search on one half of the held-out tokens,
 * report the chosen configs on the other, so the reported loss is not the one the search
 * overfit. Both halves are scored through `cache` under the model's content hash `modelId`.
 */
export function searchAndReportHalves(
  model: LanguageModel,
  tokens: ArrayLike<number>,
  cache: EvaluationCache,
  opts: Omit<LMDataOptions, 'start' | 'end'> & { modelId: string },
): SearchAndReport {
  const { modelId, ...data } = opts;
  const half = Math.floor(tokens.length / 2);
  const halves = [
    lmEvaluator(model, tokens, { ...data, start: 0, end: half }),
    lmEvaluator(model, tokens, { ...data, start: half, end: tokens.length }),
  ];
  const [search, report] = halves.map((h) =>
    cache.evaluator({ modelId, dataId: h.dataId, evaluate: h.evaluate, config: model.config }),
  );
  return { search, report, dispose: () => halves.forEach((h) => h.dispose()) };
}
