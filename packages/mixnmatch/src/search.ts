import { ConfigError } from '@matformer/core';
import { budgetLimit, checkFeasible, parseBudget, type Budget } from './budget';
import { SearchContext } from './context';
import type { CostModel } from './cost';
import type { CachedEvaluator } from './evaluator';
import { paretoFront, type Point } from './pareto';
import type { SearchSpace } from './space';
import { evolutionarySearch } from './strategies/evolutionary';
import { exhaustiveSearch } from './strategies/exhaustive';
import { heuristicSearch } from './strategies/heuristic';

export const strategyNames = ['evolutionary', 'heuristic', 'exhaustive'] as const;
export type StrategyName = (typeof strategyNames)[number];

export interface SearchOptions {
  space: SearchSpace;
  cost: CostModel;
  /** A Budget or its string form ("params=70%", "flops=5M", "latency=3ms"). */
  budget: Budget | string;
  evaluator: CachedEvaluator;
  /** Default "evolutionary". */
  strategy?: StrategyName;
  /** Evolutionary: distinct configs to evaluate (default 48). */
  evaluations?: number;
  /** Evolutionary: population size (default 12). */
  population?: number;
  seed?: number;
  /** Heuristic: how many of the best-fitting heuristic configs to evaluate (default 3). */
  heuristicTop?: number;
  /** Exhaustive: the largest space it accepts (default 4096 configs). */
  exhaustiveLimit?: number;
}

export interface SearchResult {
  strategy: StrategyName;
  budget: Budget;
  /** The absolute limit, in the cost model's unit. */
  limit: number;
  costKind: Budget['kind'];
  costUnit: string;
  /** The lowest-loss config evaluated (every evaluated config fits the budget). */
  best: Point;
  /** Every config this search evaluated, in order. */
  points: Point[];
  /** The non-dominated points by (cost, loss), ascending cost. */
  front: Point[];
  /** Distinct configs this search evaluated (whether or not the cache already knew them). */
  evaluations: number;
  /** Of those, how many the evaluator actually ran (the rest came from the cache). */
  newEvaluations: number;
  seed: number;
}

/**
 * Finds the lowest-loss config within a budget. Feasibility is checked first (the cheapest
 * config must fit, else a BudgetError); then the strategy runs, evaluating only configs in
 * budget through the cached evaluator.
 */
export async function search(opts: SearchOptions): Promise<SearchResult> {
  const strategy = opts.strategy ?? 'evolutionary';
  if (!strategyNames.includes(strategy))
    throw new ConfigError(`unknown strategy "${strategy}"; allowed: ${strategyNames.join(', ')}`);
  for (const field of ['evaluations', 'population', 'heuristicTop', 'exhaustiveLimit'] as const) {
    const v = opts[field];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      throw new ConfigError(`${field} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  const budget = typeof opts.budget === 'string' ? parseBudget(opts.budget) : opts.budget;
  const limit = await budgetLimit(budget, opts.cost, opts.space);
  await checkFeasible(budget, limit, opts.cost, opts.space);
  const ctx = new SearchContext(opts.space, opts.cost, limit, opts.evaluator);
  const callsBefore = opts.evaluator.calls;
  const seed = opts.seed ?? 0;
  if (strategy === 'heuristic') await heuristicSearch(ctx, { top: opts.heuristicTop });
  else if (strategy === 'exhaustive') await exhaustiveSearch(ctx, { limit: opts.exhaustiveLimit });
  else
    await evolutionarySearch(ctx, {
      evaluations: opts.evaluations,
      population: opts.population,
      seed,
    });
  const points = [...ctx.points.values()];
  const best = points.reduce((a, b) => (b.loss < a.loss ? b : a));
  return {
    strategy,
    budget,
    limit,
    costKind: budget.kind,
    costUnit: opts.cost.unit,
    best,
    points,
    front: paretoFront(points),
    evaluations: points.length,
    newEvaluations: opts.evaluator.calls - callsBefore,
    seed,
  };
}
