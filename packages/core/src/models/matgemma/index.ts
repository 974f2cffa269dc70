// The MatGemma family: the Gemma 3n / Llama block (see ../family.ts for what a family holds).
export { matgemma } from './family';
export {
  matgemmaConfig,
  gemmaPresetNames,
  gatedActivations,
  validateMatGemma,
  type MatGemmaConfig,
  type GemmaPresetName,
  type GatedActivation,
} from './config';
export { MatGemma } from './model';
export { matgemmaForward, buildMatGemmaGraph } from './graph';
export { matgemmaBlockSpecs } from './weights';
