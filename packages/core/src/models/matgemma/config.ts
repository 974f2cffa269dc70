import { ConfigError } from '../../errors';
import { positiveInt, presetConfig, type TrunkConfig } from '../../config';

/** The FFN's gate activation: GELU, tanh approximation (GeGLU, Gemma) or SiLU (SwiGLU, Llama). */
export type GatedActivation = 'gelu_tanh' | 'silu';
export const gatedActivations: readonly GatedActivation[] = ['gelu_tanh', 'silu'];

/**
 * MatGemma: a decoder-only language model with the Gemma 3n / Llama block (RMSNorm, rotary
 * positions, grouped-query attention, a gated FFN nested along its hidden dimension). Field
 * names map one to one onto Hugging Face's config.json (see the README's table).
 */
export interface MatGemmaConfig extends TrunkConfig {
  arch: 'matgemma';
  /** Tokens in the vocabulary (vocab_size; 256 for the byte-level tokenizer). */
  vocabSize: number;
  /** Longest context the model is used at (max_position_embeddings); rotary positions need no table. */
  maxSeqLen: number;
  /** Key/value heads (num_key_value_heads); divides nHeads. Query head h reads kv head ⌊h / (nHeads/nKvHeads)⌋. */
  nKvHeads: number;
  /** Width of every attention head (head_dim); q has nHeads·headDim rows, k and v nKvHeads·headDim. */
  headDim: number;
  /** Rotary base θ (rope_theta): pair i of a head turns at position p by p·θ^(−2i/headDim). */
  ropeTheta: number;
  /** act in down(act(gate·x) ⊙ up·x) (hidden_activation / hidden_act). */
  activation: GatedActivation;
  /** Gemma's RMSNorm: x·rsqrt(mean x² + eps)·(1 + w), the stored w an offset; Llama's scales by w. */
  normOffset: boolean;
  /** Gemma's input scale: embeddings × √dModel (the tied head reads the unscaled table). */
  embedScale: boolean;
  /** Output head tied to the token embedding (tie_word_embeddings); untied stores lm_head. */
  tiedEmbeddings: boolean;
  /** Final logit soft-capping c: logits → c·tanh(logits / c) (final_logit_softcapping); 0 = off. */
  finalSoftcap: number;
}

const gemmaPresets = {
  // 7k params: gradient checks and unit tests (GQA: 4 query heads share 2 kv heads).
  tiny: {
    dModel: 16,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    headDim: 4,
    dFF: 64,
    vocabSize: 32,
    maxSeqLen: 16,
  },
  // ~0.84M params with the 256-byte vocabulary: MatLM `mini`'s size, for the same budget.
  mini: {
    dModel: 128,
    nLayers: 4,
    nHeads: 4,
    nKvHeads: 2,
    headDim: 32,
    dFF: 384,
    vocabSize: 256,
    maxSeqLen: 128,
  },
  // ~3.2M params: MatLM `small`'s size.
  small: {
    dModel: 256,
    nLayers: 4,
    nHeads: 4,
    nKvHeads: 2,
    headDim: 64,
    dFF: 768,
    vocabSize: 256,
    maxSeqLen: 128,
  },
} as const;

export type GemmaPresetName = keyof typeof gemmaPresets;
export const gemmaPresetNames = Object.keys(gemmaPresets) as GemmaPresetName[];

/** Checks MatGemma's own fields (the trunk's are checked by `validateTrunk`). */
export function validateMatGemma(c: MatGemmaConfig): void {
  for (const f of ['vocabSize', 'maxSeqLen', 'nKvHeads', 'headDim']) positiveInt(c, f);
  if (c.nHeads % c.nKvHeads !== 0)
    throw new ConfigError(
      `config.nKvHeads (${c.nKvHeads}) must divide config.nHeads (${c.nHeads})`,
    );
  if (c.headDim % 2 !== 0)
    throw new ConfigError(`config.headDim must be even (rotary pairs), got ${c.headDim}`);
  if (!(typeof c.ropeTheta === 'number' && c.ropeTheta > 1 && Number.isFinite(c.ropeTheta)))
    throw new ConfigError(
      `config.ropeTheta must be a number > 1, got ${JSON.stringify(c.ropeTheta)}`,
    );
  if (!gatedActivations.includes(c.activation))
    throw new ConfigError(
      `config.activation must be one of ${gatedActivations.join(', ')}, got ${JSON.stringify(c.activation)}`,
    );
  for (const f of ['normOffset', 'embedScale', 'tiedEmbeddings'] as const)
    if (typeof c[f] !== 'boolean')
      throw new ConfigError(`config.${f} must be true or false, got ${JSON.stringify(c[f])}`);
  if (!(
    typeof c.finalSoftcap === 'number' &&
    c.finalSoftcap >= 0 &&
    Number.isFinite(c.finalSoftcap)
  ))
    throw new ConfigError(
      `config.finalSoftcap must be a number ≥ 0 (0 = off), got ${JSON.stringify(c.finalSoftcap)}`,
    );
}

/**
 * A MatGemma config from a named preset, with any field overridden; validated. Defaults are
 * Gemma's: GELU-tanh gates, (1 + w) norms, √d embedding scale, tied head, no soft-cap
 * (Gemma 2's 30 is for 256k-token vocabularies), θ = 10,000, eps = 1e-6.
 */
export function matgemmaConfig(
  preset: GemmaPresetName = 'mini',
  overrides: Partial<Omit<MatGemmaConfig, 'arch'>> = {},
): MatGemmaConfig {
  const defaults = {
    arch: 'matgemma',
    normEps: 1e-6,
    ropeTheta: 10_000,
    activation: 'gelu_tanh',
    normOffset: true,
    embedScale: true,
    tiedEmbeddings: true,
    finalSoftcap: 0,
  } as const;
  return presetConfig('MatGemma', gemmaPresets, preset, defaults, overrides, validateMatGemma);
}
