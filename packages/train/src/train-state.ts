import type * as tf from '@tensorflow/tfjs';
import {
  CheckpointError,
  configFromMetadata,
  createModel,
  entriesToParams,
  paramsToEntries,
  readSafetensorsFile,
  storedWidths,
  writeSafetensorsFile,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type AnyModel,
  type TensorEntry,
} from '@matformer/core';
import type { TrainOptions } from './options';

/** Everything besides tensors that a resumed run needs to continue exactly. */
export interface TrainProgress {
  /** Optimizer steps done. */
  step: number;
  /** Rng state after the last step: the data position (batches are drawn from it). */
  rngState: number;
  /** AdamW's update count (for bias correction). */
  adamT: number;
  options: TrainOptions;
}

/**
 * Writes weights + optimizer moments + progress as one safetensors file, atomically:
 * a run killed mid-save keeps its previous checkpoint intact. The file also loads with
 * core's `loadModel` (which ignores the `optimizer.*` tensors).
 */
export async function saveTrainState(
  path: string,
  model: AnyModel,
  optimizerState: Record<string, tf.Tensor>,
  progress: TrainProgress,
): Promise<void> {
  const entries: Record<string, TensorEntry> = {
    ...paramsToEntries(model.params),
    ...paramsToEntries(optimizerState),
  };
  await writeSafetensorsFile(path, entries, {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    config: JSON.stringify(model.config),
    widths: JSON.stringify(storedWidths(model.config)),
    train_progress: JSON.stringify(progress),
  });
}

export interface LoadedTrainState {
  model: AnyModel;
  optimizerState: Record<string, TensorEntry>;
  progress: TrainProgress;
}

export async function loadTrainState(path: string): Promise<LoadedTrainState> {
  const { tensors, metadata } = await readSafetensorsFile(path);
  const config = configFromMetadata(metadata, path);
  if (!metadata.train_progress)
    throw new CheckpointError(
      `${path} holds model weights only (no training progress): it cannot be resumed`,
    );
  let progress: TrainProgress;
  try {
    progress = JSON.parse(metadata.train_progress) as TrainProgress;
  } catch {
    throw new CheckpointError(`${path}: __metadata__.train_progress is not valid JSON`);
  }
  if (
    !Number.isInteger(progress.step) ||
    !Number.isInteger(progress.rngState) ||
    !progress.options
  ) {
    throw new CheckpointError(
      `${path}: __metadata__.train_progress lacks step, rngState or options`,
    );
  }
  const optimizerState = Object.fromEntries(
    Object.entries(tensors).filter(([n]) => n.startsWith('optimizer.')),
  );
  const model = createModel(config, entriesToParams(tensors, config, path));
  return { model, optimizerState, progress };
}
