import * as tf from '@tensorflow/tfjs';

/**
 * Scales gradients so their global L2 norm is at most maxNorm. Returns new tensors (the
 * caller disposes the inputs) and the norm before clipping.
 */
export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: number } {
  const normT = tf.tidy(() => tf.addN(Object.values(grads).map((g) => g.square().sum())).sqrt());
  const norm = normT.dataSync()[0];
  normT.dispose();
  const scale = Number.isFinite(norm) && norm > maxNorm ? maxNorm / norm : 1;
  const out: Record<string, tf.Tensor> = {};
  for (const [name, g] of Object.entries(grads))
    out[name] = scale === 1 ? g.clone() : tf.tidy(() => g.mul(scale));
  return { grads: out, norm };
}
