import { CheckpointError } from '../../errors';
import type { MatGemmaConfig } from '../../models/matgemma/config';
import type { MatGemma } from '../../models/matgemma/model';
import { createModel, type AnyModel } from '../../models/registry';
import { entriesToParams } from '../checkpoint';
import { loadHFDirectory } from './read';
import { saveHFDirectory, type SaveHFOptions } from './write';

/** Loads a Hugging Face directory (gemma or llama) as a MatGemma model. */
export async function loadHFModel(dir: string): Promise<MatGemma> {
  const { config, tensors } = await loadHFDirectory(dir);
  return createModel(config, entriesToParams(tensors, config, dir)) as MatGemma;
}

/**
 * Writes a model as a Hugging Face directory (see `saveHFDirectory`). Only MatGemma has an HF
 * counterpart (gemma / llama); other families are refused with the reason.
 */
export async function saveHFModel(
  dir: string,
  model: AnyModel,
  opts: SaveHFOptions = {},
): Promise<void> {
  if (model.config.arch !== 'matgemma')
    throw new CheckpointError(
      `cannot export a ${model.config.arch} as a Hugging Face directory: only matgemma (the gemma / llama block) has a transformers counterpart`,
    );
  await saveHFDirectory(dir, model.config as MatGemmaConfig, model.params, opts);
}
