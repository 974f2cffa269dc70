import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matgemmaConfig, matlmConfig } from '../config';
import { testBackends, useBackend } from '../test-backends';
import { MatGemma } from './matgemma';
import { MatLM } from './matlm';
import type { LanguageModel } from './registry';

/** Each family's tiny model and its first layer's nested FFN weights: name → hidden-unit axis. */
const families: [string, () => LanguageModel, Record<string, 0 | 1>][] = [
  [
    'MatLM',
    () => MatLM.create(matlmConfig('tiny', { maxSeqLen: 8 }), 7),
    { 'blocks.0.ffn.fc1.weight': 0, 'blocks.0.ffn.fc2.weight': 0 },
  ],
  [
    'MatGemma (untied, soft-capped)',
    () =>
      MatGemma.create(
        matgemmaConfig('tiny', { maxSeqLen: 8, tiedEmbeddings: false, finalSoftcap: 5 }),
        7,
      ),
    { 'blocks.0.ffn.gate.weight': 0, 'blocks.0.ffn.up.weight': 0, 'blocks.0.ffn.down.weight': 1 },
  ],
];
const cases = families.flatMap(([name, make, nested]) =>
  testBackends.map((backend) => [name, backend, make, nested] as const),
);

/**
 * Autodiff gradients of a tiny model's loss against central finite differences, at a
 * Mix'n'Match config. For every weight tensor we check its largest-gradient element and a
 * fixed pseudo-random one; unused FFN neurons must get exactly zero gradient.
 */
describe.each(cases)('%s gradients on %s', (_, backend, make, nested) => {
  let model: LanguageModel;
  let tokens: tf.Tensor2D;
  let targets: tf.Tensor2D;
  const widths = [16, 64];
  beforeAll(async () => {
    await useBackend(backend);
    // Larger-than-default init so gradients stand well above float32 rounding in the loss.
    model = make();
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
    // Layer 0 runs at width 16: hidden units 16.. of its FFN get no gradient at all.
    for (const [name, axis] of Object.entries(nested)) {
      const g = grads[model.params[name].name];
      const part = (from: number, n: number) =>
        tf.tidy(() => {
          const begin = axis === 0 ? [from, 0] : [0, from];
          const size = axis === 0 ? [n, -1] : [-1, n];
          return g.slice(begin, size).abs().max().dataSync()[0];
        });
      expect(part(16, 48), `${name}: unused units`).toBe(0);
      expect(part(0, 16), `${name}: used units`).toBeGreaterThan(0);
    }
    tf.dispose(Object.values(grads));
  });
});
