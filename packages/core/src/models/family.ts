import { validateTrunk, type TrunkConfig, type Widths } from '../config';
import { ConfigError } from '../errors';
import type { Dim, GraphBuilder } from '../onnx/graph';
import type { WeightFn } from '../onnx/layers';
import type { DecoderGraphOptions, WeightDataFn } from '../onnx/decoder-parts';

/** What a family's decoder-graph builder is given besides the weights. */
export type DecoderBuildOptions = DecoderGraphOptions & { weightData?: WeightDataFn };
import type { NestedModel } from './nested-model';
import { trunkSpecs, type Params, type WeightSpec } from './weight-spec';

/** A family's config: the shared trunk plus `arch`, the name it is registered under. */
export type FamilyConfig = TrunkConfig & { arch: string };

/**
 * Everything the rest of the code needs to know about one model family (MatLM, MatViT, …).
 * Each family lives in one folder, `models/<arch>/`, exports one object of this type and is
 * registered in `models/registry.ts`; nothing outside those folders branches on `arch`.
 * A family adds what comes before the blocks (embeddings) and after them (the head); the blocks
 * themselves are the GPT-2 trunk (LayerNorm, plain nested FFN: `trunkSpecs`) unless the family
 * brings its own (`blockWeights`, `blockFlops`), as MatGemma does.
 */
export interface ModelFamily<
  C extends FamilyConfig = FamilyConfig,
  M extends NestedModel<C> = NestedModel<C>,
> {
  /** The `arch` its configs and checkpoints carry, e.g. "matlm". */
  readonly arch: C['arch'];
  /** Display name, e.g. "MatLM". */
  readonly name: string;
  /** Named presets that `config` accepts. */
  readonly presetNames: readonly string[];
  /** A validated config from a named preset with any field overridden. */
  config(preset?: string, overrides?: Partial<Omit<C, 'arch'>>): C;
  /** Checks the family's own fields (the trunk's are checked for every family); ConfigError naming the field. */
  validate(config: C): void;
  /** Weights before the blocks (embeddings), name → shape and role, in checkpoint order. */
  inputWeights(config: C): Record<string, WeightSpec>;
  /** Weights after the final norm (a head; none for a tied head), in checkpoint order. */
  outputWeights(config: C): Record<string, WeightSpec>;
  /**
   * The blocks' and final norm's weights, named `blocks.<l>.…` (extract renumbers by that
   * prefix), nested FFN weights marked with their `nested` axis. Default: `trunkSpecs`.
   */
  blockWeights?(config: C): Record<string, WeightSpec>;
  /**
   * Forward FLOPs of one block for one token at FFN width m (> 0) attending to `context` keys,
   * matmuls only. Default: the GPT-2 block (fused qkv, output projection, two FFN matrices).
   */
  blockFlops?(config: C, m: number, context: number): number;
  /**
   * Heads and head width of each layer's KV cache. Default: nHeads heads of dModel / nHeads
   * (full multi-head attention); grouped-query attention caches fewer.
   */
  kvCache?(config: C): { heads: number; headDim: number };
  /** The model around existing weights (checked against the config), or fresh ones drawn from `seed`. */
  create(config: C, params?: Params, seed?: number): M;
  /** Whether a model is one of this family's (narrows its type). */
  isModel(model: unknown): model is M;
  /** Whether a config (e.g. an engine's) is one of this family's (narrows its type). */
  isConfig(config: unknown): config is C;
  /** What one forward example is, for cost tables and throughput: a token or an image. */
  readonly unit: 'token' | 'image';
  /** Keys each query attends to in a full forward: the default context of the FLOP count. */
  context(config: C): number;
  /** Forward FLOPs per token outside the blocks (e.g. a tied output head), matmuls only. */
  tokenFlops(config: C): number;
  /** Forward FLOPs of one example from the per-token FLOPs (blocks + `tokenFlops`). */
  exampleFlops(config: C, perToken: number, widths: Widths): number;
  /** Evaluation metrics derived from the mean held-out loss (nats), e.g. bits per token. */
  lossMetrics(loss: number): { bitsPerToken?: number };
  /** The family's ONNX graph: one definition for export, serving and training. */
  readonly onnx: {
    /** The exported graph: its inputs, the forward pass and its outputs. */
    build(g: GraphBuilder, config: C, w: WeightFn): void;
    /** The model input the forward pass takes (for graphs derived from it, e.g. training). */
    input(config: C): { name: string; type: 'float' | 'int64'; shape: Dim[] };
    /**
     * The forward pass on `input`: 2-D logits [N, K] (N = B·T tokens, or B images), the
     * shape a cross-entropy against N integer targets takes.
     */
    forward(g: GraphBuilder, config: C, w: WeightFn, input: string): { logits: string };
    /**
     * The decoder graph (batch 1, static KV buffer, onnxruntime contrib ops; see
     * onnx/lm-decoder.ts for its inputs and outputs), for language models that have one.
     */
    decoder?: {
      build(g: GraphBuilder, config: C, w: WeightFn, opts: DecoderBuildOptions): void;
      /** Why a config cannot use it beyond the shared limits, or undefined. */
      unsupported?(config: C): string | undefined;
    };
  };
}

/** Every weight of a config of this family, in checkpoint order: inputs, blocks, final norm, outputs. */
export function familySpecs<C extends FamilyConfig>(
  family: ModelFamily<C, NestedModel<C>>,
  config: C,
): Record<string, WeightSpec> {
  const blocks = family.blockWeights?.(config) ?? trunkSpecs(config);
  return { ...family.inputWeights(config), ...blocks, ...family.outputWeights(config) };
}

/** Heads and head width of a layer's KV cache for a config of this family. */
export function kvCacheShape<C extends FamilyConfig>(
  family: ModelFamily<C, NestedModel<C>>,
  config: C,
): { heads: number; headDim: number } {
  return (
    family.kvCache?.(config) ?? { heads: config.nHeads, headDim: config.dModel / config.nHeads }
  );
}

/** Trunk checks, then the family's own; the config returned typed. */
export function validateWith<C extends FamilyConfig>(
  family: ModelFamily<C, NestedModel<C>>,
  config: C,
): C {
  if (config === null || typeof config !== 'object')
    throw new ConfigError('config must be an object');
  if (config.arch !== family.arch)
    throw new ConfigError(
      `config.arch must be ${JSON.stringify(family.arch)} for a ${family.name}, got ${JSON.stringify(config.arch)}`,
    );
  validateTrunk(config);
  family.validate(config);
  return config;
}
