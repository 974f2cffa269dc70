import { readFile } from 'node:fs/promises';
import {
  ConfigError,
  lmPresetNames,
  matlmConfig,
  type LMPresetName,
  type MatLMConfig,
} from '@matformer/core';
import { baselineConfig, BYTE_VOCAB_SIZE } from '@matformer/train';

/** Model-shape flags of `lm-trainer train`: each overrides the preset (and --config). */
export interface ShapeFlags {
  preset: string;
  /** A JSON file of MatLM config fields (dModel, nLayers, nHeads, dFF, granularities, maxSeqLen, normEps). */
  config?: string;
  dModel?: number;
  layers?: number;
  heads?: number;
  /** Nested FFN widths, ascending; the last is the full width dFF. */
  ffnWidths?: number[];
  seqLen?: number;
  baseline?: number;
}

/** Fields a --config file may set (the vocabulary is the byte tokenizer's, and arch is MatLM). */
const fileFields = ['dModel', 'nLayers', 'nHeads', 'dFF', 'granularities', 'maxSeqLen', 'normEps'];

async function readConfigFile(path: string): Promise<Partial<MatLMConfig>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`--config ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError(`--config ${path}: expected a JSON object of config fields`);
  const unknown = Object.keys(parsed).filter((k) => !fileFields.includes(k));
  if (unknown.length)
    throw new ConfigError(
      `--config ${path}: unknown field ${JSON.stringify(unknown[0])}; allowed: ${fileFields.join(', ')}`,
    );
  return parsed as Partial<MatLMConfig>;
}

/**
 * The byte-level MatLM config of a run: the preset, then --config, then the shape flags; a
 * context shorter than --seq-len grows to fit it. Invalid shapes fail with the core's
 * message, which names the field (e.g. "config.dModel (100) must be divisible by config.nHeads (3)").
 */
export async function modelConfig(f: ShapeFlags): Promise<MatLMConfig> {
  if (!lmPresetNames.includes(f.preset as LMPresetName))
    throw new ConfigError(`unknown preset "${f.preset}"; allowed: ${lmPresetNames.join(', ')}`);
  const overrides: Partial<MatLMConfig> = f.config ? await readConfigFile(f.config) : {};
  if (f.dModel !== undefined) overrides.dModel = f.dModel;
  if (f.layers !== undefined) overrides.nLayers = f.layers;
  if (f.heads !== undefined) overrides.nHeads = f.heads;
  if (f.ffnWidths !== undefined) {
    overrides.granularities = f.ffnWidths;
    overrides.dFF = f.ffnWidths[f.ffnWidths.length - 1];
  }
  const preset = matlmConfig(f.preset as LMPresetName, { vocabSize: BYTE_VOCAB_SIZE });
  if (f.seqLen !== undefined && f.seqLen > (overrides.maxSeqLen ?? preset.maxSeqLen))
    overrides.maxSeqLen = f.seqLen;
  // A new dFF without new widths gets the paper's four (dFF/8 … dFF).
  const config = matlmConfig(f.preset as LMPresetName, {
    ...overrides,
    vocabSize: BYTE_VOCAB_SIZE,
  });
  if (f.baseline === undefined) return config;
  if (!config.granularities.includes(f.baseline)) {
    throw new ConfigError(
      `--baseline width ${f.baseline} is not a granularity of this model; allowed: ${config.granularities.join(', ')}`,
    );
  }
  return baselineConfig(config, f.baseline);
}
