import { positiveInt, presetConfig, type TrunkConfig } from '../../config';

/** A decoder-only language model with tied input/output embeddings. */
export interface MatLMConfig extends TrunkConfig {
  arch: 'matlm';
  /** Tokens in the vocabulary (256 for the byte-level tokenizer). */
  vocabSize: number;
  /** Longest context the learned position table covers. */
  maxSeqLen: number;
}

const lmPresets = {
  // 7,360 params (10,944 with the 256-byte vocabulary the CLIs use): fast enough for gradient
  // checks and every unit test.
  tiny: { dModel: 16, nLayers: 2, nHeads: 2, dFF: 64, vocabSize: 32, maxSeqLen: 16 },
  // 0.85M params: `lm-trainer train`'s default and the report's LM. On 2 cores with the onnxruntime
  // engine, 1,000 steps of 8 × 128 bytes (about 4 minutes) take Moby Dick to ≈ 2.8 bits/byte at
  // full width; the report trains it 4,000 steps.
  mini: { dModel: 128, nLayers: 4, nHeads: 4, dFF: 512, vocabSize: 256, maxSeqLen: 128 },
  // 3.26M params: mini twice as wide (byte-level, a few times mini's step time on 2 cores).
  small: { dModel: 256, nLayers: 4, nHeads: 4, dFF: 1024, vocabSize: 256, maxSeqLen: 128 },
  // 10.8M params: a bigger run for a machine with time or a GPU.
  base: { dModel: 384, nLayers: 6, nHeads: 6, dFF: 1536, vocabSize: 256, maxSeqLen: 256 },
  // 25.5M params (102 MB of fp32 weights, past any L3 cache): decoding on a CPU is bound by
  // reading the weights, not by per-call overhead — the speculative-decoding benchmark's model.
  large: { dModel: 512, nLayers: 8, nHeads: 8, dFF: 2048, vocabSize: 256, maxSeqLen: 256 },
} as const;

export type LMPresetName = keyof typeof lmPresets;
export const lmPresetNames = Object.keys(lmPresets) as LMPresetName[];

/** Checks the MatLM's own fields (the trunk's are checked by `validateTrunk`). */
export function validateMatLM(config: MatLMConfig): void {
  positiveInt(config, 'vocabSize');
  positiveInt(config, 'maxSeqLen');
}

/** A MatLM config from a named preset, with any field overridden; validated. */
export function matlmConfig(
  preset: LMPresetName = 'small',
  overrides: Partial<Omit<MatLMConfig, 'arch'>> = {},
): MatLMConfig {
  const defaults = { arch: 'matlm', normEps: 1e-5 } as const;
  return presetConfig('MatLM', lmPresets, preset, defaults, overrides, validateMatLM);
}
