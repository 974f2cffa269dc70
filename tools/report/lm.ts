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
  const train = (name: string, config: MatLMConfig) =>
    trainOrReuse({
      root,
      spec: { name, model: config, train: s.train, data, recipe: RECIPE_VERSION },
      create: () => MatLM.create(config, s.train.seed ?? 0),
      makeTask,
      log,
    });

  log(`LM family: MatLM ${s.config.granularities.join('/')} + ${s.config.granularities.length} baselines, ${s.train.steps} steps each on ${MOBY_DICK}`);
  const matformer = await train('matlm', s.config);
  const baselines = new Map<number, TrainedRun<MatLM>>();
  for (const w of s.config.granularities)
    baselines.set(w, await train(`baseline-lm-${w}`, baselineConfig(s.config, w)));
  return {
    config: s.config,
    corpus,
    matformer,
    baselines,
    evalTask: makeTask,
    tokensPerModel: (s.train.steps ?? 0) * s.batchSize * s.seqLen,
  };
}

/** Held-out loss of every MatLM granularity and of the baseline of the same width. */
export function lossRows(f: LMFamily): LossRow[] {
  const matTask = f.evalTask(f.matformer.model);
  try {
    const mat = evaluateTask(matTask, f.config.granularities);
    return f.config.granularities.map((w, i) => {
      const base = f.baselines.get(w)!.model;
      const task = f.evalTask(base);
      try {
        return {
          width: w,
          params: paramCount(f.config, w),
          flopsPerToken: flopsPerToken(f.config, w),
          matformer: mat[i].loss,
          baseline: evaluateTask(task, [w])[0].loss,
        };
      } finally {
        task.dispose();
      }
    });
  } finally {
    matTask.dispose();
  }
}
