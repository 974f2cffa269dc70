export * from './errors';
export * from './config';
export { weightSpecs, initParams, checkParams, countStoredParams, type Params } from './weights';
export { layerNorm } from './layers/layer-norm';
export { gelu } from './layers/gelu';
export { nestedFFN, type FFNWeights } from './layers/nested-ffn';
export { multiHeadAttention, type AttentionWeights, type LayerKV } from './layers/attention';
export { block, type BlockOptions } from './layers/block';
export { NestedModel, crossEntropy } from './models/nested-model';
export { MatLM, cacheLength, truncateCache, disposeCache, type KVCache } from './models/matlm';
export { MatViT } from './models/matvit';
export { extract } from './extract';
export * from './cost';
export * from './backend';
export * from './io/safetensors';
export { writeFileAtomic, writeFileAtomicSync } from './io/atomic-write';
export {
  lockDir,
  makeDirFast,
  removeDeadTempFiles,
  DirLockError,
  LOCK_FILE,
  type DirLock,
} from './io/dir-lock';
export * from './io/checkpoint';
export { tensorGrowth } from './memory';
export type { LMEngine } from './decoding/engine';
export { TfjsLMEngine } from './decoding/tfjs-engine';
export { InferenceCache } from './layers/inference-cache';
export { Rng } from './rng';
