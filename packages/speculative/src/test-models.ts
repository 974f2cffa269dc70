import * as tf from '@tensorflow/tfjs';
import { MatGemma, matgemmaConfig, MatLM, matlmConfig } from '@matformer/core';

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

/**
 * A random tiny MatGemma (vocab 32, context 64, 4 query heads on 2 kv heads of width 8, three
 * layers), its FFN weights scaled by `ffnScale` and its final norm by `logitScale`, as
 * `randomTinyLM` does for MatLM: widths that disagree, peaked distributions.
 */
export function randomTinyGemma(seed: number, ffnScale = 1, logitScale = 1): MatGemma {
  const config = matgemmaConfig('tiny', { vocabSize: 32, maxSeqLen: 64, headDim: 8, nLayers: 3 });
  const model = MatGemma.create(config, seed);
  for (const [name, v] of Object.entries(model.params)) {
    if (/ffn\.(gate|up|down)\.weight$/.test(name)) v.assign(tf.tidy(() => v.mul(ffnScale)));
    // Gemma norms scale by 1 + w: w = s − 1 scales the normed output by s.
    if (name === 'norm.weight') v.assign(tf.tidy(() => tf.fill(v.shape, logitScale - 1)));
  }
  return model;
}
