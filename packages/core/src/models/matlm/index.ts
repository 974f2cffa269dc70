// The MatLM family: everything core knows about it (see ../family.ts for what a family holds).
export { matlm } from './family';
export {
  matlmConfig,
  lmPresetNames,
  validateMatLM,
  type MatLMConfig,
  type LMPresetName,
} from './config';
export { MatLM, cacheLength, truncateCache, disposeCache, type KVCache } from './model';
export { lmSignature, lmForward, buildLMGraph } from './graph';
