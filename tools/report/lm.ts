// The language-model family: one jointly trained MatLM and one independently trained baseline
// per granularity (baselineConfig: same trunk, a single FFN width), same data, steps and tokens.
import { flopsPerToken, MatLM, paramCount, type MatLMConfig } from '@matformer/core';
import {
  baselineConfig,
  evaluateTask,
  lmTask,
  loadTextCorpus,
  MOBY_DICK,
  type Task,
  type TextCorpus,
} from '@matformer/train';
import { RECIPE_VERSION, trainOrReuse, type TrainedRun } from './runs';
import type { LMSettings } from './settings';

export interface LMFamily {
  config: MatLMConfig;
  corpus: TextCorpus;
  matformer: TrainedRun<MatLM>;
  /** The ablation: the same MatLM trained with the full model upweighted (settings.upweightedLambdas). */
  upweighted: TrainedRun<MatLM>;
  /** Baselines by FFN width (every granularity of the MatLM). */
  baselines: Map<number, TrainedRun<MatLM>>;
  /** A task with the shared held-out windows, for any model of the family. */
  evalTask(model: MatLM): Task;
  tokensPerModel: number;
}

export interface LossRow {
  width: number;
  params: number;
  flopsPerToken: number;
  /** Held-out next-byte loss in nats (bits = nats / ln 2). */
  matformer: number;
  /** The MatLM trained with the full model upweighted. */
  upweighted: number;
  baseline: number;
}

export async function trainLMFamily(
  s: LMSettings,
  root: string,
  log: (line: string) => void,
): Promise<LMFamily> {
  const corpus = await loadTextCorpus(MOBY_DICK, { valFraction: s.valFraction });
  const taskOptions = { batchSize: s.batchSize, seqLen: s.seqLen, evalWindows: s.evalWindows };
  const data = { source: MOBY_DICK, valFraction: s.valFraction, ...taskOptions };
  const makeTask = (m: MatLM) => lmTask(m, corpus, taskOptions);
  const train = (name: string, config: MatLMConfig, options = s.train) =>
    trainOrReuse({
      root,
      spec: { name, model: config, train: options, data, recipe: RECIPE_VERSION },
      create: () => MatLM.create(config, s.train.seed ?? 0),
      makeTask,
      log,
    });

  log(`LM family: MatLM ${s.config.granularities.join('/')} (uniform λ and λ = ${s.upweightedLambdas.join(',')}) + ${s.config.granularities.length} baselines, ${s.train.steps} steps each on ${MOBY_DICK}`);
  const matformer = await train('matlm', s.config);
  const upweighted = await train('matlm-upweighted', s.config, { ...s.train, lambdas: s.upweightedLambdas });
  const baselines = new Map<number, TrainedRun<MatLM>>();
  for (const w of s.config.granularities)
    baselines.set(w, await train(`baseline-lm-${w}`, baselineConfig(s.config, w)));
  return {
    config: s.config,
    corpus,
    matformer,
    upweighted,
    baselines,
    evalTask: makeTask,
    tokensPerModel: (s.train.steps ?? 0) * s.batchSize * s.seqLen,
  };
}

/** Every granularity's held-out loss, in ascending width order. */
function granularityLosses(f: LMFamily, model: MatLM): number[] {
  const task = f.evalTask(model);
  try {
    return evaluateTask(task, f.config.granularities).map((r) => r.loss);
  } finally {
    task.dispose();
  }
}

/** Held-out loss of every MatLM granularity (both λ recipes) and of the baseline of the same width. */
export function lossRows(f: LMFamily): LossRow[] {
  const mat = granularityLosses(f, f.matformer.model);
  const up = granularityLosses(f, f.upweighted.model);
  return f.config.granularities.map((w, i) => {
    const task = f.evalTask(f.baselines.get(w)!.model);
    try {
      return {
        width: w,
        params: paramCount(f.config, w),
        flopsPerToken: flopsPerToken(f.config, w),
        matformer: mat[i],
        upweighted: up[i],
        baseline: evaluateTask(task, [w])[0].loss,
      };
    } finally {
      task.dispose();
    }
  });
}
