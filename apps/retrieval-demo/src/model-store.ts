import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, MatViT, saveModel, type MatViTConfig } from '@matformer/core';
import {
  imageTask,
  ProgressReporter,
  Trainer,
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

export const MODEL_FILE = 'model.safetensors';

async function fingerprint(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
    .slice(0, 12);
}

/**
 * The run directory's model if it holds one (and it is the configured architecture), else a
 * fresh MatViT trained jointly at every granularity, saved there atomically.
 */
export async function loadOrTrain(
  runDir: string,
  data: DigitSplits,
  settings: TrainSettings,
  opts: { retrain?: boolean; reporter?: TrainReporter | null; log?: (s: string) => void } = {},
): Promise<StoredModel> {
  const log = opts.log ?? (() => undefined);
  const path = join(runDir, MODEL_FILE);
  if (existsSync(path) && !opts.retrain) {
    const loaded = await loadModel(path);
    if (!(loaded instanceof MatViT)) {
      loaded.dispose();
      throw new Error(
        `${path} holds a ${loaded.config.arch} model, not a MatViT; use another --run-dir`,
      );
    }
    const want = settings.config;
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
    log(`loaded the trained MatViT from ${path}`);
    return { model: loaded, fingerprint: await fingerprint(path), trained: false, path };
  }
  const model = MatViT.create(settings.config, settings.train.seed ?? 0);
  const task = imageTask(model, data, {
    batchSize: settings.batchSize,
    maxShift: settings.maxShift,
    evalExamples: settings.evalExamples,
  });
  const trainer = new Trainer(task, settings.train, {
    runDir,
    reporter: opts.reporter === null ? undefined : (opts.reporter ?? new ProgressReporter()),
    meta: { app: 'retrieval-demo' },
  });
  try {
    log(
      `training a MatViT (${model.storedParamCount.toLocaleString('en-US')} weights, granularities ${settings.config.granularities.join('/')}) for ${trainer.options.steps} steps`,
    );
    await trainer.run();
  } finally {
    await trainer.dispose();
    task.dispose();
  }
  await saveModel(path, model, { app: 'retrieval-demo' });
  log(`saved ${path}`);
  return { model, fingerprint: await fingerprint(path), trained: true, path };
}
