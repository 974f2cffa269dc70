import * as tf from '@tensorflow/tfjs';
import { numPatches, storedWidths, type ModelConfig } from './config';
import { CheckpointError } from './errors';

/** Named weights of a model. Names and shapes are the checkpoint format (see README). */
export type Params = Record<string, tf.Variable>;

/** What a weight is for, which decides its initialisation. */
type Role = 'matrix' | 'residual-out' | 'embedding' | 'bias' | 'norm-gain';

interface WeightSpec {
  shape: number[];
  role: Role;
}

/**
 * Every weight of a model, name → shape, in a stable order. Linear weights are [in, out]
 * except the FFN's, which put the nested hidden dimension first (fc1 [dFF, C], fc2 [dFF, C])
 * so that every granularity is a contiguous prefix of the stored buffer.
 */
export function weightSpecs(config: ModelConfig): Record<string, WeightSpec> {
  const C = config.dModel;
  const specs: Record<string, WeightSpec> = {};
  if (config.arch === 'matlm') {
    specs['tok_emb'] = { shape: [config.vocabSize, C], role: 'embedding' };
    specs['pos_emb'] = { shape: [config.maxSeqLen, C], role: 'embedding' };
  } else {
    const patchDim = config.patchSize * config.patchSize * config.channels;
    specs['patch_emb.weight'] = { shape: [patchDim, C], role: 'matrix' };
    specs['patch_emb.bias'] = { shape: [C], role: 'bias' };
    specs['cls_token'] = { shape: [C], role: 'embedding' };
    specs['pos_emb'] = { shape: [numPatches(config) + 1, C], role: 'embedding' };
  }
  storedWidths(config).forEach((dFF, l) => {
    const p = `blocks.${l}`;
    specs[`${p}.ln1.weight`] = { shape: [C], role: 'norm-gain' };
    specs[`${p}.ln1.bias`] = { shape: [C], role: 'bias' };
    specs[`${p}.attn.qkv.weight`] = { shape: [C, 3 * C], role: 'matrix' };
    specs[`${p}.attn.qkv.bias`] = { shape: [3 * C], role: 'bias' };
    specs[`${p}.attn.out.weight`] = { shape: [C, C], role: 'residual-out' };
    specs[`${p}.attn.out.bias`] = { shape: [C], role: 'bias' };
    specs[`${p}.ln2.weight`] = { shape: [C], role: 'norm-gain' };
    specs[`${p}.ln2.bias`] = { shape: [C], role: 'bias' };
    specs[`${p}.ffn.fc1.weight`] = { shape: [dFF, C], role: 'matrix' };
    specs[`${p}.ffn.fc1.bias`] = { shape: [dFF], role: 'bias' };
    specs[`${p}.ffn.fc2.weight`] = { shape: [dFF, C], role: 'residual-out' };
    specs[`${p}.ffn.fc2.bias`] = { shape: [C], role: 'bias' };
  });
  specs['ln_f.weight'] = { shape: [C], role: 'norm-gain' };
  specs['ln_f.bias'] = { shape: [C], role: 'bias' };
  if (config.arch === 'matvit') {
    specs['head.weight'] = { shape: [C, config.numClasses], role: 'matrix' };
    specs['head.bias'] = { shape: [config.numClasses], role: 'bias' };
  }
  return specs;
}

/**
 * GPT-2 style initialisation: N(0, 0.02) weights, residual output projections scaled by
 * 1/sqrt(2L) so the residual stream's variance does not grow with depth; zero biases, unit gains.
 */
export function initParams(config: ModelConfig, seed = 0): Params {
  const params: Params = {};
  const residualStd = 0.02 / Math.sqrt(2 * config.nLayers);
  Object.entries(weightSpecs(config)).forEach(([name, { shape, role }], i) => {
    // Never 0: tfjs treats a falsy seed as "no seed" and draws from Math.random.
    const weightSeed = seed * 100_003 + i + 1;
    const value = tf.tidy(() => {
      switch (role) {
        case 'bias':
          return tf.zeros(shape);
        case 'norm-gain':
          return tf.ones(shape);
        case 'residual-out':
          return tf.randomNormal(shape, 0, residualStd, 'float32', weightSeed);
        default:
          return tf.randomNormal(shape, 0, 0.02, 'float32', weightSeed);
      }
    });
    params[name] = tf.variable(value, true, undefined);
    value.dispose();
  });
  return params;
}

/** Checks that params hold exactly the weights the config needs, with the right shapes. */
export function checkParams(
  config: ModelConfig,
  params: Record<string, { shape: number[] }>,
  source = 'params',
): void {
  const specs = weightSpecs(config);
  const missing = Object.keys(specs).filter((n) => !(n in params));
  if (missing.length)
    throw new CheckpointError(
      `${source} lacks weights the config needs: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (+${missing.length - 5} more)` : ''}`,
    );
  const extra = Object.keys(params).filter((n) => !(n in specs));
  if (extra.length)
    throw new CheckpointError(
      `${source} has weights the config does not describe: ${extra.slice(0, 5).join(', ')}`,
    );
  for (const [name, { shape }] of Object.entries(specs)) {
    const got = params[name].shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(
        `${source}: weight "${name}" has shape [${got.join(', ')}], the config needs [${shape.join(', ')}]`,
      );
    }
  }
}

/** Total number of stored weights (every element of every tensor). */
export function countStoredParams(params: Record<string, { size: number }>): number {
  return Object.values(params).reduce((n, t) => n + t.size, 0);
}
