// The language-model family: a jointly trained MatLM and one independently trained baseline per
// granularity (baselineConfig: same trunk, a single FFN width), same data, steps and tokens —
// each trained once per seed, so every loss comes with the spread another seed gives.
import { flopsPerToken, MatLM, paramCount, type MatLMConfig } from '@matformer/core';
import {
  baselineConfig,
  evaluateOn,
  lmTask,
  loadTextCorpus,
  MOBY_DICK,
  type EvalRow,
  type Submodel,
  type Task,
  type TextCorpus,
  type TrainEngine,
} from '@matformer/train';
import { RECIPE_VERSION, trainOrReuse, type TrainedRun } from './runs';
import type { LMSettings } from './settings';

export interface LMFamily {
  config: MatLMConfig;
  corpus: TextCorpus;
  engine: TrainEngine;
  seeds: number[];
  /** The MatLM, one run per seed (settings order; the first seed's run is the one decoded). */
  matformer: TrainedRun<MatLM>[];
  /** The ablation (first seed only): the MatLM trained with the full model upweighted. */
  upweighted?: TrainedRun<MatLM>;
  /** Baselines by FFN width (every granularity of the MatLM), one run per seed. */
  baselines: Map<number, TrainedRun<MatLM>[]>;
  /** A task with the shared held-out windows, for any model of the family. */
  evalTask(model: MatLM): Task;
  /** Held-out rows of `submodels` on the training engine (onnxruntime or tfjs). */
  evaluate(task: Task, submodels: Submodel[]): Promise<EvalRow[]>;
  tokensPerModel: number;
}

/** The first seed's MatLM and baselines: the models the decoding and Mix'n'Match sections use. */
export const firstMatLM = (f: LMFamily) => f.matformer[0];
export const firstBaseline = (f: LMFamily, width: number) => f.baselines.get(width)![0];

export interface LossRow {
  width: number;
  params: number;
  flopsPerToken: number;
  /** Held-out next-byte loss in nats (bits = nats / ln 2): mean over seeds. */
  matformer: number;
  /** Per seed (settings order). */
  matformerSeeds: number[];
  baseline: number;
  baselineSeeds: number[];
  /** The MatLM trained with the full model upweighted (first seed); absent without the ablation. */
  upweighted?: number;
}

export async function trainLMFamily(
  s: LMSettings,
  engine: TrainEngine,
  root: string,
  log: (line: string) => void,
  opts: { threads?: number } = {},
): Promise<LMFamily> {
  const corpus = await loadTextCorpus(MOBY_DICK, { valFraction: s.valFraction });
  const taskOptions = { batchSize: s.batchSize, seqLen: s.seqLen, evalWindows: s.evalWindows };
  const data = { source: MOBY_DICK, valFraction: s.valFraction, ...taskOptions };
  const makeTask = (m: MatLM) => lmTask(m, corpus, taskOptions);
  const train = (name: string, config: MatLMConfig, seed: number, options = s.train) =>
    trainOrReuse({
      root,
      spec: {
        name,
        model: config,
        train: { ...options, seed },
        data,
        recipe: RECIPE_VERSION,
        engine,
      },
      create: () => MatLM.create(config, seed),
      makeTask,
      log,
      threads: opts.threads,
    });

  const g = s.config.granularities;
  log(
    `LM family: MatLM ${g.join('/')}${s.upweightedLambdas ? ` (uniform λ; λ = ${s.upweightedLambdas.join(',')} at seed ${s.seeds[0]})` : ''} + ${g.length} baselines, seeds ${s.seeds.join(', ')}, ${s.train.steps} steps each on ${MOBY_DICK}, engine ${engine}`,
  );
  const matformer: TrainedRun<MatLM>[] = [];
  const baselines = new Map<number, TrainedRun<MatLM>[]>(g.map((w) => [w, []]));
  let upweighted: TrainedRun<MatLM> | undefined;
  // Seed by seed, so an interrupted run already holds a complete family for the first seeds.
  for (const seed of s.seeds) {
    matformer.push(await train(`matlm-s${seed}`, s.config, seed));
    for (const w of g)
      baselines.get(w)!.push(await train(`baseline-lm-${w}-s${seed}`, baselineConfig(s.config, w), seed));
    if (seed === s.seeds[0] && s.upweightedLambdas)
      upweighted = await train(`matlm-upweighted-s${seed}`, s.config, seed, {
        ...s.train,
        lambdas: s.upweightedLambdas,
      });
  }
  return {
    config: s.config,
    corpus,
    engine,
    seeds: s.seeds,
    matformer,
    upweighted,
    baselines,
    evalTask: makeTask,
    evaluate: (task, submodels) => evaluateOn(engine, task, submodels),
    tokensPerModel: (s.train.steps ?? 0) * s.batchSize * s.seqLen,
  };
}

/** Every granularity's held-out loss, in ascending width order. */
async function granularityLosses(f: LMFamily, model: MatLM, widths = f.config.granularities): Promise<number[]> {
  const task = f.evalTask(model);
  try {
    return (await f.evaluate(task, widths)).map((r) => r.loss);
  } finally {
    task.dispose();
  }
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Held-out loss of every MatLM granularity (every seed, and the ablation) and of the baselines of the same width. */
export async function lossRows(f: LMFamily): Promise<LossRow[]> {
  const mat: number[][] = [];
  for (const run of f.matformer) mat.push(await granularityLosses(f, run.model));
  const up = f.upweighted ? await granularityLosses(f, f.upweighted.model) : undefined;
  const rows: LossRow[] = [];
  for (const [i, w] of f.config.granularities.entries()) {
    const base: number[] = [];
    for (const run of f.baselines.get(w)!) base.push((await granularityLosses(f, run.model, [w]))[0]);
    const matSeeds = mat.map((m) => m[i]);
    rows.push({
      width: w,
      params: paramCount(f.config, w),
      flopsPerToken: flopsPerToken(f.config, w),
      matformer: mean(matSeeds),
      matformerSeeds: matSeeds,
      baseline: mean(base),
      baselineSeeds: base,
      ...(up ? { upweighted: up[i] } : {}),
    });
  }
  return rows;
}
