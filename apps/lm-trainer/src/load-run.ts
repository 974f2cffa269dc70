import { existsSync } from 'node:fs';
import { loadModel, ConfigError, languageModelOf, type LanguageModel } from '@matformer/core';
import { runPath } from '@matformer/train';

/** The model file of these options: `--checkpoint`, else the run's weights-only file, else its last checkpoint. */
export function modelFileOf(o: { run?: string; checkpoint?: string }): string | undefined {
  return (
    o.checkpoint ??
    [runPath(o.run!, 'model'), runPath(o.run!, 'checkpoint')].find((p) => existsSync(p))
  );
}

/** The trained model of a run directory (its weights-only file, else its last checkpoint), or a checkpoint file. */
export async function loadRunModel(o: {
  run?: string;
  checkpoint?: string;
}): Promise<LanguageModel> {
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
