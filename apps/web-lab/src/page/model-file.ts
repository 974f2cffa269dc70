import {
  CheckpointError,
  decodeModel,
  encodeModel,
  languageModelOf,
  type LanguageModel,
} from '@matformer/core';
import { BYTE_VOCAB_SIZE } from '@matformer/train';

/**
 * The model as the bytes of a .safetensors checkpoint, as core's `saveModel` writes it (config
 * and stored widths in __metadata__), so `lm-trainer --checkpoint` reads it.
 */
export function modelToSafetensors(model: LanguageModel): Uint8Array {
  return encodeModel(model);
}

/**
 * A language model from a .safetensors file's bytes (what `lm-trainer train` writes in its run
 * directory). Anything else — not safetensors, not ours, a ViT, a vocabulary that is not bytes
 * — throws a CheckpointError naming the file and the problem; nothing is left allocated.
 */
export function modelFromSafetensors(bytes: Uint8Array, name: string): LanguageModel {
  const model = decodeModel(bytes, `"${name}"`);
  try {
    const lm = languageModelOf(model, `"${name}"`);
    if (lm.config.vocabSize !== BYTE_VOCAB_SIZE)
      throw new CheckpointError(
        `"${name}" has a vocabulary of ${lm.config.vocabSize} tokens; the page's text is bytes (${BYTE_VOCAB_SIZE})`,
      );
    return lm;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
