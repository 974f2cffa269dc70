import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matlmConfig } from '../config';
import { testBackends, useBackend } from '../test-backends';
import { MatLM } from './matlm';

/**
 * Autodiff gradients of a tiny MatLM's loss against central finite differences, at a
 * Mix'n'Match config. For every weight tensor we check its largest-gradient element and a
 * fixed pseudo-random one; unused FFN neurons must get exactly zero gradient.
 */
describe.each(testBackends)('MatLM gradients on %s', (backend) => {
  let model: MatLM;
  let tokens: tf.Tensor2D;
  let targets: tf.Tensor2D;
  const widths = [16, 64];
  beforeAll(async () => {
    await useBackend(backend);
    // Larger-than-default init so gradients stand well above float32 rounding in the loss.
    model = MatLM.create(matlmConfig('tiny', { maxSeqLen: 8 }), 7);
    for (const v of model.variables) if (v.rank > 1) v.assign(tf.tidy(() => v.mul(10)));
    tokens = tf.tensor2d([[3, 1, 4, 1, 5, 9, 2, 6]], undefined, 'int32');
    targets = tf.tensor2d([[1, 4, 1, 5, 9, 2, 6, 5]], undefined, 'int32');
  });
  afterAll(() => {
    model.dispose();
    tf.dispose([tokens, targets]);
  });

  const lossValue = () => tf.tidy(() => model.loss(tokens, targets, widths).dataSync()[0]);

  it('match central finite differences', () => {
    const { grads, value } = tf.variableGrads(() => model.loss(tokens, targets, widths));
    value.dispose();
    const eps = 1e-2;
    let checked = 0;
    for (const [name, v] of Object.entries(model.params)) {
      const g = grads[v.name].dataSync() as Float32Array;
      const data = (v.dataSync() as Float32Array).slice();
      const argmax = g.reduce((best, x, i) => (Math.abs(x) > Math.abs(g[best]) ? i : best), 0);
      for (const i of new Set([argmax, (name.length * 7919) % data.length])) {
        const at = (x: number) => {
          const copy = data.slice();
          copy[i] = x;
          v.assign(tf.tensor(copy, v.shape));
          return lossValue();
        };
        const numeric = (at(data[i] + eps) - at(data[i] - eps)) / (2 * eps);
        v.assign(tf.tensor(data, v.shape));
        expect(
          Math.abs(numeric - g[i]),
          `${name}[${i}]: autodiff ${g[i]}, numeric ${numeric}`,
        ).toBeLessThan(2e-3 + 0.03 * Math.abs(g[i]));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
    // Layer 0 runs at width 16: neurons 16.. of its FFN get no gradient at all.
    const fc1 = grads[model.params['blocks.0.ffn.fc1.weight'].name] as tf.Tensor2D;
    expect(tf.tidy(() => fc1.slice([16, 0], [48, 16]).abs().max().dataSync()[0])).toBe(0);
    expect(tf.tidy(() => fc1.slice([0, 0], [16, 16]).abs().max().dataSync()[0])).toBeGreaterThan(0);
    tf.dispose(Object.values(grads));
  });
});
