import { ConfigError } from './errors';

/** Fields every MatFormer shares: the trunk and its nested FFN widths. */
interface TrunkConfig {
  /** Width of the residual stream (C). */
  dModel: number;
  /** Number of Transformer blocks (L). */
  nLayers: number;
  /** Attention heads; must divide dModel. */
  nHeads: number;
  /** Full FFN hidden width; the largest granularity. */
  dFF: number;
  /** Nested FFN widths, ascending, last = dFF. The paper: {dFF/8, dFF/4, dFF/2, dFF}. */
  granularities: number[];
  /**
   * Hidden width actually stored per layer. Absent for a nested model (every layer stores dFF);
   * set by `extract` for a dense submodel, whose layers keep only the widths it chose.
   */
  layerDFF?: number[];
  /**
   * For a model `extract`ed with skipped layers (width 0): the index in the source model of
   * each layer this one keeps, ascending (length nLayers). Absent when no layer was dropped.
   */
  sourceLayers?: number[];
  /** LayerNorm epsilon. */
  normEps: number;
}

/** A decoder-only language model with tied input/output embeddings. */
export interface MatLMConfig extends TrunkConfig {
  arch: 'matlm';
  /** Tokens in the vocabulary (256 for the byte-level tokenizer). */
  vocabSize: number;
  /** Longest context the learned position table covers. */
  maxSeqLen: number;
}

/** A ViT encoder: square images cut into square patches, a class token, a linear head. */
export interface MatViTConfig extends TrunkConfig {
  arch: 'matvit';
  imageSize: number;
  patchSize: number;
  channels: number;
  numClasses: number;
  /** Pooled representation for `embed()` and the head: the class token, or the mean of all tokens. */
  pool: 'cls' | 'mean';
}

export type ModelConfig = MatLMConfig | MatViTConfig;

/**
 * A Mix'n'Match config: the FFN hidden width of each layer (length nLayers). Width 0 skips the
 * layer (elastic depth): its whole block, attention and FFN, is the identity.
 */
export type Widths = number[];

/** The width that marks a skipped layer in a widths list. Never a granularity. */
export const SKIP = 0;

/** The paper's four exponentially spaced granularities: dFF/8, dFF/4, dFF/2, dFF. */
export function paperGranularities(dFF: number): number[] {
  return [dFF / 8, dFF / 4, dFF / 2, dFF];
}

const lmPresets = {
  // 7.4k params: fast enough for gradient checks and every unit test.
  tiny: { dModel: 16, nLayers: 2, nHeads: 2, dFF: 64, vocabSize: 32, maxSeqLen: 16 },
  // 3.26M params: the demo and default training model (byte-level, trains in minutes on 2 cores).
  small: { dModel: 256, nLayers: 4, nHeads: 4, dFF: 1024, vocabSize: 256, maxSeqLen: 128 },
  // 10.8M params: a bigger run for a machine with time or a GPU.
  base: { dModel: 384, nLayers: 6, nHeads: 6, dFF: 1536, vocabSize: 256, maxSeqLen: 256 },
} as const;

const vitPresets = {
  // MNIST-shaped tiny ViT for tests: 28×28 gray, 7×7 patches → 16 tokens.
  tiny: {
    dModel: 16,
    nLayers: 2,
    nHeads: 2,
    dFF: 64,
    imageSize: 28,
    patchSize: 7,
    channels: 1,
    numClasses: 10,
  },
  // MNIST demo ViT: 4×4 patches → 49 tokens.
  small: {
    dModel: 64,
    nLayers: 4,
    nHeads: 4,
    dFF: 256,
    imageSize: 28,
    patchSize: 4,
    channels: 1,
    numClasses: 10,
  },
} as const;

export type LMPresetName = keyof typeof lmPresets;
export type ViTPresetName = keyof typeof vitPresets;
export const lmPresetNames = Object.keys(lmPresets) as LMPresetName[];
export const vitPresetNames = Object.keys(vitPresets) as ViTPresetName[];

/** A MatLM config from a named preset, with any field overridden; validated. */
export function matlmConfig(
  preset: LMPresetName = 'small',
  overrides: Partial<Omit<MatLMConfig, 'arch'>> = {},
): MatLMConfig {
  const base = lmPresets[preset];
  if (!base)
    throw new ConfigError(`unknown MatLM preset "${preset}"; allowed: ${lmPresetNames.join(', ')}`);
  const dFF = overrides.dFF ?? base.dFF;
  return validateConfig({
    arch: 'matlm',
    ...base,
    granularities: paperGranularities(dFF),
    normEps: 1e-5,
    ...overrides,
  });
}

/** A MatViT config from a named preset, with any field overridden; validated. */
export function matvitConfig(
  preset: ViTPresetName = 'small',
  overrides: Partial<Omit<MatViTConfig, 'arch'>> = {},
): MatViTConfig {
  const base = vitPresets[preset];
  if (!base)
    throw new ConfigError(
      `unknown MatViT preset "${preset}"; allowed: ${vitPresetNames.join(', ')}`,
    );
  const dFF = overrides.dFF ?? base.dFF;
  return validateConfig({
    arch: 'matvit',
    ...base,
    granularities: paperGranularities(dFF),
    normEps: 1e-6,
    pool: 'cls',
    ...overrides,
  });
}

function positiveInt(config: object, field: string): void {
  const v = (config as Record<string, unknown>)[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`config.${field} must be a positive integer, got ${JSON.stringify(v)}`);
  }
}

