import * as tf from '@tensorflow/tfjs';
import type { MatGemmaConfig, MatLMConfig, MatViTConfig } from '../config';
import { MatGemma } from '../models/matgemma';
import { MatLM } from '../models/matlm';
import { MatViT } from '../models/matvit';
import { weightSpecs, type Params } from '../weights';

/**
 * Every weight ~ N(0, std), norm gains included. Parity tests use these instead of the training
 * init (std 0.02): larger weights give peaked attention, curved GELU and logits of order 1,
 * so a 1e-4 tolerance actually constrains the graph.
 */
function noisyParams(
  config: MatLMConfig | MatViTConfig | MatGemmaConfig,
  seed: number,
  std: number,
): Params {
  const params: Params = {};
  Object.entries(weightSpecs(config)).forEach(([name, { shape }], i) => {
    const value = tf.randomNormal(shape, 0, std, 'float32', seed * 1000 + i);
    params[name] = tf.variable(value, true);
    value.dispose();
  });
  return params;
}

export const noisyLM = (config: MatLMConfig, seed = 1, std = 0.5): MatLM =>
  new MatLM(config, noisyParams(config, seed, std));

export const noisyViT = (config: MatViTConfig, seed = 1, std = 0.5): MatViT =>
  new MatViT(config, noisyParams(config, seed, std));

export const noisyGemma = (config: MatGemmaConfig, seed = 1, std = 0.5): MatGemma =>
  new MatGemma(config, noisyParams(config, seed, std));
