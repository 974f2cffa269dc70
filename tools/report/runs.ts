// Cached training runs: runs/report/<name>/ holds the Trainer's run directory plus the spec the
// report trained it from. A re-run reuses a finished model only if the spec is identical (model
// config, train options, data), resumes an interrupted one from its checkpoint, and retrains
// from scratch when anything changed — a stale model never slips into the report.
import { join } from 'node:path';
import { modelOf, type AnyModel, type ModelConfig } from '@matformer/core';
import {
  loadOrTrain,
  readMetrics,
  resolveTrainOptions,
  type Task,
  type TrainEngine,
  type TrainOptions,
  type TrainReporter,
} from '@matformer/train';

/** Bump when the report's training recipe changes in a way the spec does not capture. */
// 2: seed 0 made the first weight's initialisation unseeded (fixed in @matformer/core).
// 3: trained on the onnxruntime engine, two seeds per model, longer runs (issue 14).
export const RECIPE_VERSION = 3;

export interface RunSpec {
  name: string;
  model: ModelConfig;
  train: Partial<TrainOptions>;
  data: Record<string, unknown>;
  recipe: number;
  /** The training engine (part of the spec: the engines agree only to float rounding). */
  engine: TrainEngine;
}

export interface TrainedRun<M> {
  name: string;
  dir: string;
  model: M;
  steps: number;
  /** Training wall-clock seconds (sum of step times, so a resumed run counts every step once). */
  seconds: number;
  reused: boolean;
  /** Training loss of the widest granularity, per step. */
  curve: { step: number; loss: number }[];
  /** Held-out evaluations during training (every evalEvery steps and at the end): loss (nats) by row name. */
  evals: { step: number; losses: Record<string, number> }[];
}

function logReporter(name: string, log: (line: string) => void): TrainReporter {
  let last = performance.now();
  return {
    onStep(m, t) {
      const every = Math.max(1, Math.round(t.options.steps / 8));
      if (m.step % every !== 0 && m.step !== t.options.steps) return;
      const now = performance.now();
      const losses = Object.entries(m.losses)
        .map(([w, l]) => `${w}:${l.toFixed(3)}`)
        .join(' ');
      log(
        `  ${name}: step ${m.step}/${t.options.steps}  loss ${losses}  ${m.throughput.toFixed(0)} ${t.task.unit}/s  (${((now - last) / 1000).toFixed(0)} s since last line)`,
      );
      last = now;
    },
    onEval(e) {
      const rows = e.rows.map((r) => `${r.name}:${r.bitsPerToken !== undefined ? `${r.bitsPerToken.toFixed(3)} bits` : r.loss.toFixed(4)}${r.accuracy !== undefined ? ` (${(100 * r.accuracy).toFixed(1)}%)` : ''}`);
      log(`  ${name}: held-out at step ${e.step}: ${rows.join(' ')}`);
    },
  };
}

async function summarise<M>(
  name: string,
  dir: string,
  model: M,
  reused: boolean,
): Promise<TrainedRun<M>> {
  const records = await readMetrics(dir);
  const evals = (
    records.filter((r) => r.type === 'eval') as unknown as { step: number; rows: { name: string; loss: number }[] }[]
  ).map((e) => ({ step: e.step, losses: Object.fromEntries(e.rows.map((r) => [r.name, r.loss])) }));
  const steps = records.filter((r) => r.type === 'step') as unknown as {
    step: number;
    ms: number;
    losses: Record<string, number>;
  }[];
  const widest = (l: Record<string, number>) =>
    l[String(Math.max(...Object.keys(l).map(Number)))];
  return {
    name,
    dir,
    model,
    steps: steps.length ? steps[steps.length - 1].step : 0,
    seconds: steps.reduce((s, r) => s + r.ms, 0) / 1000,
    reused,
    curve: steps.map((r) => ({ step: r.step, loss: widest(r.losses) })),
    evals,
  };
}

/**
 * The trained model for `spec`: reused from `root/<name>` when finished with the same spec,
 * resumed when interrupted, else trained now (train's `loadOrTrain`). `makeTask` builds the
 * task around a model (the task is freed there; the model belongs to the caller).
 */
export async function trainOrReuse<M extends AnyModel>(opts: {
  root: string;
  spec: RunSpec;
  create: () => M;
  makeTask: (model: M) => Task;
  log: (line: string) => void;
  /** onnxruntime intra-op threads (default: every core); not part of the spec. */
  threads?: number;
}): Promise<TrainedRun<M>> {
  // Compare resolved options, so a changed library default also invalidates the cache.
  const spec = {
    ...opts.spec,
    train: resolveTrainOptions(opts.spec.train, opts.spec.model.granularities.length),
  };
  const run = await loadOrTrain({
    dir: join(opts.root, spec.name),
    spec,
    create: opts.create,
    makeTask: opts.makeTask,
    train: spec.train,
    accept: (m, path) => modelOf(m, spec.model.arch, path) as AnyModel as M,
    init: {
      reporter: logReporter(spec.name, opts.log),
      meta: { report: spec.name },
      engine: spec.engine,
      threads: opts.threads,
    },
    log: (line) => opts.log(`  ${spec.name}: ${line}`),
  });
  return summarise(spec.name, run.dir, run.model, run.status === 'reused');
}
