import type { ModelFamily } from '../family';
import {
  matvitConfig,
  numPatches,
  validateMatViT,
  vitPresetNames,
  type MatViTConfig,
  type ViTPresetName,
} from './config';
import { buildViTGraph, vitForward } from './graph';
import { MatViT } from './model';

/**
 * MatViT: a ViT encoder. Inputs: images [B, S, S, Ch]; square patches projected to C, a class
 * token, learned positions, bidirectional blocks, final norm, pooling (class token or mean)
 * and a linear classification head.
 */
export const matvit: ModelFamily<MatViTConfig, MatViT> = {
  arch: 'matvit',
  name: 'MatViT',
  presetNames: vitPresetNames,
  config: (preset, overrides) => matvitConfig(preset as ViTPresetName | undefined, overrides),
  validate: validateMatViT,
  inputWeights: (c) => {
    const C = c.dModel;
    return {
      'patch_emb.weight': { shape: [c.patchSize * c.patchSize * c.channels, C], role: 'matrix' },
      'patch_emb.bias': { shape: [C], role: 'bias' },
      cls_token: { shape: [C], role: 'embedding' },
      pos_emb: { shape: [numPatches(c) + 1, C], role: 'embedding' },
    };
  },
  outputWeights: (c) => ({
    'head.weight': { shape: [c.dModel, c.numClasses], role: 'matrix' },
    'head.bias': { shape: [c.numClasses], role: 'bias' },
  }),
  create: (config, params, seed) => new MatViT(config, params, seed),
  isModel: (model): model is MatViT => model instanceof MatViT,
  isConfig: (c): c is MatViTConfig => (c as { arch?: unknown } | undefined)?.arch === 'matvit',
  unit: 'image',
  context: (c) => numPatches(c) + 1, // every token attends to all (class token included)
  tokenFlops: () => 0,
  // Patch projection, every token through the blocks, the head on the pooled embedding.
  exampleFlops: (c, perToken) => {
    const N = numPatches(c);
    const patchDim = c.patchSize * c.patchSize * c.channels;
    return 2 * N * patchDim * c.dModel + (N + 1) * perToken + 2 * c.dModel * c.numClasses;
  },
  lossMetrics: () => ({}),
  onnx: {
    build: buildViTGraph,
    input: (c) => ({
      name: 'pixel_values',
      type: 'float',
      shape: ['batch', c.imageSize, c.imageSize, c.channels],
    }),
    forward: (g, config, w, pixels) => ({ logits: vitForward(g, config, w, pixels).logits }),
  },
};
