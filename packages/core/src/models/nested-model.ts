import * as tf from '@tensorflow/tfjs';
import { resolveWidths, SKIP, validateConfig, type ModelConfig, type Widths } from '../config';
import { block } from '../layers/block';
import type { InferenceCache } from '../layers/inference-cache';
import type { LayerKV } from '../layers/attention';
import { layerNorm } from '../layers/layer-norm';
import { checkParams, countStoredParams, initParams, type Params } from '../weights';

/** What every MatFormer model shares: a config, named weights, and the stack of nested blocks. */
export abstract class NestedModel<C extends ModelConfig = ModelConfig> {
  readonly config: C;
  readonly params: Params;

  /** Wraps existing weights (checked against the config); use `create` for fresh ones. */
  constructor(config: C, params?: Params, seed = 0) {
    this.config = validateConfig(config);
    this.params = params ?? initParams(config, seed);
    checkParams(config, this.params);
  }

  /** Every trainable weight, in the stable checkpoint order. */
  get variables(): tf.Variable[] {
    return Object.values(this.params);
  }

  /** Number of stored weights (elements), whatever widths are used at run time. */
  get storedParamCount(): number {
    return countStoredParams(this.params);
  }

  /** One validated width per layer; see `resolveWidths`. */
  resolveWidths(widths?: number | Widths): Widths {
    return resolveWidths(this.config, widths);
  }

  /**
   * Runs every block at its width, then the final norm. A layer at width 0 (`SKIP`) is the
   * identity: x passes through, and its cache entry holds no positions ([B, H, 0, hd]) so the
   * layer list stays aligned with the model's layers.
   */
  protected trunk(
    x: tf.Tensor3D, // [B, T, C]
    widths: Widths,
    causal: boolean,
    past?: LayerKV[],
    cache?: InferenceCache,
  ): { h: tf.Tensor3D; kv: LayerKV[] } {
    return tf.tidy(() => {
      const kv: LayerKV[] = [];
      const [B] = x.shape;
      const H = this.config.nHeads;
      const hd = this.config.dModel / H;
      for (let l = 0; l < this.config.nLayers; l++) {
        if (widths[l] === SKIP) {
          const empty = tf.zeros([B, H, 0, hd]) as tf.Tensor4D; // [B, H, 0, hd]
          kv.push({ k: empty, v: empty.clone() });
          continue;
        }
        const out = block(x, this.params, l, {
          nHeads: this.config.nHeads,
          normEps: this.config.normEps,
          causal,
          width: widths[l],
          past: past?.[l],
          cache,
        });
        x = out.y;
        kv.push(out.kv);
      }
      const h = layerNorm(
        x,
        this.params['ln_f.weight'] as tf.Tensor1D,
        this.params['ln_f.bias'] as tf.Tensor1D,
        this.config.normEps,
      );
      return { h: h as tf.Tensor3D, kv };
    });
  }

  /** Frees every weight. The model is unusable afterwards. */
  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
  }
}

/** Mean cross-entropy of logits [N, K] against integer targets [N]. */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits); // [N, K]
    const picked = logp.mul(tf.oneHot(targets.toInt(), logits.shape[1])).sum(1); // [N]
    return picked.mean().neg() as tf.Scalar;
  });
}
