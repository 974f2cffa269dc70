import { readFile } from 'node:fs/promises';
import { ConfigError, familyOf, type MatGemmaConfig, type MatLMConfig } from '@matformer/core';
import { baselineConfig, BYTE_VOCAB_SIZE } from '@matformer/train';

/** The language-model families `lm-trainer train --arch` builds. */
export const lmArchs = ['matlm', 'matgemma'] as const;
export type LMArch = (typeof lmArchs)[number];
export type LMConfig = MatLMConfig | MatGemmaConfig;

/** Model-shape flags of `lm-trainer train`: each overrides the preset (and --config). */
export interface ShapeFlags {
  /** Model family: matlm (GPT-2 block) or matgemma (Gemma 3n / Llama block). */
  arch?: string;
  preset: string;
  /** A JSON file of config fields of the family (dModel, nLayers, nHeads, dFF, …). */
  config?: string;
  dModel?: number;
  layers?: number;
  heads?: number;
  /** Key/value heads (matgemma: grouped-query attention). */
  kvHeads?: number;
  /** Nested FFN widths, ascending; the last is the full width dFF. */
  ffnWidths?: number[];
  seqLen?: number;
  baseline?: number;
}

/** Fields a --config file may set (the vocabulary is the byte tokenizer's; arch is --arch). */
const fileFields: Record<LMArch, string[]> = {
  matlm: ['dModel', 'nLayers', 'nHeads', 'dFF', 'granularities', 'maxSeqLen', 'normEps'],
  matgemma: [
    'dModel',
    'nLayers',
    'nHeads',
    'nKvHeads',
    'headDim',
    'dFF',
    'granularities',
    'maxSeqLen',
    'normEps',
    'ropeTheta',
    'activation',
    'normOffset',
    'embedScale',
    'tiedEmbeddings',
    'finalSoftcap',
  ],
};

async function readConfigFile(path: string, arch: LMArch): Promise<Partial<LMConfig>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`--config ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError(`--config ${path}: expected a JSON object of config fields`);
  const unknown = Object.keys(parsed).filter((k) => !fileFields[arch].includes(k));
  if (unknown.length)
    throw new ConfigError(
      `--config ${path}: unknown ${arch} field ${JSON.stringify(unknown[0])}; allowed: ${fileFields[arch].join(', ')}`,
    );
  return parsed as Partial<LMConfig>;
}

/** The --arch value, checked. */
export function lmArch(arch = 'matlm'): LMArch {
  if (!lmArchs.includes(arch as LMArch))
    throw new ConfigError(
      `--arch must be one of ${lmArchs.join(', ')}, got ${JSON.stringify(arch)}`,
    );
  return arch as LMArch;
}

/**
 * The byte-level config of a run: the family's preset, then --config, then the shape flags; a
 * context shorter than --seq-len grows to fit it. Invalid shapes fail with the core's
 * message, which names the field (e.g. "config.dModel (100) must be divisible by config.nHeads (3)").
 */
export async function modelConfig(f: ShapeFlags): Promise<LMConfig> {
  const arch = lmArch(f.arch);
  const family = familyOf(arch);
  if (!family.presetNames.includes(f.preset))
    throw new ConfigError(
      `unknown ${family.name} preset "${f.preset}"; allowed: ${family.presetNames.join(', ')}`,
    );
  const overrides: Record<string, unknown> = f.config ? await readConfigFile(f.config, arch) : {};
  if (f.dModel !== undefined) overrides.dModel = f.dModel;
  if (f.layers !== undefined) overrides.nLayers = f.layers;
  if (f.heads !== undefined) overrides.nHeads = f.heads;
  if (f.kvHeads !== undefined) {
    if (arch !== 'matgemma')
      throw new ConfigError(
        '--kv-heads needs --arch matgemma (MatLM has full multi-head attention)',
      );
    overrides.nKvHeads = f.kvHeads;
  }
  if (f.ffnWidths !== undefined) {
    overrides.granularities = f.ffnWidths;
    overrides.dFF = f.ffnWidths[f.ffnWidths.length - 1];
  }
  const preset = family.config(f.preset, { vocabSize: BYTE_VOCAB_SIZE } as never) as LMConfig;
  if (f.seqLen !== undefined && f.seqLen > ((overrides.maxSeqLen as number) ?? preset.maxSeqLen))
    overrides.maxSeqLen = f.seqLen;
  // A new dFF without new widths gets the paper's four (dFF/8 … dFF).
  const config = family.config(f.preset, {
    ...overrides,
    vocabSize: BYTE_VOCAB_SIZE,
  } as never) as LMConfig;
  if (f.baseline === undefined) return config;
  if (!config.granularities.includes(f.baseline)) {
    throw new ConfigError(
      `--baseline width ${f.baseline} is not a granularity of this model; allowed: ${config.granularities.join(', ')}`,
    );
  }
  return baselineConfig(config, f.baseline);
}
