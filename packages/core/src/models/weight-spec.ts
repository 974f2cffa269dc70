import * as tf from '@tensorflow/tfjs';
import { storedWidths, type TrunkConfig } from '../config';
import { CheckpointError } from '../errors';

/** Named weights of a model. Names and shapes are the checkpoint format (see README). */
export type Params = Record<string, tf.Variable>;

/** What a weight is for, which decides its initialisation. */
export type Role = 'matrix' | 'residual-out' | 'embedding' | 'bias' | 'norm-gain' | 'norm-offset';

export interface WeightSpec {
  shape: number[];
  role: Role;
  /**
   * For a nested FFN weight: the axis that runs over the layer's hidden width, so width m keeps
   * the first m entries along it (extract, training graphs and slicing read this, never names).
   */
  nested?: 0 | 1;
}

/** Weights of the blocks and the final norm, shared by every family, in checkpoint order. */
export function trunkSpecs(config: TrunkConfig): Record<string, WeightSpec> {
  const C = config.dModel;
  const specs: Record<string, WeightSpec> = {};
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
    specs[`${p}.ffn.fc1.weight`] = { shape: [dFF, C], role: 'matrix', nested: 0 };
    specs[`${p}.ffn.fc1.bias`] = { shape: [dFF], role: 'bias', nested: 0 };
    specs[`${p}.ffn.fc2.weight`] = { shape: [dFF, C], role: 'residual-out', nested: 0 };
    specs[`${p}.ffn.fc2.bias`] = { shape: [C], role: 'bias' };
  });
  specs['ln_f.weight'] = { shape: [C], role: 'norm-gain' };
  specs['ln_f.bias'] = { shape: [C], role: 'bias' };
  return specs;
}

/**
 * GPT-2 style initialisation: N(0, 0.02) weights, residual output projections scaled by
 * 1/sqrt(2L) so the residual stream's variance does not grow with depth; zero biases, unit
 * gains (zero offsets for a norm that scales by 1 + w).
 */
export function initFromSpecs(
  specs: Record<string, WeightSpec>,
  nLayers: number,
  seed = 0,
): Params {
  const params: Params = {};
  const residualStd = 0.02 / Math.sqrt(2 * nLayers);
  Object.entries(specs).forEach(([name, { shape, role }], i) => {
    // Never 0: tfjs treats a falsy seed as "no seed" and draws from Math.random.
    const weightSeed = seed * 100_003 + i + 1;
    const value = tf.tidy(() => {
      switch (role) {
        case 'bias':
        case 'norm-offset':
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

/** Checks that params hold exactly the weights the specs name, with the right shapes. */
export function checkAgainstSpecs(
  specs: Record<string, WeightSpec>,
  params: Record<string, { shape: number[] }>,
  source = 'params',
): void {
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

/** Prefix of a block's weight names: `blocks.<l>.`, shared by every family (extract renumbers by it). */
export const BLOCK_WEIGHT = /^blocks\.(\d+)\.(.+)$/;

/** A nested weight cut to its first `m` entries along its nested axis (a copy; `value` is kept). */
export function slicePrefix(value: tf.Tensor, axis: 0 | 1, m: number): tf.Tensor {
  return tf.tidy(() => {
    const begin = value.shape.map(() => 0);
    const size = [...value.shape];
    size[axis] = m;
    return value.slice(begin, size);
  });
}

/** Elements of a spec list (what a model built from it stores). */
export function specsSize(specs: Record<string, WeightSpec>): number {
  return Object.values(specs).reduce((n, { shape }) => n + shape.reduce((a, b) => a * b, 1), 0);
}
