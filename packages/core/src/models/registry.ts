import type { ModelConfig } from '../config';
import { CheckpointError, ConfigError } from '../errors';
import { validateWith, type ModelFamily } from './family';
import { matgemma, type MatGemma } from './matgemma';
import { matlm, type MatLM } from './matlm';
import { matvit, type MatViT } from './matvit';
import type { NestedModel } from './nested-model';
import type { Params } from './weight-spec';

/**
 * Every model family core knows, by `arch`. Adding a family: a folder `models/<arch>/` that
 * exports a `ModelFamily`, and one line here (see the README, "Adding a model family").
 */
export const families = {
  matlm,
  matvit,
  matgemma,
} as const;

export type Arch = keyof typeof families;
export const archNames = Object.keys(families) as Arch[];

/** The model class of a family, by arch. */
export type ModelOf<A extends Arch> = ReturnType<(typeof families)[A]['create']>;

/** A model of any registered family: the shared NestedModel interface over a ModelConfig. */
export type AnyModel = NestedModel<ModelConfig>;

/**
 * A decoder-only language model of any family (MatLM, MatGemma): tokens [B, T] in, logits
 * [B, T, V] out, `forwardCached` with a KV cache, `loss` against next tokens.
 */
export type LanguageModel = MatLM | MatGemma;

/** The config as a language model's (a family whose unit is the token), or a CheckpointError naming what it holds. */
export function languageConfigOf(config: ModelConfig, source = 'model'): LanguageModel['config'] {
  const family = familyOf(config);
  if (family.unit !== 'token')
    throw new CheckpointError(`${source} holds a ${family.name}, not a language model`);
  return config as LanguageModel['config'];
}

/** The model as a language model (a family whose unit is the token), or a CheckpointError naming what it is. */
export function languageModelOf(model: AnyModel, source = 'model'): LanguageModel {
  languageConfigOf(model.config, source);
  return model as LanguageModel;
}

/** The family a config (or an arch name) belongs to; ConfigError listing the known ones otherwise. */
export function familyOf(configOrArch: { arch: string } | string): ModelFamily<ModelConfig> {
  const arch = typeof configOrArch === 'string' ? configOrArch : configOrArch?.arch;
  const family = (families as Record<string, unknown>)[arch];
  if (!family || !Object.hasOwn(families, arch))
    throw new ConfigError(
      `config.arch must be ${archNames.map((a) => JSON.stringify(a)).join(' or ')}, got ${JSON.stringify(arch)}`,
    );
  return family as ModelFamily<ModelConfig>;
}

/** Checks every field of a config (e.g. one read from a checkpoint) and returns it typed. */
export function validateConfig<C extends ModelConfig>(config: C): C {
  if (config === null || typeof config !== 'object')
    throw new ConfigError('config must be an object');
  return validateWith(familyOf(config), config) as C;
}

/** Builds the model class the config names around the given weights (fresh ones from `seed` if none). */
export function createModel(config: ModelConfig, params?: Params, seed = 0): AnyModel {
  return familyOf(config).create(config, params, seed);
}

/**
 * The model as one of the given family's (typed), or a CheckpointError naming what it is:
 * for code that loads a checkpoint and needs, say, a MatLM.
 */
export function modelOf<A extends Arch>(model: AnyModel, arch: A, source = 'model'): ModelOf<A> {
  const family = families[arch] as unknown as ModelFamily<ModelConfig>;
  if (!family.isModel(model)) {
    const held = (model as AnyModel).config.arch;
    throw new CheckpointError(`${source} holds a ${held}, not a ${family.name}`);
  }
  return model as ModelOf<A>;
}

/** The config as one of the given family's, or a CheckpointError naming what it is. */
export function configOf<A extends Arch>(
  config: ModelConfig,
  arch: A,
  source = 'model',
): Extract<ModelConfig, { arch: A }> {
  if (config.arch !== arch)
    throw new CheckpointError(`${source} holds a ${config.arch}, not a ${families[arch].name}`);
  return config as Extract<ModelConfig, { arch: A }>;
}

export type { MatLM, MatViT, MatGemma };
