import type { Widths } from '@matformer/core';
import type { SearchContext } from '../context';
import { cheapestConfig, inSpace, widthsKey, type SearchSpace } from '../space';

/**
 * The paper's heuristic family: granularity non-decreasing with depth and changing at most
 * once, by one step — layers [0, k) at g_i, layers [k, L) at g_{i+1}. Includes every uniform
 * config; (g − 1)(L − 1) + g configs in all, never a skipped layer.
 */
export function heuristicConfigs(space: SearchSpace): Widths[] {
  const g = space.config.granularities;
  const L = space.options.length;
  const seen = new Set<string>();
  const out: Widths[] = [];
  const add = (w: Widths) => {
    if (inSpace(space, w) && !seen.has(widthsKey(w))) {
      seen.add(widthsKey(w));
      out.push(w);
    }
  };
  g.forEach((m) => add(Array(L).fill(m)));
  for (let i = 0; i + 1 < g.length; i++)
    for (let k = 1; k < L; k++) add(Array.from({ length: L }, (_, l) => (l < k ? g[i] : g[i + 1])));
  return out;
}

/** Heuristic configs within the budget, costliest first (the best-fitting ones). */
export async function fittingHeuristicConfigs(ctx: SearchContext): Promise<Widths[]> {
  const costed = await Promise.all(
    heuristicConfigs(ctx.space).map(async (w) => ({ w, c: await ctx.cost.of(w) })),
  );
  return costed
    .filter(({ c }) => c <= ctx.limit)
    .sort((a, b) => b.c - a.c)
    .map(({ w }) => w);
}

/**
 * The baseline: evaluate the `top` heuristic configs that fit the budget best (highest cost
 * within it); the search result is the best of them. With no heuristic config in budget
 * (possible only with skipped layers) it falls back to the cheapest config.
 */
export async function heuristicSearch(
  ctx: SearchContext,
  { top = 3 }: { top?: number } = {},
): Promise<void> {
  const fitting = (await fittingHeuristicConfigs(ctx)).slice(0, top);
  if (!fitting.length) fitting.push(cheapestConfig(ctx.space)); // feasible: checked first
  for (const w of fitting) await ctx.evaluate(w);
}
