import { flopsPerToken, paramCount, type Widths } from '@matformer/core';
import type { CostModel } from './cost';
import type { CachedEvaluator } from './evaluator';
import type { Point } from './pareto';
import { widthsKey, type SearchSpace } from './space';

/** What every strategy works with: the space, the budget's cost and limit, a cached evaluator. */
export class SearchContext {
  /** Configs this search evaluated, by key, in order. */
  readonly points = new Map<string, Point>();

  constructor(
    readonly space: SearchSpace,
    readonly cost: CostModel,
    readonly limit: number,
    readonly evaluator: CachedEvaluator,
  ) {}

  /** Within the budget? (Cost only: never evaluates quality.) */
  async fits(w: Widths): Promise<boolean> {
    return (await this.cost.of(w)) <= this.limit;
  }

  seen(w: Widths): boolean {
    return this.points.has(widthsKey(w));
  }

  /** Quality and costs of a config (through the evaluation cache), recorded in `points`. */
  async evaluate(w: Widths): Promise<Point> {
    const key = widthsKey(w);
    const known = this.points.get(key);
    if (known) return known;
    const q = await this.evaluator.evaluate(w);
    const config = this.space.config;
    const point: Point = {
      widths: [...w],
      cost: await this.cost.of(w),
      params: paramCount(config, w),
      flops: flopsPerToken(config, w),
      ...q,
    };
    this.points.set(key, point);
    return point;
  }
}
