import * as tf from '@tensorflow/tfjs';
import type { Widths } from '../../config';
import { ConfigError } from '../../errors';
import { matMul } from '../../layers/matmul';
import { crossEntropy, NestedModel } from '../nested-model';
import { linearWeights, weight, type LinearWeights } from '../typed-weights';
import type { Params } from '../weight-spec';
import { numPatches, type MatViTConfig } from './config';
import { matvit } from './family';

/**
 * MatViT: a ViT encoder whose every FFN is nested. Non-overlapping square patches,
 * a learned class token and positions, bidirectional pre-norm blocks, a linear head.
 */
export class MatViT extends NestedModel<MatViTConfig> {
  private readonly w: {
    /** Patch projection [P·P·Ch, C] + [C]. */
    patchEmb: LinearWeights;
    /** Class token [C], prepended to the patches. */
    clsToken: tf.Tensor1D;
    /** Learned positions [N+1, C] (class token first). */
    posEmb: tf.Tensor2D;
    /** Classifier [C, K] + [K] on the pooled embedding. */
    head: LinearWeights;
  };

  constructor(config: MatViTConfig, params?: Params, seed = 0) {
    super(config, params, seed);
    this.w = {
      patchEmb: linearWeights(this.params, 'patch_emb'),
      clsToken: weight(this.params, 'cls_token', 1),
      posEmb: weight(this.params, 'pos_emb', 2),
      head: linearWeights(this.params, 'head'),
    };
  }

  override get family() {
    return matvit;
  }

  static create(config: MatViTConfig, seed = 0): MatViT {
    return new MatViT(config, undefined, seed);
  }

  /** Images [B, H, W, Ch] → patch vectors [B, N, P·P·Ch], row-major over the patch grid. */
  patchify(images: tf.Tensor4D): tf.Tensor3D {
    const { imageSize: S, patchSize: P, channels: Ch } = this.config;
    const [B, H, W, c] = images.shape;
    if (images.rank !== 4 || H !== S || W !== S || c !== Ch) {
      throw new ConfigError(
        `images must be [batch, ${S}, ${S}, ${Ch}], got [${images.shape.join(', ')}]`,
      );
    }
    const g = S / P;
    return tf.tidy(() =>
      images
        .reshape([B, g, P, g, P, Ch])
        .transpose([0, 1, 3, 2, 4, 5]) // [B, gy, gx, P, P, Ch]
        .reshape([B, g * g, P * P * Ch]),
    );
  }

  /** Pooled representation [B, C] (after the final norm) at the given widths. */
  embed(images: tf.Tensor4D, widths?: number | Widths): tf.Tensor2D {
    const w = this.resolveWidths(widths);
    return tf.tidy(() => {
      const B = images.shape[0];
      const C = this.config.dModel;
      const N = numPatches(this.config);
      const patches = this.patchify(images); // [B, N, PPCh]
      const { patchEmb, clsToken, posEmb } = this.w;
      const x = matMul(patches.reshape([B * N, -1]), patchEmb.weight)
        .add(patchEmb.bias)
        .reshape([B, N, C]); // [B, N, C]
      const cls = clsToken.reshape([1, 1, C]).tile([B, 1, 1]); // [B, 1, C]
      const tokens = tf.concat([cls, x], 1).add(posEmb) as tf.Tensor3D; // [B, N+1, C]
      const { h } = this.trunk(tokens, w, false);
      return (
        this.config.pool === 'cls' ? h.slice([0, 0, 0], [B, 1, C]).reshape([B, C]) : h.mean(1)
      ) as tf.Tensor2D;
    });
  }

  /** Class logits [B, K]. */
  forward(images: tf.Tensor4D, widths?: number | Widths): tf.Tensor2D {
    return tf.tidy(
      () =>
        matMul(this.embed(images, widths), this.w.head.weight).add(this.w.head.bias) as tf.Tensor2D, // [B, K]
    );
  }

  /** Mean cross-entropy of the class logits against integer labels [B]. */
  loss(images: tf.Tensor4D, labels: tf.Tensor1D, widths?: number | Widths): tf.Scalar {
    return tf.tidy(() => crossEntropy(this.forward(images, widths), labels));
  }
}
