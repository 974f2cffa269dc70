import * as tf from '@tensorflow/tfjs';
import { CheckpointError, type TensorEntry } from '@matformer/core';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay, applied to matrices only (not biases, norms or 1-D weights). */
  weightDecay?: number;
}

/**
 * AdamW (Loshchilov & Hutter) over named variables, with its moments kept as named tensors
 * so a checkpoint can store them (`optimizer.m.<name>`, `optimizer.v.<name>`).
 * Written here because tf.train.adam has no decoupled weight decay.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Updates applied so far (bias correction uses it). */
  t = 0;
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};

  constructor(
    private readonly params: Record<string, tf.Variable>,
    { beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0.1 }: AdamWOptions = {},
  ) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    for (const [name, p] of Object.entries(params)) {
      this.m[name] = tf.variable(tf.zerosLike(p), false);
      this.v[name] = tf.variable(tf.zerosLike(p), false);
    }
  }

  /** One update with gradients keyed by parameter name, at learning rate lr. */
  step(grads: Record<string, tf.Tensor>, lr: number): void {
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      for (const [name, p] of Object.entries(this.params)) {
        const g = grads[name];
        if (!g) throw new Error(`AdamW.step: no gradient for "${name}"`);
        const m = this.m[name].mul(this.beta1).add(g.mul(1 - this.beta1));
        const v = this.v[name].mul(this.beta2).add(g.square().mul(1 - this.beta2));
        this.m[name].assign(m);
        this.v[name].assign(v);
        let update = m.div(bc1).div(v.div(bc2).sqrt().add(this.eps));
        if (this.weightDecay > 0 && p.rank >= 2) update = update.add(p.mul(this.weightDecay));
        p.assign(p.sub(update.mul(lr)));
      }
    });
  }

  /** Moments as named tensors for a checkpoint (the caller must not dispose them). */
  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const name of Object.keys(this.params)) {
      out[`optimizer.m.${name}`] = this.m[name];
      out[`optimizer.v.${name}`] = this.v[name];
    }
    return out;
  }

  /** Restores moments written by `stateTensors`, checking every one is present and shaped right. */
  loadState(state: Record<string, TensorEntry>, t: number, source: string): void {
    for (const [name, p] of Object.entries(this.params)) {
      for (const [kind, store] of [
        ['m', this.m],
        ['v', this.v],
      ] as const) {
        const e = state[`optimizer.${kind}.${name}`];
        if (!e)
          throw new CheckpointError(`${source} lacks optimizer state "optimizer.${kind}.${name}"`);
        if (e.dtype !== 'F32' || e.shape.join() !== p.shape.join()) {
          throw new CheckpointError(
            `${source}: optimizer state "optimizer.${kind}.${name}" is ${e.dtype} [${e.shape}], expected F32 [${p.shape}]`,
          );
        }
        const value = tf.tensor(e.data as Float32Array, e.shape);
        store[name].assign(value);
        value.dispose();
      }
    }
    this.t = t;
  }

  /** Sets the moments (by parameter name) and step count, e.g. from another engine's optimizer. */
  assignState(m: Record<string, Float32Array>, v: Record<string, Float32Array>, t: number): void {
    for (const [name, p] of Object.entries(this.params)) {
      for (const [src, store] of [
        [m, this.m],
        [v, this.v],
      ] as const) {
        const value = tf.tensor(src[name], p.shape);
        store[name].assign(value);
        value.dispose();
      }
    }
    this.t = t;
  }

  dispose(): void {
    tf.dispose([...Object.values(this.m), ...Object.values(this.v)]);
  }
}
