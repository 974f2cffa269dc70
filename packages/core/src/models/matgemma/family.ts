import type { ModelFamily } from '../family';
import type { WeightSpec } from '../weight-spec';
import {
  gemmaPresetNames,
  matgemmaConfig,
  validateMatGemma,
  type GemmaPresetName,
  type MatGemmaConfig,
} from './config';
import { buildMatGemmaDecoder } from './decoder';
import { buildMatGemmaGraph, matgemmaForward } from './graph';
import { MatGemma } from './model';
import { matgemmaBlockSpecs } from './weights';

/**
 * MatGemma: a decoder-only language model with the Gemma 3n / Llama block. Inputs: token ids
 * [B, T]; embedding (× √C for Gemma), blocks of RMSNorm → rotary grouped-query attention and
 * RMSNorm → gated nested FFN, a final RMSNorm, a tied or own head, optional logit soft-cap.
 */
export const matgemma: ModelFamily<MatGemmaConfig, MatGemma> = {
  arch: 'matgemma',
  name: 'MatGemma',
  presetNames: gemmaPresetNames,
  config: (preset, overrides) => matgemmaConfig(preset as GemmaPresetName | undefined, overrides),
  validate: validateMatGemma,
  inputWeights: (c) => ({ tok_emb: { shape: [c.vocabSize, c.dModel], role: 'embedding' } }),
  blockWeights: matgemmaBlockSpecs,
  outputWeights: (c): Record<string, WeightSpec> =>
    c.tiedEmbeddings
      ? {}
      : { 'lm_head.weight': { shape: [c.vocabSize, c.dModel], role: 'matrix' } },
  create: (config, params, seed) => new MatGemma(config, params, seed),
  isModel: (model): model is MatGemma => model instanceof MatGemma,
  isConfig: (c): c is MatGemmaConfig => (c as { arch?: unknown } | undefined)?.arch === 'matgemma',
  unit: 'token',
  context: (c) => c.maxSeqLen,
  // q and o: H·hd each way; k and v: Hkv·hd; scores and mixing: 2 · H·hd per key; gated FFN: 3·C·m.
  blockFlops: (c, m, context) => {
    const q = c.nHeads * c.headDim;
    const kv = c.nKvHeads * c.headDim;
    return 2 * c.dModel * (2 * q + 2 * kv) + 2 * 2 * q * context + 2 * 3 * c.dModel * m;
  },
  kvCache: (c) => ({ heads: c.nKvHeads, headDim: c.headDim }),
  tokenFlops: (c) => 2 * c.dModel * c.vocabSize, // the head
  exampleFlops: (_c, perToken) => perToken,
  lossMetrics: (loss) => ({ bitsPerToken: loss / Math.LN2 }),
  onnx: {
    build: buildMatGemmaGraph,
    input: () => ({ name: 'input_ids', type: 'int64', shape: ['batch', 'seq'] }),
    forward: (g, config, w, ids) => ({ logits: matgemmaForward(g, config, w, ids).logits2d }),
    decoder: { build: buildMatGemmaDecoder },
  },
};
