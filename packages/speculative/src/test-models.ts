import * as tf from '@tensorflow/tfjs';
import { MatLM, matlmConfig } from '@matformer/core';

/**
 * A random tiny MatLM (vocab 32, context 64) with FFN weights scaled by `ffnScale` and the
 * final LayerNorm's gain by `logitScale` (which scales the logits and nothing else). At the default init every width predicts nearly the
 * same, nearly uniform distribution; scaling makes the widths disagree (drafts get rejected)
 * and the distributions peaked (argmax gaps far above float noise, p and q far apart).
 */
export function randomTinyLM(seed: number, ffnScale = 1, logitScale = 1): MatLM {
  const model = MatLM.create(matlmConfig('tiny', { vocabSize: 32, maxSeqLen: 64 }), seed);
  for (const [name, v] of Object.entries(model.params)) {
    const s = /ffn\.fc[12]\.weight$/.test(name)
      ? ffnScale
      : name === 'ln_f.weight'
        ? logitScale
        : 1;
    if (s !== 1) v.assign(tf.tidy(() => v.mul(s)));
  }
  return model;
}
