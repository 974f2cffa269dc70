// The MatViT family: everything core knows about it (see ../family.ts for what a family holds).
export { matvit } from './family';
export {
  matvitConfig,
  vitPresetNames,
  validateMatViT,
  numPatches,
  type MatViTConfig,
  type ViTPresetName,
} from './config';
export { MatViT } from './model';
export { vitSignature, vitForward, buildViTGraph } from './graph';
