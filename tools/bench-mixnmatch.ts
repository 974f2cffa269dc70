// Mix'n'Match on a trained MatLM: the front over every config, and search vs the paper's heuristic.
//
//   npx tsx --conditions=@matformer/source tools/bench-mixnmatch.ts [--run DIR] [--windows N]
//       [--evaluations N] [--seed N] [--budgets params=50%,params=70%,flops=70%]
//
// 1. Evaluates every per-layer config (g^L; 256 for the small preset) on one half of the
//    held-out text (the search half) and prints the Pareto front of params vs loss: is it
//    monotone, and do the mixes between two trained granularities land between them in loss?
// 2. For each budget, runs the heuristic (the best-fitting monotone one-step configs) and the
//    evolutionary search on the search half, then scores both picks on the OTHER half of the
//    held-out text (never searched on), with the number of configs each evaluated.
// Evaluations are cached in DIR/mixnmatch-cache.json, so a rerun is quick.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  describeBackend,
  loadModel,
  modelOf,
  selectBackend,
  writeFileAtomic,
  type Widths,
} from '@matformer/core';
import {
  costModelFor,
  createSpace,
  EvaluationCache,
  formatCount,
  frontSvg,
  heuristicConfigs,
  searchAndReportHalves,
  modelHash,
  parseBudget,
  search,
  SearchContext,
  uniformConfigs,
  type Point,
} from '@matformer/mixnmatch';
import { loadTextCorpus, readRunConfig } from '@matformer/train';

const { values: args } = parseArgs({
  options: {
    run: { type: 'string' },
    windows: { type: 'string', default: '16' },
    evaluations: { type: 'string', default: '32' },
    seed: { type: 'string', default: '0' },
    budgets: { type: 'string', default: 'params=50%,params=70%,params=85%,flops=70%' },
  },
});
const out = (s = '') => process.stdout.write(`${s}\n`);
const fmtW = (w: Widths) => `[${w.join(',')}]`;

const run =
  args.run ??
  ['runs/default', 'runs/mixnmatch-base'].find((d) => existsSync(join(d, 'model.safetensors')));
if (!run || !existsSync(join(run, 'model.safetensors'))) {
  process.stderr.write(
    'no trained model: train one first (npx tsx --conditions=@matformer/source apps/lm-trainer/src/cli.ts train), or pass --run DIR\n',
  );
  process.exit(1);
}

const backend = await selectBackend();
out(`backend: ${describeBackend(backend)}`);
const model = modelOf(await loadModel(join(run, 'model.safetensors')), 'matlm', run);
const { dataSpec } = await readRunConfig<{
  dataSpec: { source: string; valFraction: number; seqLen: number };
}>(run);
const corpus = await loadTextCorpus(dataSpec.source, { valFraction: dataSpec.valFraction });
const windows = Number(args.windows);
const cache = await EvaluationCache.open(join(run, 'mixnmatch-cache.json'));
const halves = searchAndReportHalves(model, corpus.val, cache, {
  seqLen: dataSpec.seqLen,
  windows,
  batchSize: 8,
  name: `${corpus.name}:val`,
  modelId: modelHash(model),
});
const { search: onSearch, report: onHeld } = halves;
const space = createSpace(model.config);
const g = model.config.granularities;

out(
  `model: ${run}/model.safetensors (${formatCount(model.storedParamCount)} params, ${model.config.nLayers} layers, granularities ${g.join('/')})`,
);
out(`search half: ${onSearch.dataId}; report half: ${onHeld.dataId}`);
out(`cache: ${cache.size} results already in ${join(run, 'mixnmatch-cache.json')}`);

