import { ConfigError } from '@matformer/core';
import type { SearchContext } from '../context';
import { enumerateSpace, spaceSize } from '../space';

/** Default bound on g^L for exhaustive search. */
export const EXHAUSTIVE_LIMIT = 4096;

/**
 * Evaluates every config of the space within the budget. Refuses spaces larger than `limit`
 * configs (before evaluating anything): use the evolutionary search there.
 */
export async function exhaustiveSearch(
  ctx: SearchContext,
  { limit = EXHAUSTIVE_LIMIT }: { limit?: number } = {},
): Promise<void> {
  const size = spaceSize(ctx.space);
  if (size > limit) {
    const g = ctx.space.options.map((o) => o.length);
    throw new ConfigError(
      `exhaustive search refuses a space of ${size} configs (${g.join('·')} per-layer options, limit ${limit}); use the evolutionary strategy or raise the limit`,
    );
  }
  for (const w of enumerateSpace(ctx.space)) if (await ctx.fits(w)) await ctx.evaluate(w);
}
