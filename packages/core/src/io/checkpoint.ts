import * as tf from '@tensorflow/tfjs';
import { storedWidths, type ModelConfig } from '../config';
import { CheckpointError, MatformerError } from '../errors';
import { createModel, validateConfig, type AnyModel } from '../models/registry';
import { checkParams, weightSpecs, type Params } from '../weights';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsFile,
  writeSafetensorsFile,
  type TensorEntry,
} from './safetensors';

/** `__metadata__.format` of our files, and the layout version it names. */
export const CHECKPOINT_FORMAT = 'matformer';
export const CHECKPOINT_VERSION = '1';

/** Weights as safetensors entries (F32, names as in `weightSpecs`). */
export function paramsToEntries(params: Record<string, tf.Tensor>): Record<string, TensorEntry> {
  const out: Record<string, TensorEntry> = {};
  for (const [name, t] of Object.entries(params))
    out[name] = { dtype: 'F32', shape: t.shape, data: t.dataSync() as Float32Array };
  return out;
}

/**
 * Saves weights with the config (and the per-layer widths they store) in `__metadata__`.
 * Atomic: the file at `path` is the old one or the complete new one, never a partial write.
 */
export async function saveModel(
  path: string,
  model: AnyModel,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeSafetensorsFile(path, paramsToEntries(model.params), modelMetadata(model, metadata));
}

const modelMetadata = (model: AnyModel, metadata: Record<string, string>) => ({
  ...metadata,
  format: CHECKPOINT_FORMAT,
  format_version: CHECKPOINT_VERSION,
  config: JSON.stringify(model.config),
  widths: JSON.stringify(storedWidths(model.config)),
});

/** The bytes saveModel writes, without a file: for a browser download or an upload. */
export function encodeModel(model: AnyModel, metadata: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(paramsToEntries(model.params), modelMetadata(model, metadata));
}

/** A checkpoint's bytes (what saveModel writes) as a new model: loadModel without a file. */
export function decodeModel(bytes: Uint8Array, source = 'checkpoint bytes'): AnyModel {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const config = configFromMetadata(metadata, source);
  return createModel(config, entriesToParams(tensors, config, source));
}

/** Reads the config a checkpoint's metadata holds, with a clear error if it is absent or invalid. */
export function configFromMetadata(metadata: Record<string, string>, source: string): ModelConfig {
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      `${source} is not a MatFormer checkpoint (__metadata__.format is ${JSON.stringify(metadata.format)}, expected "${CHECKPOINT_FORMAT}")`,
    );
  }
  if (metadata.format_version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(
      `${source} has layout version ${metadata.format_version}; this library reads version ${CHECKPOINT_VERSION}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(metadata.config);
  } catch {
    throw new CheckpointError(`${source}: __metadata__.config is not valid JSON`);
  }
  try {
    return validateConfig(raw as ModelConfig);
  } catch (e) {
    throw new CheckpointError(
      `${source}: invalid config in __metadata__: ${(e as MatformerError).message}`,
    );
  }
}

/** Loads a checkpoint written by `saveModel` into a new model of the family its config names. */
export async function loadModel(path: string): Promise<AnyModel> {
  const { tensors, metadata } = await readSafetensorsFile(path);
  const config = configFromMetadata(metadata, path);
  return createModel(config, entriesToParams(tensors, config, path));
}

/** Turns F32 entries into variables, checking names and shapes against the config first. */
export function entriesToParams(
  entries: Record<string, TensorEntry>,
  config: ModelConfig,
  source: string,
): Params {
  const modelEntries = Object.fromEntries(
    Object.entries(entries).filter(([n]) => !n.startsWith('optimizer.')),
  );
  for (const [name, e] of Object.entries(modelEntries)) {
    if (e.dtype !== 'F32')
      throw new CheckpointError(`${source}: weight "${name}" has dtype ${e.dtype}, expected F32`);
  }
  // Validate before allocating anything, so a bad file leaks no tensors.
  checkParams(config, modelEntries, source);
  // Keys in weightSpecs order, as a freshly created model has them: code that reduces over all
  // weights (the global gradient norm) then adds in the same order, and a resumed run
  // reproduces an uninterrupted one bit for bit. The file's order is sorted by name.
  const params: Params = {};
  for (const name of Object.keys(weightSpecs(config))) {
    const e = modelEntries[name];
    const value = tf.tensor(e.data as Float32Array, e.shape, 'float32');
    params[name] = tf.variable(value, true);
    value.dispose();
  }
  return params;
}
