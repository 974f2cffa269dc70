import type { ModelFamily } from '../family';
import {
  lmPresetNames,
  matlmConfig,
  validateMatLM,
  type LMPresetName,
  type MatLMConfig,
} from './config';
import { buildDecoderGraph } from './decoder';
import { buildLMGraph, lmForward } from './graph';
import { MatLM } from './model';

/**
 * MatLM: a decoder-only language model. Inputs: token ids [B, T]; token embedding plus learned
 * positions (from 0), causal blocks, final norm, an output head tied to the token embedding.
 */
export const matlm: ModelFamily<MatLMConfig, MatLM> = {
  arch: 'matlm',
  name: 'MatLM',
  presetNames: lmPresetNames,
  config: (preset, overrides) => matlmConfig(preset as LMPresetName | undefined, overrides),
  validate: validateMatLM,
  inputWeights: (c) => ({
    tok_emb: { shape: [c.vocabSize, c.dModel], role: 'embedding' },
    pos_emb: { shape: [c.maxSeqLen, c.dModel], role: 'embedding' },
  }),
  outputWeights: () => ({}), // the head is tok_emb, transposed
  create: (config, params, seed) => new MatLM(config, params, seed),
  isModel: (model): model is MatLM => model instanceof MatLM,
  isConfig: (c): c is MatLMConfig => (c as { arch?: unknown } | undefined)?.arch === 'matlm',
  unit: 'token',
  // A full-window forward applies the causal mask to full T×T scores.
  context: (c) => c.maxSeqLen,
  tokenFlops: (c) => 2 * c.dModel * c.vocabSize, // the tied head
  exampleFlops: (_c, perToken) => perToken,
  lossMetrics: (loss) => ({ bitsPerToken: loss / Math.LN2 }),
  onnx: {
    build: buildLMGraph,
    input: () => ({ name: 'input_ids', type: 'int64', shape: ['batch', 'seq'] }),
    forward: (g, config, w, ids) => ({ logits: lmForward(g, config, w, ids).logits2d }),
    decoder: { build: buildDecoderGraph },
  },
};
