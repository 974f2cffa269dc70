import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matlmConfig } from '../config';
import { MatLM } from '../models/matlm';
import { tensorGrowth } from '../memory';
import { useBackend } from '../test-backends';
import { TfjsLMEngine } from './tfjs-engine';

describe('TfjsLMEngine', () => {
  let model: MatLM;
  beforeAll(async () => {
    await useBackend('wasm');
    model = MatLM.create(matlmConfig('tiny'), 1);
  });
  afterAll(() => model.dispose());

  it('prefill + steps equal one forward, and truncation rolls back exactly', async () => {
    const engine = new TfjsLMEngine(model, [8, 32]);
    const tokens = [3, 1, 4, 1, 5, 9, 2, 6];
    const full = tf.tidy(
      () =>
        model
          .forward(tf.tensor2d([tokens], undefined, 'int32'), [8, 32])
          .dataSync() as Float32Array,
    );
    const a = await engine.forward(tokens.slice(0, 5));
    const b = await engine.forward(tokens.slice(5), a.state);
    const joined = new Float32Array([...a.logits, ...b.logits]);
    expect(Math.max(...joined.map((x, i) => Math.abs(x - full[i])))).toBeLessThan(1e-5);
    expect(engine.length(b.state)).toBe(8);
    const cut = engine.truncate(b.state, 5);
    const again = await engine.forward(tokens.slice(5), cut);
    expect(Math.max(...again.logits.map((x, i) => Math.abs(x - b.logits[i])))).toBeLessThan(1e-6);
    [a.state, b.state, cut, again.state].forEach((s) => engine.release(s));
  });

  it('kept weight views follow the weights: after an update the engine sees the new ones', async () => {
    const m = MatLM.create(matlmConfig('tiny'), 3);
    const engine = new TfjsLMEngine(m, [16, 64]);
    const logitsOf = async () => {
      const out = await engine.forward([1, 2, 3]);
      engine.release(out.state);
      return out.logits;
    };
    const reference = () =>
      tf.tidy(
        () =>
          m
            .forward(tf.tensor2d([[1, 2, 3]], undefined, 'int32'), [16, 64])
            .dataSync() as Float32Array,
      );
    const maxDiff = (a: Float32Array, b: Float32Array) =>
      Math.max(...a.map((x, i) => Math.abs(x - b[i])));
    expect(maxDiff(await logitsOf(), reference())).toBeLessThan(1e-5);
    const fc1 = m.params['blocks.0.ffn.fc1.weight'];
    fc1.assign(tf.tidy(() => fc1.mul(3)));
    m.params['tok_emb'].assign(tf.tidy(() => m.params['tok_emb'].mul(2)));
    expect(maxDiff(await logitsOf(), reference())).toBeLessThan(1e-4);
    engine.dispose();
    m.dispose();
  });

  it('leaks no tensors across steps', async () => {
    const engine = new TfjsLMEngine(model);
    const growth = await tensorGrowth(async () => {
      const a = await engine.forward([1, 2, 3]);
      const b = await engine.forward([4], a.state);
      const c = engine.truncate(b.state, 2);
      [a.state, b.state, c].forEach((s) => engine.release(s));
    });
    expect(growth).toEqual([0, 0, 0, 0, 0]);
  });
});
