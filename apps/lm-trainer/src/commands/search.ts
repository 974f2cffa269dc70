import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { writeFileAtomic, type Widths } from '@matformer/core';
import { lockRun, searchFiles } from '../run-guard';
import {
  costModelFor,
  createSpace,
  EvaluationCache,
  formatCount,
  frontFile,
  frontSvg,
  searchAndReportHalves,
  modelHash,
  parseBudget,
  readSliceFile,
  search,
  SearchContext,
  sliceFromWidths,
  strategyNames,
  uniformConfigs,
  writeSliceFile,
  type Point,
  type SearchResult,
  type Slice,
  type StrategyName,
} from '@matformer/mixnmatch';
import { readRunConfig } from '@matformer/train';
import { int } from '../options';
import { loadRunModel } from '../load-run';
import { defaultRunDir, loadCorpus, setupBackend, type DataSpec } from '../run-setup';

function strategyArg(v: string): StrategyName {
  if (!strategyNames.includes(v as StrategyName))
    throw new InvalidArgumentError(
      `--strategy must be one of ${strategyNames.join(', ')}, got "${v}"`,
    );
  return v as StrategyName;
}

const fmtWidths = (w: Widths) => `[${w.join(', ')}]`;

/** `lm-trainer search`: the best Mix'n'Match config of a trained run under a budget. */
export function registerSearch(program: Command): void {
  program
    .command('search')
    .description(
      "find the best per-layer FFN widths (Mix'n'Match) of a trained run under a params, FLOPs or latency budget; writes the Pareto front (JSON + SVG) and a slice file",
    )
    .option('--run <dir>', 'run directory', defaultRunDir)
    .requiredOption(
      '--budget <budget>',
      'params=70% | params=2.1M | flops=5M | flops=60% | latency=3ms | latency=80%',
    )
    .option(
      '--strategy <name>',
      `search strategy: ${strategyNames.join(', ')}`,
      strategyArg,
      'evolutionary',
    )
    .option(
      '--evaluations <n>',
      'configs the evolutionary search evaluates',
      int('--evaluations'),
      48,
    )
    .option('--seed <n>', 'seed of the evolutionary search', int('--seed', 0), 0)
    .option('--max-skips <n>', 'layers a config may skip (elastic depth)', int('--max-skips', 0), 0)
    .option(
      '--eval-windows <n>',
      'held-out windows in each half of the held-out text (search and report; at most the distinct windows there)',
      int('--eval-windows'),
      16,
    )
    .option(
      '--heuristic-top <n>',
      'best-fitting heuristic configs the baseline evaluates',
      int('--heuristic-top'),
      3,
    )
    .option('--backend <name>', 'tfjs backend: tensorflow, wasm or cpu')
    .action(async (o) => {
      const budget = parseBudget(o.budget); // a bad budget fails before anything loads
      lockRun(o.run, 'search');
      await setupBackend(o.backend);
      const { dataSpec } = await readRunConfig<{ dataSpec: DataSpec }>(o.run);
      const [model, corpus] = await Promise.all([loadRunModel(o), loadCorpus(dataSpec)]);
      const space = createSpace(model.config, { maxSkips: o.maxSkips });
      const cost = costModelFor(budget.kind, model);

      // Two disjoint halves of the held-out text: one to search on, one to report on.
      const cache = await EvaluationCache.open(join(o.run, searchFiles.cache));
      const halves = searchAndReportHalves(model, corpus.val, cache, {
        seqLen: dataSpec.seqLen,
        windows: o.evalWindows,
        batchSize: dataSpec.batchSize,
        name: `${corpus.name}:val`,
        modelId: modelHash(model),
      });
      const { search: onSearch, report: onReport } = halves;
      if (halves.windows < o.evalWindows)
        process.stderr.write(
          `note: --eval-windows ${o.evalWindows} capped at ${halves.windows}, the distinct windows of ${dataSpec.seqLen} tokens in each half of the held-out text\n`,
        );

      try {
        const common = { space, cost, budget, evaluator: onSearch };
        const t0 = performance.now();
        const result = await search({
          ...common,
          strategy: o.strategy,
          evaluations: o.evaluations,
          seed: o.seed,
          heuristicTop: o.heuristicTop,
        });
        const seconds = (performance.now() - t0) / 1000;
        const heuristic =
          o.strategy === 'heuristic'
            ? result
            : await search({ ...common, strategy: 'heuristic', heuristicTop: o.heuristicTop });
        // The trained granularities, for the plot and the slice file (any cost: no budget).
        const anchors = new SearchContext(space, cost, Infinity, onSearch);
        const trained: Point[] = [];
        for (const w of uniformConfigs(space)) trained.push(await anchors.evaluate(w));
        const heldOut = new Map<string, Point>();
        const report = new SearchContext(space, cost, Infinity, onReport);
        for (const p of [result.best, heuristic.best])
          heldOut.set(p.widths.join(','), await report.evaluate(p.widths));

        process.stdout.write(
          formatSummary(result, heuristic, heldOut, {
            seconds,
            searchData: onSearch.dataId,
            reportData: onReport.dataId,
          }),
        );
        await writeOutputs(o.run, result, heuristic, trained);
        const best = `best ${budget.text}`;
        process.stdout.write(
          `\nwrote ${searchFiles.front}, ${searchFiles.plot}, ${searchFiles.slicesCsv} and ${searchFiles.slicesJson} in ${o.run}\n` +
            `use it: lm-trainer generate --run ${o.run} --slices ${join(o.run, searchFiles.slicesCsv)} --slice "${best}"\n`,
        );
      } finally {
        halves.dispose();
        model.dispose();
      }
    });
}

