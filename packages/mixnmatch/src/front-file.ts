import type { Point } from './pareto';
import type { SearchResult } from './search';

/** The Pareto-front file: the budget, the front, every evaluated config, the trained granularities. */
export interface FrontFile {
  format: 'matformer-mixnmatch-front';
  version: 1;
  strategy: SearchResult['strategy'];
  budget: string;
  costKind: SearchResult['costKind'];
  costUnit: string;
  limit: number;
  seed: number;
  evaluations: number;
  best: Point;
  front: Point[];
  points: Point[];
  trained: Point[];
  /** The heuristic baseline under the same budget, when it was run. */
  heuristic?: { best: Point; evaluations: number };
}

/** The JSON object for a search (plus the trained granularities and the heuristic's result). */
export function frontFile(
  result: SearchResult,
  extra: { trained?: Point[]; heuristic?: SearchResult } = {},
): FrontFile {
  return {
    format: 'matformer-mixnmatch-front',
    version: 1,
    strategy: result.strategy,
    budget: result.budget.text,
    costKind: result.costKind,
    costUnit: result.costUnit,
    limit: result.limit,
    seed: result.seed,
    evaluations: result.evaluations,
    best: result.best,
    front: result.front,
    points: result.points,
    trained: extra.trained ?? [],
    ...(extra.heuristic
      ? { heuristic: { best: extra.heuristic.best, evaluations: extra.heuristic.evaluations } }
      : {}),
  };
}
