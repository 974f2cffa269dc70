import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff, testBackends, useBackend } from '../test-backends';
import { nestedFFN, type FFNWeights } from './nested-ffn';

describe.each(testBackends)('nestedFFN on %s', (backend) => {
  const C = 8;
  const dFF = 32;
  let w: FFNWeights;
  let x: tf.Tensor2D;
  beforeAll(async () => {
    await useBackend(backend);
    w = {
      fc1: tf.randomNormal([dFF, C], 0, 1, 'float32', 1) as tf.Tensor2D,
      b1: tf.randomNormal([dFF], 0, 1, 'float32', 2) as tf.Tensor1D,
      fc2: tf.randomNormal([dFF, C], 0, 1, 'float32', 3) as tf.Tensor2D,
      b2: tf.randomNormal([C], 0, 1, 'float32', 4) as tf.Tensor1D,
    };
    x = tf.randomNormal([5, C], 0, 1, 'float32', 5) as tf.Tensor2D;
  });
  afterAll(() => tf.dispose([w.fc1, w.b1, w.fc2, w.b2, x]));

  /** Weights with hidden neuron `n` (fc1 row, bias, fc2 row) replaced by large noise. */
  function perturbNeuron(n: number): FFNWeights {
    return tf.tidy(() => {
      const rowMask = tf.oneHot([n], dFF).reshape([dFF, 1]); // [dFF, 1]
      const bump = (t: tf.Tensor2D) =>
        t.add(rowMask.mul(tf.randomNormal(t.shape, 0, 10, 'float32', 9))) as tf.Tensor2D;
      return {
        fc1: bump(w.fc1),
        b1: w.b1.add(rowMask.reshape([dFF]).mul(7)) as tf.Tensor1D,
        fc2: bump(w.fc2),
        b2: w.b2.clone(),
      };
    });
  }

  it.each([8, 16])('the width-%i output depends only on the first m neurons', (m) => {
    const perturbed = perturbNeuron(m); // neuron m is the (m+1)-th: just outside width m
    const base = nestedFFN(x, w, m);
    const after = nestedFFN(x, perturbed, m);
    expect(maxAbsDiff(base, after)).toBe(0);
    // ...while every wider granularity sees the change.
    const wide = nestedFFN(x, w, 2 * m);
    const wideAfter = nestedFFN(x, perturbed, 2 * m);
    expect(maxAbsDiff(wide, wideAfter)).toBeGreaterThan(1e-3);
    tf.dispose([
      perturbed.fc1,
      perturbed.b1,
      perturbed.fc2,
      perturbed.b2,
      base,
      after,
      wide,
      wideAfter,
    ]);
  });

  it('width m equals a dense FFN built from copies of the first m rows', () => {
    const m = 16;
    const dense: FFNWeights = tf.tidy(() => ({
      fc1: tf.tensor2d(w.fc1.arraySync().slice(0, m)),
      b1: tf.tensor1d(w.b1.arraySync().slice(0, m)),
      fc2: tf.tensor2d(w.fc2.arraySync().slice(0, m)),
      b2: w.b2.clone(),
    }));
    const a = nestedFFN(x, w, m);
    const b = nestedFFN(x, dense, m);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
    tf.dispose([a, b, dense.fc1, dense.b1, dense.fc2, dense.b2]);
  });
});
