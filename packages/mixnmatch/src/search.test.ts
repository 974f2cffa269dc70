import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flopsPerToken, paramCount, type MatLM } from '@matformer/core';
import { flopsCost, paramsCost } from './cost';
import { paretoFront } from './pareto';
import type { CachedEvaluator } from './evaluator';
import { search, type SearchResult } from './search';
import { createSpace } from './space';
import { heuristicConfigs } from './strategies/heuristic';
import { countingEvaluator, tinyModel } from './test-fixtures';

/** No point of the front is dominated by any evaluated point. */
function expectNonDominated(r: SearchResult) {
  for (const f of r.front)
    for (const p of r.points)
      expect(p.cost <= f.cost && p.loss <= f.loss && (p.cost < f.cost || p.loss < f.loss)).toBe(
        false,
      );
  for (let i = 1; i < r.front.length; i++) {
    expect(r.front[i].cost).toBeGreaterThan(r.front[i - 1].cost);
    expect(r.front[i].loss).toBeLessThan(r.front[i - 1].loss);
  }
}

describe('search on a tiny MatLM', () => {
  let model: MatLM;
  let dir: string;
  // Tests that do not count evaluations share one cache: each config is scored once.
  let shared: CachedEvaluator;
  beforeAll(async () => {
    model = await tinyModel();
    dir = await mkdtemp(join(tmpdir(), 'mixnmatch-'));
    shared = (await countingEvaluator(model)).evaluator;
  });
  afterAll(async () => {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['evolutionary', 'params=60%'],
    ['heuristic', 'params=60%'],
    ['exhaustive', 'params=60%'],
    ['evolutionary', 'flops=75%'],
  ] as const)('%s respects the budget %s; its front is non-dominated', async (strategy, budget) => {
    const evaluator = shared;
    const cost = budget.startsWith('params') ? paramsCost(model.config) : flopsCost(model.config);
    const r = await search({
      space: createSpace(model.config),
      cost,
      budget,
      evaluator,
      strategy,
      evaluations: 24,
    });
    const full = await cost.of([64, 64, 64, 64]);
    expect(r.limit).toBeCloseTo(full * (budget.startsWith('params') ? 0.6 : 0.75));
    expect(r.points.length).toBeGreaterThan(0);
    for (const p of r.points) {
      expect(p.cost).toBeLessThanOrEqual(r.limit);
      expect(p.params).toBe(paramCount(model.config, p.widths));
      expect(p.flops).toBe(flopsPerToken(model.config, p.widths));
    }
    expect(r.best.loss).toBe(Math.min(...r.points.map((p) => p.loss)));
    expectNonDominated(r);
    if (strategy === 'evolutionary') expect(r.evaluations).toBeLessThanOrEqual(24);
  });

  it('exhaustive evaluates exactly the configs within budget, and its best is the optimum', async () => {
    const evaluator = shared;
    const cost = paramsCost(model.config);
    const r = await search({
      space: createSpace(model.config),
      cost,
      budget: 'params=60%',
      evaluator,
      strategy: 'exhaustive',
    });
    const all = createSpace(model.config).options.reduce((n, o) => n * o.length, 1);
    expect(all).toBe(256);
    let fitting = 0;
    for (let i = 0; i < 256; i++) {
      const w = [0, 1, 2, 3].map((l) => [8, 16, 32, 64][Math.floor(i / 4 ** l) % 4]);
      if ((await cost.of(w)) <= r.limit) fitting++;
    }
    expect(r.evaluations).toBe(fitting);
    const evo = await search({
      space: createSpace(model.config),
      cost,
      budget: 'params=60%',
      evaluator,
      evaluations: 20,
    });
    expect(evo.best.loss).toBeGreaterThanOrEqual(r.best.loss);
  });

  it('the evolutionary search is at least as good as the heuristic on the searched slice', async () => {
    const evaluator = shared;
    const opts = {
      space: createSpace(model.config),
      cost: paramsCost(model.config),
      budget: 'params=70%',
      evaluator,
    };
    const h = await search({ ...opts, strategy: 'heuristic' });
    const e = await search({ ...opts, strategy: 'evolutionary', evaluations: 20 });
    expect(h.evaluations).toBe(3);
    expect(e.best.loss).toBeLessThanOrEqual(h.best.loss);
  });

  it('is reproducible for a seed (fresh caches, same points in the same order)', async () => {
    const run = async (seed: number) => {
      const { evaluator } = await countingEvaluator(model);
      return search({
        space: createSpace(model.config, { maxSkips: 1 }),
        cost: paramsCost(model.config),
        budget: 'params=65%',
        evaluator,
        seed,
        evaluations: 20,
      });
    };
    const [a, b, c] = [await run(3), await run(3), await run(4)];
    expect(a.points.map((p) => p.widths)).toEqual(b.points.map((p) => p.widths));
    expect(a.best).toEqual(b.best);
    expect(c.points.map((p) => p.widths)).not.toEqual(a.points.map((p) => p.widths));
  });

  it('the cache prevents duplicate evaluations, in memory and across runs through its file', async () => {
    const file = join(dir, 'cache.json');
    const first = await countingEvaluator(model, { file });
    await first.evaluator.evaluate([8, 16, 32, 64]);
    await first.evaluator.evaluate([8, 16, 32, 64]);
    await Promise.all([
      first.evaluator.evaluate([8, 8, 8, 8]),
      first.evaluator.evaluate([8, 8, 8, 8]),
    ]);
    expect(first.calls()).toBe(2);
    expect(first.evaluator.hits).toBe(2);
    const opts = {
      space: createSpace(model.config),
      cost: paramsCost(model.config),
      budget: 'params=60%',
      seed: 1,
      evaluations: 16,
    };
    const r1 = await search({ ...opts, evaluator: first.evaluator });
    const callsAfterFirst = first.calls();
    expect(callsAfterFirst).toBe(2 + r1.newEvaluations);
    // The same search again: every config is known, no model evaluation runs.
    const r2 = await search({ ...opts, evaluator: first.evaluator });
    expect(first.calls()).toBe(callsAfterFirst);
    expect(r2.newEvaluations).toBe(0);
    expect(r2.points).toEqual(r1.points);
    // A new process (a fresh cache opened from the file) needs no evaluation either.
    const second = await countingEvaluator(model, { file });
    const r3 = await search({ ...opts, evaluator: second.evaluator });
    expect(second.calls()).toBe(0);
    expect(r3.best).toEqual(r1.best);
    // Another data slice is another key: it evaluates afresh.
    const other = await countingEvaluator(model, { file, start: 600 });
    await other.evaluator.evaluate([8, 16, 32, 64]);
    expect(other.calls()).toBe(1);
  });

  it('an evolutionary search in a tiny feasible set ends (no endless loop) having seen it all', async () => {
    const { evaluator } = await countingEvaluator(model);
    const cost = paramsCost(model.config);
    // Room for [8,8,8,8] and configs with one layer at 16 only.
    const limit = (await cost.of([16, 8, 8, 8])) + 1;
    const r = await search({
      space: createSpace(model.config),
      cost,
      budget: `params=${limit}`,
      evaluator,
      evaluations: 1000,
    });
    expect(r.evaluations).toBe(5);
  });

  it('refuses exhaustive search over a space past its limit, before evaluating', async () => {
    const { evaluator, calls } = await countingEvaluator(model);
    await expect(
      search({
        space: createSpace(model.config),
        cost: paramsCost(model.config),
        budget: 'params=90%',
        evaluator,
        strategy: 'exhaustive',
        exhaustiveLimit: 100,
      }),
    ).rejects.toThrow(
      /exhaustive search refuses a space of 256 configs \(4·4·4·4 per-layer options, limit 100\); use the evolutionary strategy/,
    );
    expect(calls()).toBe(0);
  });

  it('rejects a non-positive evaluation count by name', async () => {
    const { evaluator } = await countingEvaluator(model);
    await expect(
      search({
        space: createSpace(model.config),
        cost: paramsCost(model.config),
        budget: 'params=90%',
        evaluator,
        evaluations: 0,
      }),
    ).rejects.toThrow('evaluations must be a positive integer, got 0');
  });

  it('rejects an unknown strategy by name', async () => {
    const { evaluator } = await countingEvaluator(model);
    await expect(
      search({
        space: createSpace(model.config),
        cost: paramsCost(model.config),
        budget: 'params=90%',
        evaluator,
        strategy: 'random' as never,
      }),
    ).rejects.toThrow('unknown strategy "random"; allowed: evolutionary, heuristic, exhaustive');
  });

  it('heuristic configs are monotone with at most one one-step change', () => {
    const configs = heuristicConfigs(createSpace(model.config));
    const g = model.config.granularities;
    expect(configs).toHaveLength((g.length - 1) * (4 - 1) + g.length);
    for (const w of configs) {
      const steps = w.slice(1).map((m, l) => g.indexOf(m) - g.indexOf(w[l]));
      expect(steps.every((s) => s === 0 || s === 1)).toBe(true);
      expect(steps.filter((s) => s === 1).length).toBeLessThanOrEqual(1);
    }
  });
});

describe('paretoFront', () => {
  it('keeps exactly the non-dominated points, by ascending cost', () => {
    const pts = [
      { cost: 3, loss: 1.0 },
      { cost: 1, loss: 2.0 },
      { cost: 2, loss: 2.5 }, // dominated by cost 1
      { cost: 2, loss: 1.5 },
      { cost: 4, loss: 1.0 }, // equal loss, more cost
      { cost: 1, loss: 2.0 }, // duplicate
    ];
    expect(paretoFront(pts)).toEqual([pts[1], pts[3], pts[0]]);
  });
});
