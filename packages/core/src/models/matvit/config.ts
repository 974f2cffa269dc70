import { positiveInt, presetConfig, type TrunkConfig } from '../../config';
import { ConfigError } from '../../errors';

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
  // MNIST-shaped ViT: 28×28 gray, 4×4 patches → 49 tokens. (The retrieval demo runs it with
  // 7×7 patches, 16 tokens: a third of the compute.)
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

export type ViTPresetName = keyof typeof vitPresets;
export const vitPresetNames = Object.keys(vitPresets) as ViTPresetName[];

/** Number of patches (tokens before the class token) of a MatViT. */
export function numPatches(config: MatViTConfig): number {
  return (config.imageSize / config.patchSize) ** 2;
}

/** Checks the MatViT's own fields (the trunk's are checked by `validateTrunk`). */
export function validateMatViT(config: MatViTConfig): void {
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

/** A MatViT config from a named preset, with any field overridden; validated. */
export function matvitConfig(
  preset: ViTPresetName = 'small',
  overrides: Partial<Omit<MatViTConfig, 'arch'>> = {},
): MatViTConfig {
  const defaults = { arch: 'matvit', normEps: 1e-6, pool: 'cls' } as const;
  return presetConfig('MatViT', vitPresets, preset, defaults, overrides, validateMatViT);
}
