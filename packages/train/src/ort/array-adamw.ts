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
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.reference;
    this.t++;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    for (const [name, p] of Object.entries(params)) {
      const g = grads[name];
      const m = this.m[name];
      const v = this.v[name];
      const decay = weightDecay > 0 && this.ranks[name] >= 2 ? weightDecay : 0;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] * scale;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        const update = m[i] / bc1 / (Math.sqrt(v[i] / bc2) + eps) + decay * p[i];
        p[i] -= lr * update;
      }
    }
  }

  /** Writes moments and step count back into the tfjs AdamW (for its checkpoint). */
  copyTo(target: AdamW): void {
    target.assignState(this.m, this.v, this.t);
  }
}

/** Global L2 norm of all gradients (accumulated in float64). */
export function globalNorm(grads: Record<string, Float32Array>): number {
  let sum = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return Math.sqrt(sum);
}
