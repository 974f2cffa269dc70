import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@matformer/core';
import { AdamW } from '../adamw';
import { ArrayAdamW } from '../ort/array-adamw';
import { TwoThreadAdamW } from './two-thread-adamw';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const shapes: Record<string, number[]> = {
  emb: [64, 16],
  'blocks.0.w': [16, 48],
  'blocks.0.b': [48],
  'blocks.1.w': [48, 16],
  'norm.weight': [16],
};

function setup() {
  const vars = Object.fromEntries(
    Object.entries(shapes).map(([n, s], i) => [
      n,
      tf.variable(tf.randomNormal(s, 0, 1, 'float32', i + 1)),
    ]),
  );
  const ranks = Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, s.length]));
  const params = () =>
    Object.fromEntries(Object.entries(vars).map(([n, v]) => [n, Float32Array.from(v.dataSync())]));
  return { vars, ranks, params };
}

describe('TwoThreadAdamW', () => {
  it('updates weights and moments exactly as ArrayAdamW does (clipped steps and not), and checkpoints them', async () => {
    const { vars, ranks, params } = setup();
    const ref = new AdamW(vars, { weightDecay: 0.1 });
    const one = new ArrayAdamW(ref, ranks);
    const pOne = params();
    const pTwo = params();
    const two = TwoThreadAdamW.start(ref, ranks, pTwo);
    const rng = new Rng(4);
    try {
      for (let step = 0; step < 10; step++) {
        const grads = Object.fromEntries(
          Object.entries(pOne).map(([n, p]) => [
            n,
            Float32Array.from(p, () => rng.normal() * (step % 3 ? 1 : 30)),
          ]),
        );
        const clip = 5; // the large steps (× 30) get clipped
        const lr = 1e-2 * (1 + step);
        const nOne = one.clipAndStep(pOne, grads, lr, clip);
        const nTwo = two.clipAndStep(pTwo, grads, lr, clip);
        expect(Math.abs(nTwo - nOne) / nOne).toBeLessThan(1e-12);
        for (const n of Object.keys(pOne))
          expect(pTwo[n], `${n}, step ${step + 1}`).toEqual(pOne[n]);
      }
      for (const n of Object.keys(pOne)) {
        expect(two.inner.m[n]).toEqual(one.m[n]);
        expect(two.inner.v[n]).toEqual(one.v[n]);
      }
      // The checkpointed moments are the shared ones the worker wrote.
      const target = new AdamW(vars, { weightDecay: 0.1 });
      two.copyTo(target);
      const state = target.stateTensors();
      expect(Float32Array.from(state['optimizer.m.norm.weight'].dataSync())).toEqual(
        one.m['norm.weight'],
      );
      expect(target.t).toBe(10);
      target.dispose();
    } finally {
      await two.close();
      ref.dispose();
      tf.dispose(Object.values(vars));
    }
  });
});
