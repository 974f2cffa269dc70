// @matformer/core for browsers (the "browser" export condition): everything of index.ts that
// needs no Node builtin. Left out: tfjs backend selection (tfjs-node), file locks, streamed and
// Hugging Face directory I/O. Safetensors and checkpoints work on bytes here (encodeSafetensors,
// decodeSafetensors, encodeModel, decodeModel); the path-taking functions throw a clear error.
export * from './errors';
export * from './config';
export {
  weightSpecs,
  initParams,
  checkParams,
  countStoredParams,
  type Params,
  type WeightSpec,
} from './weights';
export { layerNorm } from './layers/layer-norm';
export { gelu } from './layers/gelu';
export { nestedFFN, type FFNWeights } from './layers/nested-ffn';
export { multiHeadAttention, type AttentionWeights, type LayerKV } from './layers/attention';
export { block, type BlockOptions } from './layers/block';
export { NestedModel, crossEntropy } from './models/nested-model';
export {
  trunkWeights,
  type BlockWeights,
  type NormWeights,
  type LinearWeights,
  type TrunkWeights,
} from './models/typed-weights';
export { trunkSpecs, BLOCK_WEIGHT, slicePrefix, type Role } from './models/weight-spec';
export { familySpecs, kvCacheShape, type ModelFamily, type FamilyConfig } from './models/family';
export {
  families,
  archNames,
  familyOf,
  validateConfig,
  createModel,
  modelOf,
  configOf,
  type Arch,
  type ModelOf,
  languageModelOf,
  languageConfigOf,
  type AnyModel,
  type LanguageModel,
} from './models/registry';
export {
  matlm,
  MatLM,
  cacheLength,
  truncateCache,
  disposeCache,
  type KVCache,
} from './models/matlm';
export { matvit, MatViT } from './models/matvit';
export { matgemma, MatGemma, matgemmaForward, buildMatGemmaGraph } from './models/matgemma';
export { rmsNorm } from './layers/rms-norm';
export { applyRotary, rotaryTables } from './layers/rotary';
export { gqaAttention, type GQAWeights, type GQAOptions } from './layers/gqa-attention';
export { gatedFFN, gateActivation, type GatedFFNWeights } from './layers/gated-ffn';
export { extract } from './extract';
export * from './cost';
export * from './io/safetensors';
// Path-taking writes refuse in a browser (io/files.web.ts); exported so shared code links.
export { checkWritablePath, writeFileAtomic } from './io/files';
export * from './io/checkpoint';
export { tensorGrowth } from './memory';
export type { LMEngine } from './decoding/engine';
export { TfjsLMEngine } from './decoding/tfjs-engine';
export { InferenceCache } from './layers/inference-cache';
export { Rng } from './rng';
export { median, percentile, timingStats, type TimingStats } from './timing';
export { capWindows, distinctWindows } from './windows';
export {
  toHFConfig,
  fromHFConfig,
  hfModelType,
  hfTensorSpecs,
  type HFTensorSpec,
  type HFConfigRead,
  type IntermediateSizeMode,
  type MatformerBlock,
} from './models/matgemma/hf';
export {
  f32ToF16Bits,
  f16BitsToF32,
  f32ToBF16Bits,
  bf16BitsToF32,
  decodeFloats,
  encodeFloats,
  hfDTypes,
  type HFDType,
} from './io/hf/dtype';
