import * as tf from '@tensorflow/tfjs';
import { resolveWidths, SKIP, type Widths } from '../config';
import { block } from '../layers/block';
import type { InferenceCache } from '../layers/inference-cache';
import type { LayerKV } from '../layers/attention';
import { layerNorm } from '../layers/layer-norm';
import { familySpecs, validateWith, type FamilyConfig, type ModelFamily } from './family';
import { trunkWeights, type TrunkWeights } from './typed-weights';
import { checkAgainstSpecs, countStoredParams, initFromSpecs, type Params } from './weight-spec';

/**
 * What every MatFormer model shares: a config, named weights, and the stack of nested blocks.
 * A family's model class extends it, names its family, and adds its inputs and head.
 */
export abstract class NestedModel<C extends FamilyConfig = FamilyConfig> {
  readonly config: C;
  /** Every weight by checkpoint name, in checkpoint order (what optimizers and files see). */
  readonly params: Params;
  /** Typed views of the GPT-2 trunk's weights (the same variables as `params`), made on first use. */
  private gpt2Trunk?: TrunkWeights;

  /**
   * The family this model belongs to. Each model class overrides this getter; being on the
   * prototype, it answers during construction too.
   */
  get family(): ModelFamily<C, NestedModel<C>> {
    throw new Error(`internal: ${this.constructor.name} does not name its model family`);
  }

  /** Wraps existing weights (checked against the config); use `create` for fresh ones. */
  constructor(config: C, params?: Params, seed = 0) {
    this.config = validateWith(this.family, config);
    const specs = familySpecs(this.family, config);
    this.params = params ?? initFromSpecs(specs, config.nLayers, seed);
    checkAgainstSpecs(specs, this.params);
  }

  /** The blocks' and final norm's weights as the GPT-2 trunk names them (MatLM, MatViT). */
  protected get trunkWeights(): TrunkWeights {
    this.gpt2Trunk ??= trunkWeights(this.params, this.config.nLayers);
    return this.gpt2Trunk;
  }

  /** The model's output for a batch of inputs at the given widths (logits). */
  abstract forward(input: tf.Tensor, widths?: number | Widths): tf.Tensor;

  /** Mean training loss of a batch of inputs against its targets at the given widths. */
  abstract loss(input: tf.Tensor, target: tf.Tensor, widths?: number | Widths): tf.Scalar;

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
      const { nHeads, normEps, dModel } = this.config;
      const hd = dModel / nHeads;
      this.trunkWeights.blocks.forEach((w, l) => {
        if (widths[l] === SKIP) {
          const empty = tf.zeros([B, nHeads, 0, hd]) as tf.Tensor4D; // [B, H, 0, hd]
          kv.push({ k: empty, v: empty.clone() });
          return;
        }
        const width = widths[l];
        const out = block(x, w, {
          nHeads,
          normEps,
          causal,
          width,
          past: past?.[l],
          cache,
          cacheKey: `blocks.${l}.ffn`,
        });
        x = out.y; // [B, T, C]
        kv.push(out.kv);
      });
      const { lnF } = this.trunkWeights;
      const h = layerNorm(x, lnF.weight, lnF.bias, normEps) as tf.Tensor3D; // [B, T, C]
      return { h, kv };
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
