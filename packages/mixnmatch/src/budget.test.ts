import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatLM } from '@matformer/core';
import { parseBudget } from './budget';
import { flopsCost, paramsCost } from './cost';
import { BudgetError } from './errors';
import { search } from './search';
import { createSpace } from './space';
import { countingEvaluator, tinyModel } from './test-fixtures';

describe('budgets', () => {
  it.each([
    ['params=70%', { kind: 'params', value: 0.7, relative: true }],
    ['params=2.1M', { kind: 'params', value: 2_100_000, relative: false }],
    ['params=2_100_000', { kind: 'params', value: 2_100_000, relative: false }],
    ['params<=12k', { kind: 'params', value: 12_000, relative: false }],
    ['flops=5e6', { kind: 'flops', value: 5e6, relative: false }],
    ['flops = 1.5G', { kind: 'flops', value: 1.5e9, relative: false }],
    ['latency=3.5ms', { kind: 'latency', value: 3.5, relative: false }],
    ['latency=0.002s', { kind: 'latency', value: 2, relative: false }],
    ['latency=80%', { kind: 'latency', value: 0.8, relative: true }],
  ])('parses %s', (text, expected) => {
    expect(parseBudget(text)).toMatchObject(expected);
  });

  it.each([
    ['params', /no "=" between the cost and the limit/],
    ['size=10M', /unknown cost "size" \(allowed: params, flops, latency\)/],
    ['params=abc', /"abc" is not a number with an optional unit/],
    ['params=-5', /is not a number/],
    ['params=0%', /the limit must be a positive number/],
    ['params=2.1X', /unknown suffix "X" \(allowed: k, M, G, T, %\)/],
    ['latency=3', /a latency needs a time unit \(ms, s, us\) or %/],
    ['flops=', /"" is not a number/],
  ])('rejects %j clearly, naming the string and the accepted forms', (text, why) => {
    const err = (() => {
      try {
        parseBudget(text);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(BudgetError);
    expect(err!.message).toContain(`invalid budget ${JSON.stringify(text)}`);
    expect(err!.message).toMatch(why);
    expect(err!.message).toContain('params=<p>%');
  });
});

describe('infeasible budgets fail before any evaluation', () => {
  let model: MatLM;
  beforeAll(async () => {
    model = await tinyModel();
  });
  afterAll(() => model.dispose());

  it.each(['evolutionary', 'heuristic', 'exhaustive'] as const)(
    '%s: a budget below the cheapest config is a BudgetError, and nothing is evaluated',
    async (strategy) => {
      const { evaluator, calls } = await countingEvaluator(model);
      const space = createSpace(model.config);
      const run = search({
        space,
        cost: paramsCost(model.config),
        budget: 'params=10%',
        evaluator,
        strategy,
      });
      await expect(run).rejects.toThrow(BudgetError);
      await expect(run).rejects.toThrow(
        /budget params=10% \(.* params\) is infeasible: the cheapest config in the search space, \[8, 8, 8, 8\], costs .* params; raise the budget to at least that or allow skipped layers/,
      );
      expect(calls()).toBe(0);
    },
  );

  it('skipped layers make a smaller budget feasible', async () => {
    const { evaluator } = await countingEvaluator(model);
    const cost = paramsCost(model.config);
    const noSkips = createSpace(model.config);
    const cheapest = await cost.of([8, 8, 8, 8]);
    const budget = `params=${Math.floor(cheapest * 0.9)}`;
    await expect(search({ space: noSkips, cost, budget, evaluator })).rejects.toThrow(BudgetError);
    const r = await search({
      space: createSpace(model.config, { maxSkips: 1 }),
      cost,
      budget,
      evaluator,
      evaluations: 10,
    });
    expect(r.best.widths.filter((m) => m === 0)).toHaveLength(1);
    for (const p of r.points) expect(p.params).toBeLessThanOrEqual(cheapest * 0.9);
  });

  it('a budget in another cost than the cost model is refused', async () => {
    const { evaluator } = await countingEvaluator(model);
    await expect(
      search({
        space: createSpace(model.config),
        cost: flopsCost(model.config),
        budget: 'params=50%',
        evaluator,
      }),
    ).rejects.toThrow(/budget params=50% is in params, the cost model measures flops/);
  });
});
