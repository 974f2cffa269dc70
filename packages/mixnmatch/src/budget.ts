import type { Widths } from '@matformer/core';
import type { CostModel } from './cost';
import { BudgetError } from './errors';
import { formatCost } from './format';
import { cheapestConfig, largestConfig, type SearchSpace } from './space';

export type CostKind = 'params' | 'flops' | 'latency';
export const costKinds: readonly CostKind[] = ['params', 'flops', 'latency'];

/** An upper bound on one cost: absolute, or a fraction of the largest config's cost. */
export interface Budget {
  kind: CostKind;
  /** Absolute limit (params, FLOPs per token, or milliseconds), or a fraction when relative. */
  value: number;
  relative: boolean;
  /** The string it was parsed from, for messages. */
  text: string;
}

const SCALE: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, B: 1e9, T: 1e12 };
const TIME_MS: Record<string, number> = { ms: 1, s: 1000, us: 1e-3, µs: 1e-3 };
const FORMS =
  'params=<n>[k|M|G] | params=<p>% | flops=<n>[k|M|G] | flops=<p>% | latency=<t>ms | latency=<p>%';

/**
 * Parses "params=70%", "params=2.1M", "flops=5e6", "flops=60%", "latency=3.5ms", "latency=80%".
 * Throws BudgetError naming the string and the accepted forms.
 */
export function parseBudget(text: string): Budget {
  const bad = (why: string) =>
    new BudgetError(`invalid budget ${JSON.stringify(text)}: ${why}; expected ${FORMS}`);
  if (typeof text !== 'string') throw bad('not a string');
  const m = /^\s*([a-z]+)\s*(?:=|<=)\s*(.*?)\s*$/i.exec(text);
  if (!m) throw bad('no "=" between the cost and the limit');
  const kind = m[1].toLowerCase() as CostKind;
  if (!costKinds.includes(kind))
    throw bad(`unknown cost "${m[1]}" (allowed: ${costKinds.join(', ')})`);
  const v = /^((?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(%|[a-zµ]*)$/i.exec(m[2].replace(/_/g, ''));
  if (!v) throw bad(`"${m[2]}" is not a number with an optional unit`);
  const n = Number(v[1]);
  const unit = v[2];
  if (!(n > 0) || !Number.isFinite(n)) throw bad('the limit must be a positive number');
  if (unit === '%') return { kind, value: n / 100, relative: true, text };
  if (kind === 'latency') {
    if (!(unit in TIME_MS))
      throw bad(`a latency needs a time unit (ms, s, us) or %, got "${unit}"`);
    return { kind, value: n * TIME_MS[unit], relative: false, text };
  }
  if (!(unit in SCALE)) throw bad(`unknown suffix "${unit}" (allowed: k, M, G, T, %)`);
  return { kind, value: n * SCALE[unit], relative: false, text };
}

/** The absolute limit of a budget: a relative one is a fraction of the largest config's cost. */
export async function budgetLimit(
  budget: Budget,
  cost: CostModel,
  space: SearchSpace,
): Promise<number> {
  if (budget.kind !== cost.kind)
    throw new BudgetError(
      `budget ${budget.text} is in ${budget.kind}, the cost model measures ${cost.kind}`,
    );
  return budget.relative ? budget.value * (await cost.of(largestConfig(space))) : budget.value;
}

/**
 * Fails fast when no config fits: the cheapest config of the space must be within the limit.
 * (Checked before any search, so an infeasible budget never starts a sampling loop.)
 */
export async function checkFeasible(
  budget: Budget,
  limit: number,
  cost: CostModel,
  space: SearchSpace,
): Promise<Widths> {
  const cheapest = cheapestConfig(space);
  const c = await cost.of(cheapest);
  if (c > limit) {
    const hint = space.maxSkips === 0 ? ' or allow skipped layers (maxSkips / --max-skips)' : '';
    throw new BudgetError(
      `budget ${budget.text} (${formatCost(budget.kind, limit)}) is infeasible: the cheapest config in the search space, [${cheapest.join(', ')}], costs ${formatCost(budget.kind, c)}; raise the budget to at least that${hint}`,
    );
  }
  return cheapest;
}
