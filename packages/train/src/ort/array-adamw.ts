import type { AdamW } from '../adamw';

/**
 * AdamW on Float32Arrays, the same update as the tfjs AdamW (decoupled decay on matrices only,
 * bias-corrected moments), applied in place to the onnxruntime engine's parameter buffers.
 */
export class ArrayAdamW {
  readonly m: Record<string, Float32Array> = {};
  readonly v: Record<string, Float32Array> = {};
  t: number;

  /** Starts from a tfjs AdamW's hyper-parameters, moments and step count (fresh or resumed). */
  constructor(
    private readonly reference: AdamW,
    private readonly ranks: Record<string, number>,
  ) {
    const state = reference.stateTensors();
    for (const name of Object.keys(ranks)) {
      this.m[name] = Float32Array.from(state[`optimizer.m.${name}`].dataSync());
      this.v[name] = Float32Array.from(state[`optimizer.v.${name}`].dataSync());
    }
    this.t = reference.t;
  }

  /** One update of `params` in place with gradients × `scale` (the clip factor), at rate lr. */
  step(
    params: Record<string, Float32Array>,
    grads: Record<string, Float32Array>,
    lr: number,
    scale = 1,
  ): void {
    const args = this.nextStep(lr, scale);
    for (const [name, p] of Object.entries(params))
      adamwUpdate(p, grads[name], this.m[name], this.v[name], args, this.decayOf(name));
  }

  /** Advances the step count and returns the update's scalars for step t. */
  nextStep(lr: number, scale: number): UpdateArgs {
    const { beta1, beta2, eps } = this.reference;
    this.t++;
    return { beta1, beta2, eps, lr, scale, bc1: 1 - beta1 ** this.t, bc2: 1 - beta2 ** this.t };
  }

  /** Decoupled weight decay of a parameter: matrices only. */
  decayOf(name: string): number {
    const wd = this.reference.weightDecay;
    return wd > 0 && this.ranks[name] >= 2 ? wd : 0;
  }

  /** Clips the gradients to global norm `clip` (0 = off), updates `params` at rate lr; returns the norm. */
  clipAndStep(
    params: Record<string, Float32Array>,
    grads: Record<string, Float32Array>,
    lr: number,
    clip: number,
  ): number {
    const norm = globalNorm(grads);
    this.step(params, grads, lr, clipScale(norm, clip));
    return norm;
  }

  /** Writes moments and step count back into the tfjs AdamW (for its checkpoint). */
  copyTo(target: AdamW): void {
    target.assignState(this.m, this.v, this.t);
  }
}

/** The scalars of one AdamW update (bc1, bc2: the bias corrections 1 − β^t). */
export interface UpdateArgs {
  beta1: number;
  beta2: number;
  eps: number;
  lr: number;
  /** Gradient scale (the clip factor). */
  scale: number;
  bc1: number;
  bc2: number;
}

/**
 * AdamW on one parameter in place, in float64 arithmetic: the one loop every thread runs, so a
 * split update equals the whole one bit for bit.
 */
export function adamwUpdate(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  a: UpdateArgs,
  decay: number,
): void {
  const { beta1: b1, beta2: b2, eps, lr, scale, bc1, bc2 } = a;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * scale;
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    const update = m[i] / bc1 / (Math.sqrt(v[i] / bc2) + eps) + decay * p[i];
    p[i] -= lr * update;
  }
}

/** Σ g² over one array, accumulated in float64 onto `sum`. */
export function addSquares(g: Float32Array, sum = 0): number {
  for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return sum;
}

/** The factor that clips gradients of global norm `norm` to `clip` (0 = off; a non-finite norm is left alone). */
export function clipScale(norm: number, clip: number): number {
  return clip > 0 && Number.isFinite(norm) && norm > clip ? clip / norm : 1;
}

/** Global L2 norm of all gradients (accumulated in float64). */
export function globalNorm(grads: Record<string, Float32Array>): number {
  let sum = 0;
  for (const g of Object.values(grads)) sum = addSquares(g, sum);
  return Math.sqrt(sum);
}
