import { Rng, type Widths } from '@matformer/core';
import type { SearchContext } from '../context';
import type { Point } from '../pareto';
import { cheapestConfig, inSpace, uniformConfigs, widthsKey } from '../space';
import { fittingHeuristicConfigs } from './heuristic';

export interface EvolutionOptions {
  /** Distinct configs evaluated in all, seeds included (default 48). */
  evaluations?: number;
  /** Configs kept alive (default 12). */
  population?: number;
  seed?: number;
}

/**
 * Steady-state evolution under the budget. The population starts from every uniform config
 * and the best-fitting heuristic configs in budget (so it starts where the paper's baseline
 * ends); each step picks a parent by binary tournament on loss, mutates it, and, if the child
 * is new and fits the budget, evaluates it and drops the worst member. A mutation moves one
 * layer one step up or down its options (skip < g_1 < … < g_k), or shifts one step from one
 * layer to another (two such moves at once: cost stays near the budget edge, where the best
 * configs live). Seeded: the same seed, budget and evaluator give the same search.
 * Stops after `evaluations` configs, or when mutations keep finding nothing new.
 */
export async function evolutionarySearch(
  ctx: SearchContext,
  { evaluations = 48, population = 12, seed = 0 }: EvolutionOptions = {},
): Promise<void> {
  const rng = new Rng(Math.floor(seed) ^ 0x9e3779b9); // the seed mixing this search has always used
  const budgetLeft = () => evaluations - ctx.points.size;
  const pop: Point[] = [];

  const seeds: Widths[] = [];
  const fitting = await fittingHeuristicConfigs(ctx);
  for (const w of uniformConfigs(ctx.space)) if (await ctx.fits(w)) seeds.push(w);
  for (const w of fitting) if (!seeds.some((s) => widthsKey(s) === widthsKey(w))) seeds.push(w);
  // No uniform or heuristic config in budget (skips needed): start from the cheapest.
  if (!seeds.length) seeds.push(cheapestConfig(ctx.space));
  // Keep the costliest fitting seeds when there are more than the population holds.
  for (const w of seeds.slice(0, Math.min(population, evaluations)))
    pop.push(await ctx.evaluate(w));

  const mutate = (w: Widths): Widths | undefined => {
    const opts = ctx.space.options;
    const child = [...w];
    const step = (l: number, dir: number) => {
      const i = opts[l].indexOf(child[l]) + dir;
      if (i < 0 || i >= opts[l].length) return false;
      child[l] = opts[l][i];
      return true;
    };
    const L = opts.length;
    const l1 = rng.int(L);
    const dir = rng.next() < 0.5 ? -1 : 1;
    if (!step(l1, dir)) return undefined;
    if (L > 1 && rng.next() < 0.5) {
      const l2 = (l1 + 1 + rng.int(L - 1)) % L; // another layer
      if (!step(l2, -dir)) return undefined;
    }
    return inSpace(ctx.space, child) ? child : undefined;
  };
  const tournament = () => {
    const a = rng.pick(pop);
    const b = rng.pick(pop);
    return a.loss <= b.loss ? a : b;
  };

  // Mutations that give nothing new cost no evaluation; bound them so the loop always ends.
  let fruitless = 0;
  const maxFruitless = 200 + 20 * evaluations;
  while (budgetLeft() > 0 && fruitless < maxFruitless) {
    const child = mutate(tournament().widths);
    if (!child || ctx.seen(child) || !(await ctx.fits(child))) {
      fruitless++;
      continue;
    }
    pop.push(await ctx.evaluate(child));
    if (pop.length > population) {
      const worst = pop.reduce((wi, p, i) => (p.loss > pop[wi].loss ? i : wi), 0);
      pop.splice(worst, 1);
    }
  }
}