/** Checks every field of a config (e.g. one read from a checkpoint) and returns it typed. */
export function validateConfig<C extends ModelConfig>(config: C): C {
  if (config === null || typeof config !== 'object')
    throw new ConfigError('config must be an object');
  if (config.arch !== 'matlm' && config.arch !== 'matvit') {
    throw new ConfigError(
      `config.arch must be "matlm" or "matvit", got ${JSON.stringify((config as { arch: unknown }).arch)}`,
    );
  }
  for (const f of ['dModel', 'nLayers', 'nHeads', 'dFF']) positiveInt(config, f);
  if (config.dModel % config.nHeads !== 0) {
    throw new ConfigError(
      `config.dModel (${config.dModel}) must be divisible by config.nHeads (${config.nHeads})`,
    );
  }
  if (!(typeof config.normEps === 'number' && config.normEps > 0 && config.normEps < 1)) {
    throw new ConfigError(
      `config.normEps must be a number in (0, 1), got ${JSON.stringify(config.normEps)}`,
    );
  }
  const g = config.granularities;
  if (!Array.isArray(g) || g.length === 0) {
    throw new ConfigError(
      'config.granularities must be a non-empty array of FFN widths, ascending, last = dFF',
    );
  }
  g.forEach((m, i) => {
    if (!Number.isInteger(m) || m <= 0)
      throw new ConfigError(`config.granularities[${i}] must be a positive integer, got ${m}`);
    if (i > 0 && m <= g[i - 1])
      throw new ConfigError(
        `config.granularities must be strictly ascending, got [${g.join(', ')}]`,
      );
  });
  if (g[g.length - 1] !== config.dFF) {
    throw new ConfigError(
      `config.granularities must end with dFF (${config.dFF}), got [${g.join(', ')}]`,
    );
  }
  if (config.layerDFF !== undefined) {
    const ld = config.layerDFF;
    if (!Array.isArray(ld) || ld.length !== config.nLayers) {
      throw new ConfigError(
        `config.layerDFF must list one width per layer (${config.nLayers}), got ${JSON.stringify(ld)}`,
      );
    }
    ld.forEach((w, l) => {
      if (!g.includes(w))
        throw new ConfigError(
          `config.layerDFF[${l}] = ${w} is not one of the granularities [${g.join(', ')}]`,
        );
    });
  }
  if (config.sourceLayers !== undefined) {
    const sl = config.sourceLayers;
    const ok =
      Array.isArray(sl) &&
      sl.length === config.nLayers &&
      sl.every((s, i) => Number.isInteger(s) && s >= 0 && (i === 0 || s > sl[i - 1]));
    if (!ok) {
      throw new ConfigError(
        `config.sourceLayers must list ${config.nLayers} ascending layer indices ≥ 0, got ${JSON.stringify(sl)}`,
      );
    }
  }
  if (config.arch === 'matlm') {
    positiveInt(config, 'vocabSize');
    positiveInt(config, 'maxSeqLen');
  } else {
    for (const f of ['imageSize', 'patchSize', 'channels', 'numClasses']) positiveInt(config, f);
    if (config.imageSize % config.patchSize !== 0) {
      throw new ConfigError(
        `config.imageSize (${config.imageSize}) must be divisible by config.patchSize (${config.patchSize})`,
      );
    }
    if (config.pool !== 'cls' && config.pool !== 'mean') {
      throw new ConfigError(
        `config.pool must be "cls" or "mean", got ${JSON.stringify(config.pool)}`,
      );
    }
  }
  return config;
}

/** The hidden width stored in each layer: dFF for a nested model, the extracted widths for a dense one. */
export function storedWidths(config: ModelConfig): Widths {
  return config.layerDFF ?? Array(config.nLayers).fill(config.dFF);
}

/**
 * Resolves what a caller passes as widths into one width per layer, validated:
 * undefined → every layer at its stored width; a number → that width in every layer;
 * an array → a Mix'n'Match config. Each width must be a granularity no larger than the layer
 * stores, or 0 (`SKIP`) to skip the layer; at least one layer must be kept.
 */
export function resolveWidths(config: ModelConfig, widths?: number | Widths): Widths {
  const stored = storedWidths(config);
  if (widths === undefined) return stored;
  const list = typeof widths === 'number' ? Array(config.nLayers).fill(widths) : widths;
  if (!Array.isArray(list) || list.length !== config.nLayers) {
    throw new ConfigError(
      `widths must list one FFN width per layer (${config.nLayers}), got ${JSON.stringify(widths)}`,
    );
  }
  list.forEach((w, l) => {
    const allowed = config.granularities.filter((m) => m <= stored[l]);
    if (w !== SKIP && !allowed.includes(w)) {
      throw new ConfigError(
        `widths[${l}] = ${JSON.stringify(w)} is out of range; layer ${l} allows [${allowed.join(', ')}], or ${SKIP} to skip the layer`,
      );
    }
  });
  if (list.every((w) => w === SKIP)) {
    throw new ConfigError(
      `widths skip every layer (${JSON.stringify(list)}); keep at least one layer with a granularity [${config.granularities.join(', ')}]`,
    );
  }
  return list;
}

/** Indices of the layers a widths list keeps (width > 0). */
export function keptLayers(widths: Widths): number[] {
  return widths.flatMap((w, l) => (w === SKIP ? [] : [l]));
}

/** Number of patches (tokens before the class token) of a MatViT. */
export function numPatches(config: MatViTConfig): number {
  return (config.imageSize / config.patchSize) ** 2;
}
