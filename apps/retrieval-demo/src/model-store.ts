import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { matvit, MatViT, type AnyModel, type MatViTConfig } from '@matformer/core';
import {
  imageTask,
  loadOrTrain as loadOrTrainRun,
  ProgressReporter,
  runFiles,
  type OrtDevice,
  type TrainEngine,
  type TrainOptions,
  type TrainReporter,
} from '@matformer/train';
import type { DigitSplits } from './data';

export interface TrainSettings {
  config: MatViTConfig;
  train: Partial<TrainOptions>;
  batchSize: number;
  /** Random shifts of up to this many pixels (augmentation). */
  maxShift: number;
  /** Held-out digits the trainer's own evaluation uses. */
  evalExamples: number;
}

export interface StoredModel {
  model: MatViT;
  /** First 12 hex digits of the weight file's SHA-256: names the caches built from it. */
  fingerprint: string;
  trained: boolean;
  path: string;
}

export const MODEL_FILE = runFiles.model;

async function fingerprint(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
    .slice(0, 12);
}

/**
 * The run directory's model if it holds one (and it is the configured architecture), else a
 * fresh MatViT trained jointly at every granularity, saved there atomically (train's `loadOrTrain`).
 */
export async function loadOrTrain(
  runDir: string,
  data: DigitSplits,
  settings: TrainSettings,
  opts: {
    retrain?: boolean;
    reporter?: TrainReporter | null;
    log?: (s: string) => void;
    engine?: TrainEngine;
    device?: OrtDevice;
  } = {},
): Promise<StoredModel> {
  const log = opts.log ?? (() => undefined);
  const run = await loadOrTrainRun({
    dir: runDir,
    retrain: opts.retrain,
    create: () => {
      const model = MatViT.create(settings.config, settings.train.seed ?? 0);
      log(
        `training a MatViT (${model.storedParamCount.toLocaleString('en-US')} weights, granularities ${settings.config.granularities.join('/')})`,
      );
      return model;
    },
    makeTask: (model) =>
      imageTask(model, data, {
        batchSize: settings.batchSize,
        maxShift: settings.maxShift,
        evalExamples: settings.evalExamples,
      }),
    train: settings.train,
    accept: (loaded, path) => matchingViT(loaded, path, settings.config),
    init: {
      reporter: opts.reporter === null ? undefined : (opts.reporter ?? new ProgressReporter()),
      meta: { app: 'retrieval-demo' },
      engine: opts.engine,
      device: opts.device,
    },
    metadata: { app: 'retrieval-demo' },
    log,
  });
  const path = run.path;
  return {
    model: run.model,
    fingerprint: await fingerprint(path),
    trained: run.status !== 'reused',
    path,
  };
}

/** The loaded model as a MatViT of the configured sizes, or a clear error naming what differs. */
function matchingViT(loaded: AnyModel, path: string, want: MatViTConfig): MatViT {
  if (!matvit.isModel(loaded)) {
    loaded.dispose();
    throw new Error(
      `${path} holds a ${loaded.config.arch} model, not a MatViT; use another --run-dir`,
    );
  }
  const got = loaded.config;
  for (const f of [
    'dModel',
    'nLayers',
    'nHeads',
    'dFF',
    'imageSize',
    'patchSize',
    'channels',
    'pool',
  ] as const) {
    if (got[f] !== want[f]) {
      loaded.dispose();
      throw new Error(
        `${path} has ${f} = ${got[f]}, the demo is configured for ${want[f]}: pass options that match it, --retrain, or another --run-dir`,
      );
    }
  }
  return loaded;
}
