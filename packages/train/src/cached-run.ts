import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, saveModel, writeFileAtomic, type AnyModel } from '@matformer/core';
import type { TrainOptions } from './options';
import { runFiles, runPath } from './run-dir';
import type { Task } from './task';
import { Trainer, type EvalResult, type TrainerInit } from './trainer';

/** The file beside the run's files that records what the run was trained from. */
export const RUN_SPEC_FILE = 'run-spec.json';

export interface LoadOrTrainOptions<M extends AnyModel> {
  /** Run directory: the Trainer's files (config, metrics, checkpoint) and the finished model. */
  dir: string;
  /** A fresh, untrained model (called only when training starts from scratch). */
  create: () => M;
  /** The task that trains a model (for a fresh run, and around a resumed run's restored model). */
  makeTask: (model: M) => Task;
  /** Training options of a fresh run (a resumed run keeps the ones it was started with). */
  train: Partial<TrainOptions>;
  /**
   * Checks that a model read from the directory is the one the caller wants (its family, its
   * sizes) and narrows its type; throws a clear error otherwise.
   */
  accept: (model: AnyModel, path: string) => M;
  /**
   * What the run is trained from (model config, resolved train options, data, recipe version).
   * When given, it is recorded in the directory, a finished run is reused and an interrupted
   * one resumed only if the recorded spec is identical (key order aside), and otherwise the
   * run starts again from scratch: a stale model never slips through. Without it, whatever
   * finished model the directory holds is reused (after `accept`) and nothing is resumed.
   */
  spec?: unknown;
  /** Train from scratch even if the directory holds a model. */
  retrain?: boolean;
  /** Reporter and recorded facts for the Trainer (its run directory is `dir`). */
  init?: Omit<TrainerInit, 'runDir'>;
  /** Extra `__metadata__` entries saved with the finished model. */
  metadata?: Record<string, string>;
  log?: (line: string) => void;
}

export interface LoadedRun<M> {
  model: M;
  dir: string;
  /** The finished model's file (`model.safetensors` in the run directory). */
  path: string;
  /** Reused from the directory, resumed from its checkpoint, or trained here from scratch. */
  status: 'reused' | 'resumed' | 'trained';
  /** The final held-out evaluation when this call trained (absent when reused). */
  eval?: EvalResult;
}

/** JSON with object keys sorted, so two specs compare by content, not key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined; // missing or corrupt: treated as "no spec recorded"
  }
}

/**
 * A trained model from a run directory, training it first when there is none: the "load a
 * trained model, or train one and keep it" step of benchmarks, the report and the demos.
 * The finished model is saved atomically to `<dir>/model.safetensors`; the caller owns it.
 */
export async function loadOrTrain<M extends AnyModel>(
  opts: LoadOrTrainOptions<M>,
): Promise<LoadedRun<M>> {
  const { dir, log = () => undefined } = opts;
  const path = runPath(dir, 'model');
  const specPath = join(dir, RUN_SPEC_FILE);
  const sameSpec =
    opts.spec === undefined || canonicalJson(await readJson(specPath)) === canonicalJson(opts.spec);

  if (!opts.retrain && sameSpec && existsSync(path)) {
    const model = opts.accept(await loadModel(path), path);
    log(`reusing the finished run in ${dir}`);
    return { model, dir, path, status: 'reused' };
  }

  let trainer: Trainer;
  const resumable = opts.spec !== undefined && sameSpec && existsSync(runPath(dir, 'checkpoint'));
  if (!opts.retrain && resumable) {
    log(`resuming the interrupted run in ${dir}`);
    trainer = await Trainer.resume(
      dir,
      (m) => opts.makeTask(opts.accept(m, runPath(dir, 'checkpoint'))),
      opts.init,
    );
  } else {
    // A fresh run: drop the run files of an earlier one (other files in the directory stay).
    for (const file of Object.values(runFiles)) await rm(join(dir, file), { force: true });
    await mkdir(dir, { recursive: true });
    if (opts.spec !== undefined)
      await writeFileAtomic(specPath, JSON.stringify(opts.spec, null, 2) + '\n');
    trainer = new Trainer(opts.makeTask(opts.create()), opts.train, { ...opts.init, runDir: dir });
    log(`training ${trainer.options.steps} steps → ${dir}`);
  }
  let result: EvalResult;
  try {
    result = await trainer.run();
  } finally {
    await trainer.dispose();
    trainer.task.dispose();
  }
  const model = trainer.task.model as M;
  await saveModel(path, model, opts.metadata);
  log(`saved ${path}`);
  return {
    model,
    dir,
    path,
    status: resumable && !opts.retrain ? 'resumed' : 'trained',
    eval: result,
  };
}