// ---- 1. the whole front ----
const t0 = performance.now();
const params = costModelFor('params', model);
const all = await search({
  space,
  cost: params,
  budget: 'params=100%',
  evaluator: onSearch,
  strategy: 'exhaustive',
});
const ctx = new SearchContext(space, params, Infinity, onSearch);
const trained: Point[] = [];
for (const w of uniformConfigs(space)) trained.push(await ctx.evaluate(w));
out(
  `\n== 1. every config on the search half: ${all.points.length} configs (${all.newEvaluations} evaluated now, the rest cached) in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
);
out('trained granularities (uniform):');
for (const p of trained)
  out(
    `  ${fmtW(p.widths).padEnd(22)} ${formatCount(p.params).padStart(7)} params  loss ${p.loss.toFixed(4)}`,
  );
out(`Pareto front (params vs search loss), ${all.front.length} of ${all.points.length} configs:`);
for (const p of all.front) {
  const isTrained = trained.some((t) => fmtW(t.widths) === fmtW(p.widths));
  out(
    `  ${fmtW(p.widths).padEnd(22)} ${formatCount(p.params).padStart(7)} params  loss ${p.loss.toFixed(4)}${isTrained ? '  (trained)' : ''}`,
  );
}
const monotone = all.front.every(
  (p, i) => i === 0 || (p.params > all.front[i - 1].params && p.loss < all.front[i - 1].loss),
);
// Interpolation: front points between two trained granularities in cost should lie between
// them in loss; report how many do, and how far the others fall outside (noise scale).
let between = 0;
let inside = 0;
let worstOutside = 0;
for (let i = 0; i + 1 < trained.length; i++) {
  const [lo, hi] = [trained[i], trained[i + 1]];
  for (const p of all.front.filter((q) => q.params > lo.params && q.params < hi.params)) {
    between++;
    const outside = Math.max(p.loss - lo.loss, hi.loss - p.loss, 0);
    if (outside === 0) inside++;
    worstOutside = Math.max(worstOutside, outside);
  }
}
const spread = trained[0].loss - trained[trained.length - 1].loss;
// The same for the paper's mixes (g_i up to layer k, g_{i+1} after): between g_i and g_{i+1}.
let hInside = 0;
let hWorst = 0;
const mixes = heuristicConfigs(space).filter((w) => new Set(w).size === 2);
for (const w of mixes) {
  const p = all.points.find((q) => fmtW(q.widths) === fmtW(w))!;
  const i = g.indexOf(Math.min(...w));
  const outside = Math.max(p.loss - trained[i].loss, trained[i + 1].loss - p.loss, 0);
  if (outside === 0) hInside++;
  hWorst = Math.max(hWorst, outside);
}
// Rank correlation of cost and loss over every config: the whole cloud, not just the front.
const rank = (xs: number[]) => {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = Array(xs.length);
  order.forEach(([, i], k) => (r[i] = k));
  return r as number[];
};
const rp = rank(all.points.map((p) => p.params));
const rl = rank(all.points.map((p) => p.loss));
const n = rp.length;
const spearman = 1 - (6 * rp.reduce((s, r, i) => s + (r - rl[i]) ** 2, 0)) / (n * (n * n - 1));
const onFront = trained.filter((t) =>
  all.front.some((p) => fmtW(p.widths) === fmtW(t.widths)),
).length;
out(`front monotone (params up, loss down): ${monotone ? 'yes' : 'NO'}`);
out(
  `front points between two adjacent trained granularities in params: ${between}; strictly between them in loss: ${inside}; the others outside by at most ${worstOutside.toFixed(4)} nats (smallest-to-largest granularity spread: ${spread.toFixed(4)} nats)`,
);
out(
  `heuristic mixes (g_i then g_i+1 with depth): ${hInside} of ${mixes.length} strictly between their two granularities in loss; the others outside by at most ${hWorst.toFixed(4)} nats`,
);
out(`trained granularities on the front: ${onFront} of ${trained.length}`);
out(`Spearman rank correlation of params and loss over all ${n} configs: ${spearman.toFixed(3)}`);
const svgPath = join(run, 'bench-mixnmatch-front.svg');
await writeFileAtomic(
  svgPath,
  frontSvg({
    points: all.points,
    front: all.front,
    trained,
    costKind: 'params',
    title: `Mix'n'Match: all ${n} configs of ${run}`,
    yLabel: 'val loss, search half (nats)',
  }),
);
out(`plot: ${svgPath}`);

// ---- 2. search vs heuristic at equal budget, scored on held-out data ----
out(
  `\n== 2. search vs heuristic at equal budget (searched on the search half, scored on the report half)`,
);
const header = [
  'budget',
  'strategy',
  'evals',
  'widths',
  'params',
  'FLOPs/tok',
  'search loss',
  'held-out loss',
  'bits/byte',
];
const rows: string[][] = [header];
const verdicts: string[] = [];
const held = new SearchContext(space, params, Infinity, onHeld);
for (const text of args.budgets!.split(',')) {
  const budget = parseBudget(text);
  const cost = costModelFor(budget.kind, model);
  const common = { space, cost, budget, evaluator: onSearch };
  const h = await search({ ...common, strategy: 'heuristic' });
  const e = await search({
    ...common,
    strategy: 'evolutionary',
    evaluations: Number(args.evaluations),
    seed: Number(args.seed),
  });
  const x = await search({ ...common, strategy: 'exhaustive' });
  const scored = [] as number[];
  for (const [name, r] of [
    ['heuristic', h],
    ['evolutionary', e],
    ['exhaustive', x],
  ] as const) {
    const p = await held.evaluate(r.best.widths);
    scored.push(p.loss);
    rows.push([
      name === 'heuristic' ? text : '',
      name,
      String(r.evaluations),
      fmtW(r.best.widths),
      formatCount(r.best.params),
      formatCount(r.best.flops),
      r.best.loss.toFixed(4),
      p.loss.toFixed(4),
      p.bitsPerToken!.toFixed(4),
    ]);
  }
  const d = scored[0] - scored[1];
  verdicts.push(
    `${text}: evolutionary (${e.evaluations} evals) ${d >= 0 ? 'at least as good as' : 'WORSE than'} the heuristic (${h.evaluations} evals) on held-out data by ${d.toFixed(4)} nats`,
  );
}
const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows)
  out(
    r.map((c, i) => (i <= 1 || i === 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '),
  );
out('');
for (const v of verdicts) out(v);
out(
  `\nmodel evaluations run in this process: ${onSearch.calls} on the search half, ${onHeld.calls} on the report half`,
);
halves.dispose();
model.dispose();