/** The search's best and the heuristic's, side by side, with held-out numbers. */
function formatSummary(
  result: SearchResult,
  heuristic: SearchResult,
  heldOut: Map<string, Point>,
  info: { seconds: number; searchData: string; reportData: string },
): string {
  const limit =
    result.costKind === 'latency'
      ? `${result.limit.toFixed(2)} ms`
      : `${formatCount(result.limit)} ${result.costUnit}`;
  const header = [
    `${result.strategy} search under ${result.budget.text} (≤ ${limit}), seed ${result.seed}: ${result.evaluations} configs evaluated (${result.newEvaluations} run now, ${result.evaluations - result.newEvaluations} from the cache) in ${info.seconds.toFixed(1)} s`,
    `searched on ${info.searchData}; held-out numbers on ${info.reportData}`,
    '',
  ];
  const rows = [
    [`best (${result.strategy})`, result.best, result.evaluations],
    ['heuristic (paper)', heuristic.best, heuristic.evaluations],
  ] as const;
  const latency = result.costKind === 'latency';
  const table = [
    [
      '',
      'widths',
      'params',
      'FLOPs/token',
      ...(latency ? ['latency'] : []),
      'search loss',
      'val loss',
      'bits/byte',
      'evals',
    ],
  ];
  for (const [name, p, evals] of rows) {
    const h = heldOut.get(p.widths.join(','))!;
    table.push([
      name,
      fmtWidths(p.widths),
      formatCount(p.params),
      formatCount(p.flops),
      ...(latency ? [`${p.cost.toFixed(2)} ms`] : []),
      p.loss.toFixed(4),
      h.loss.toFixed(4),
      h.bitsPerToken!.toFixed(4),
      String(evals),
    ]);
  }
  const cols = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  const lines = table.map((r) =>
    r
      .map((cell, c) => (c <= 1 ? cell.padEnd(cols[c]) : cell.padStart(cols[c])))
      .join('  ')
      .trimEnd(),
  );
  const gain =
    heldOut.get(heuristic.best.widths.join(','))!.loss -
    heldOut.get(result.best.widths.join(','))!.loss;
  return [
    ...header,
    ...lines,
    '',
    `held-out val loss: ${result.strategy} ${gain >= 0 ? 'better' : 'worse'} than the heuristic by ${Math.abs(gain).toFixed(4)} nats`,
    '',
  ].join('\n');
}

/** Front JSON + SVG, and the slice file (CSV + JSON) merged with earlier searches' slices. */
async function writeOutputs(
  run: string,
  result: SearchResult,
  heuristic: SearchResult,
  trained: Point[],
): Promise<void> {
  const file = frontFile(result, { trained, heuristic });
  await writeFileAtomic(join(run, searchFiles.front), JSON.stringify(file, null, 2) + '\n');
  const svg = frontSvg({
    points: result.points,
    front: result.front,
    trained,
    best: result.best,
    heuristicBest: heuristic.best,
    budget: result.limit,
    costKind: result.costKind,
    title: `Mix'n'Match under ${result.budget.text} (${result.strategy}, ${result.evaluations} configs)`,
    yLabel: 'val loss on the search half (nats)',
  });
  await writeFileAtomic(join(run, searchFiles.plot), svg);

  const b = result.budget.text;
  // Every row's quality is on the search half, so rows compare with each other and the plot.
  const row = (name: string, p: Point): Slice =>
    sliceFromWidths(name, p.widths, {
      params: p.params,
      flops: p.flops,
      loss: p.loss,
      bitsPerToken: p.bitsPerToken,
    });
  const fresh: Slice[] = [
    ...trained.map((p) => row(`uniform ${p.widths[0]}`, p)),
    row(`best ${b}`, result.best),
    row(`heuristic ${b}`, heuristic.best),
    ...result.front.map((p, i) => row(`front ${b} #${i + 1}`, p)),
  ];
  // Keep other budgets' rows from earlier searches; this search replaces its own and the uniform rows.
  const csvPath = join(run, searchFiles.slicesCsv);
  const earlier = existsSync(csvPath) ? await readSliceFile(csvPath).catch(() => []) : [];
  const names = new Set(fresh.map((s) => s.name));
  const replaced = (s: Slice) =>
    names.has(s.name) || s.name.startsWith('uniform ') || s.name.startsWith(`front ${b} #`);
  const uniform = fresh.slice(0, trained.length);
  const slices = [
    ...uniform,
    ...earlier.filter((s) => !replaced(s)),
    ...fresh.slice(trained.length),
  ];
  await writeSliceFile(csvPath, slices);
  await writeSliceFile(join(run, searchFiles.slicesJson), slices);
}
