import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff, testBackends, useBackend } from '../test-backends';
import { matMul, matMulT } from './matmul';

describe.each(testBackends)('matMul on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('value and gradients equal tf.matMul', () => {
    const a = tf.randomNormal([7, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const b = tf.randomNormal([5, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
    const w = tf.randomNormal([3, 5], 0, 1, 'float32', 3) as tf.Tensor2D;
    const loss =
      (f: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) =>
        f(x as tf.Tensor2D, y as tf.Tensor2D)
          .square()
          .sum();
    const ours = tf.grads(loss(matMul))([a, b]);
    const ref = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
    ours.forEach((g, i) => expect(maxAbsDiff(g, ref[i])).toBeLessThan(1e-4));
    expect(maxAbsDiff(matMul(a, b), tf.matMul(a, b))).toBeLessThan(1e-5);
    const oursT = tf.grads(loss(matMulT))([a, w]);
    const refT = tf.grads(loss((x, y) => tf.matMul(x, y, false, true)))([a, w]);
    oursT.forEach((g, i) => expect(maxAbsDiff(g, refT[i])).toBeLessThan(1e-4));
  });
});
