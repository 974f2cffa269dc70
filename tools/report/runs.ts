// Cached training runs: runs/report/<name>/ holds the Trainer's run directory plus the spec the
// report trained it from. A re-run reuses a finished model only if the spec is identical (model
// config, train options, data), resumes an interrupted one from its checkpoint, and retrains
// from scratch when anything changed — a stale model never slips into the report.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  loadModel,
  writeFileAtomic,
  type MatLM,
  type MatViT,
  type ModelConfig,
} from '@matformer/core';
import {
  readMetrics,
  resolveTrainOptions,
  runPath,
  Trainer,
  type Task,
  type TrainOptions,
  type TrainReporter,
} from '@matformer/train';

/** Bump when the report's training recipe changes in a way the spec does not capture. */
// 2: seed 0 made the first weight's initialisation unseeded (fixed in @matformer/core).
export const RECIPE_VERSION = 2;

export interface RunSpec {
  name: string;
  model: ModelConfig;
  train: Partial<TrainOptions>;
  data: Record<string, unknown>;
  recipe: number;
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
}

const SPEC_FILE = 'report-spec.json';
const DONE_FILE = 'report-done.json';

/** JSON with object keys sorted, so two specs compare by content, not key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined; // missing or corrupt: treated as "not cached"
  }
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
  };
}

async function summarise<M>(
  name: string,
  dir: string,
  model: M,
  reused: boolean,
): Promise<TrainedRun<M>> {
  const steps = (await readMetrics(dir)).filter((r) => r.type === 'step') as unknown as {
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
  };
}

/**
 * The trained model for `spec`: reused from `root/<name>` when finished with the same spec,
 * resumed when interrupted, else trained now. `makeTask` builds the task around a model (the
 * caller disposes nothing: the task is freed here, the model belongs to the caller).
 */
export async function trainOrReuse<M extends MatLM | MatViT>(opts: {
  root: string;
  spec: RunSpec;
  create: () => M;
  makeTask: (model: M) => Task;
  log: (line: string) => void;
}): Promise<TrainedRun<M>> {
  const { log } = opts;
  // Compare resolved options, so a changed library default also invalidates the cache.
  const spec = {
    ...opts.spec,
    train: resolveTrainOptions(opts.spec.train, opts.spec.model.granularities.length),
  };
  const dir = join(opts.root, spec.name);
  const specPath = join(dir, SPEC_FILE);
  const donePath = join(dir, DONE_FILE);
  const ckpt = runPath(dir, 'checkpoint');
  const same = canonical(await readJson(specPath)) === canonical(spec);

  if (same && existsSync(ckpt) && existsSync(donePath)) {
    log(`  ${spec.name}: reusing the finished run in ${dir}`);
    return summarise(spec.name, dir, (await loadModel(ckpt)) as M, true);
  }

  let trainer: Trainer;
  const reporter = logReporter(spec.name, log);
  if (same && existsSync(ckpt)) {
    log(`  ${spec.name}: resuming the interrupted run in ${dir}`);
    trainer = await Trainer.resume(dir, (m) => opts.makeTask(m as M), { reporter });
  } else {
    if (existsSync(dir)) {
      log(`  ${spec.name}: ${dir} was trained from a different spec (or never finished); retraining`);
      await rm(dir, { recursive: true, force: true });
    }
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(specPath, JSON.stringify(spec, null, 2) + '\n');
    const model = opts.create();
    log(`  ${spec.name}: training ${spec.train.steps} steps → ${dir}`);
    trainer = new Trainer(opts.makeTask(model), spec.train, {
      runDir: dir,
      reporter,
      meta: { report: spec.name },
    });
  }
  try {
    await trainer.run();
  } finally {
    await trainer.dispose();
    trainer.task.dispose();
  }
  await writeFileAtomic(donePath, JSON.stringify({ finished: new Date().toISOString() }) + '\n');
  return summarise(spec.name, dir, trainer.task.model as M, false);
}
