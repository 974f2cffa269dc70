import { ConfigError } from './errors';
import type { MatLMConfig } from './models/matlm/config';
import type { MatViTConfig } from './models/matvit/config';
export {
  matgemmaConfig,
  gemmaPresetNames,
  gatedActivations,
  type GemmaPresetName,
  type GatedActivation,
} from './models/matgemma/config';
import type { MatGemmaConfig } from './models/matgemma/config';

export type { MatLMConfig, MatViTConfig, MatGemmaConfig };
// The families' config builders and presets, here beside the shared fields (each lives in its family's folder).
export { matlmConfig, lmPresetNames, type LMPresetName } from './models/matlm/config';
export {
  matvitConfig,
  vitPresetNames,
  numPatches,
  type ViTPresetName,
} from './models/matvit/config';

/** Fields every MatFormer shares: the trunk and its nested FFN widths. */
export interface TrunkConfig {
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

/** The config of any registered model family (see models/registry.ts); `arch` names the family. */
export type ModelConfig = MatLMConfig | MatViTConfig | MatGemmaConfig;

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

/**
 * A family's config from one of its named presets: the preset's sizes, the paper's
 * granularities for its dFF, the family's `defaults`, then `overrides`; checked by
 * `validateTrunk` and the family's `validate`. An unknown preset names the allowed ones.
 */
export function presetConfig<C extends TrunkConfig & { arch: string }>(
  familyName: string,
  presets: Record<string, Partial<C> & { dFF: number }>,
  preset: string,
  defaults: Partial<C> & { arch: C['arch'] },
  overrides: Partial<C>,
  validate: (config: C) => void,
): C {
  const base = Object.hasOwn(presets, preset) ? presets[preset] : undefined;
  if (!base)
    throw new ConfigError(
      `unknown ${familyName} preset "${preset}"; allowed: ${Object.keys(presets).join(', ')}`,
    );
  const dFF = overrides.dFF ?? base.dFF;
  // Key order as written by earlier versions (arch first): a config's JSON names its model.
  const { arch, ...familyDefaults } = defaults;
  const config = {
    arch,
    ...base,
    granularities: paperGranularities(dFF),
    ...familyDefaults,
    ...overrides,
  } as C;
  validateTrunk(config);
  validate(config);
  return config;
}

/** Throws a ConfigError naming `field` unless it is a positive integer. */
export function positiveInt(config: object, field: string): void {
  const v = (config as Record<string, unknown>)[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`config.${field} must be a positive integer, got ${JSON.stringify(v)}`);
  }
}

/**
 * Checks the fields every family shares (the trunk and its nested widths); each family checks
 * its own on top (see `validateConfig`, which does both).
 */
export function validateTrunk(config: TrunkConfig): void {
  if (config === null || typeof config !== 'object')
    throw new ConfigError('config must be an object');
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
}

/** The hidden width stored in each layer: dFF for a nested model, the extracted widths for a dense one. */
export function storedWidths(config: TrunkConfig): Widths {
  return config.layerDFF ?? Array(config.nLayers).fill(config.dFF);
}

/**
 * Resolves what a caller passes as widths into one width per layer, validated:
 * undefined → every layer at its stored width; a number → that width in every layer;
 * an array → a Mix'n'Match config. Each width must be a granularity no larger than the layer
 * stores, or 0 (`SKIP`) to skip the layer; at least one layer must be kept.
 */
export function resolveWidths(config: TrunkConfig, widths?: number | Widths): Widths {
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
