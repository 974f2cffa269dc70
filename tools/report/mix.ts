// Mix'n'Match points for the loss-vs-params plot (the first seed's MatLM): the paper's heuristic configs plus an
// evolutionary search at a params budget between each pair of neighbouring granularities, all
// through @matformer/mixnmatch with its evaluation cache (kept in the MatLM's run directory, so
// a re-run with the same weights evaluates nothing twice). Every config is scored on the same
// held-out windows as the loss table, so the points are directly comparable.
import { join } from 'node:path';
import { paramCount, type MatLM, type Widths } from '@matformer/core';
import * as mm from '@matformer/mixnmatch';
import { firstMatLM, type LMFamily } from './lm';
import type { Settings } from './settings';
import { si } from './svg';

export interface MixPoint {
  widths: Widths;
  params: number;
  loss: number;
  /** Found by: the paper's heuristic family, or the evolutionary search. */
  origin: 'heuristic' | 'search';
}

export interface MixResult {
  /** Where the configs came from. */
  source: string;
  points: MixPoint[];
  /** Non-dominated points by (params, loss), ascending params. */
  front: MixPoint[];
  /** Best config each budgeted search found. */
  budgets: { budget: string; best: MixPoint }[];
}

const key = (w: Widths) => w.join(',');

function front(points: MixPoint[]): MixPoint[] {
  const sorted = [...points].sort((a, b) => a.params - b.params || a.loss - b.loss);
  const out: MixPoint[] = [];
  for (const p of sorted) if (!out.length || p.loss < out[out.length - 1].loss) out.push(p);
  return out;
}

export async function mixAndMatch(
  f: LMFamily,
  s: Settings['mix'],
  log: (line: string) => void,
): Promise<MixResult> {
  const model: MatLM = firstMatLM(f).model;
  const config = f.config;
  const task = f.evalTask(model);
  const points = new Map<string, MixPoint>();
  const add = (widths: Widths, loss: number, origin: MixPoint['origin']) => {
    if (!points.has(key(widths)))
      points.set(key(widths), { widths: [...widths], params: paramCount(config, widths), loss, origin });
    return points.get(key(widths))!;
  };
  const budgets: MixResult['budgets'] = [];
  try {
    const space = mm.createSpace(config);
    const cost = mm.paramsCost(config);
    const cache = await mm.EvaluationCache.open(join(firstMatLM(f).dir, 'mixnmatch-cache.json'));
    const evaluator = cache.evaluator({
      modelId: mm.modelHash(model),
      dataId: `${f.corpus.name}/val/${f.engine}/${JSON.stringify(task.describe())}`,
      config,
      evaluate: async (w) => {
        const r = (await f.evaluate(task, [w]))[0];
        return { loss: r.loss, bitsPerToken: r.bitsPerToken };
      },
    });
    for (const w of mm.heuristicConfigs(space)) add(w, (await evaluator.evaluate(w)).loss, 'heuristic');
    const g = config.granularities;
    for (let i = 0; i + 1 < g.length; i++) {
      const limit = (paramCount(config, g[i]) + paramCount(config, g[i + 1])) / 2;
      const text = `params≤${si(limit)}`;
      const r = await mm.search({
        space,
        cost,
        budget: { kind: 'params', value: limit, relative: false, text },
        evaluator,
        strategy: 'evolutionary',
        evaluations: s.evaluations,
        population: s.population,
        seed: 0,
      });
      for (const p of r.points) add(p.widths, p.loss, 'search');
      budgets.push({ budget: text, best: add(r.best.widths, r.best.loss, 'search') });
      log(`  Mix'n'Match ${text}: best [${r.best.widths.join(',')}] loss ${r.best.loss.toFixed(4)} (${r.newEvaluations} new evaluations)`);
    }
  } finally {
    task.dispose();
  }
  const source = `@matformer/mixnmatch: heuristic configs + evolutionary search (${s.evaluations} configs per budget, cached evaluations)`;
  const all = [...points.values()];
  return { source, points: all, front: front(all), budgets };
}
