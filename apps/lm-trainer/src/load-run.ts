import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadModel,
  ConfigError,
  HF_CONFIG_FILE,
  isHFDirectory,
  languageModelOf,
  loadHFModel,
  type AnyModel,
  type LanguageModel,
} from '@matformer/core';
import { runPath } from '@matformer/train';

/** A Hugging Face directory given as `--checkpoint` or `--run`, if either is one. */
export function hfDirOf(o: { run?: string; checkpoint?: string }): string | undefined {
  return [o.checkpoint, o.checkpoint ? undefined : o.run].find((p) => p && isHFDirectory(p));
}

/**
 * The model file of these options: `--checkpoint`, else the run's weights-only file, else its
 * last checkpoint; for a Hugging Face directory its config.json (replaced with every export).
 */
export function modelFileOf(o: { run?: string; checkpoint?: string }): string | undefined {
  const hf = hfDirOf(o);
  if (hf) return join(hf, HF_CONFIG_FILE);
  return (
    o.checkpoint ??
    [runPath(o.run!, 'model'), runPath(o.run!, 'checkpoint')].find((p) => existsSync(p))
  );
}

/**
 * The trained model of a run directory (its weights-only file, else its last checkpoint), a
 * checkpoint file, or a Hugging Face directory as `--checkpoint` or `--run` (gemma or llama,
 * read as a MatGemma).
 */
export async function loadRunModel(o: {
  run?: string;
  checkpoint?: string;
}): Promise<LanguageModel> {
  const hf = hfDirOf(o);
  if (hf) return loadHFModel(hf);
  const path = modelFileOf(o);
  if (!path)
    throw new ConfigError(
      `${o.run} holds no trained model yet: run "lm-trainer train --run ${o.run}" first`,
    );
  const model = await loadModel(path);
  try {
    return languageModelOf(model, path); // "<path> holds a MatViT, not a language model"
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * The model to export: a checkpoint file of any family (a MatViT too), else what
 * `loadRunModel` reads (a run or a Hugging Face directory: a language model).
 */
export async function loadExportModel(o: { run?: string; checkpoint?: string }): Promise<AnyModel> {
  return o.checkpoint && !isHFDirectory(o.checkpoint) ? loadModel(o.checkpoint) : loadRunModel(o);
}
