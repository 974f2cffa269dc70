import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../io/checkpoint';
import { modelOf } from '../registry';
import { testBackends, useBackend } from '../../test-backends';

// Golden values written once by tools/golden/matgemma-reference.mjs: an independent float64
// implementation of the README's description of MatGemma, reading the same checkpoints (a
// Gemma-style one: GELU-tanh, RMSNorm offset, embedding scale, tied head, headDim ≠ C/H; and a
// Llama-style one: SiLU, plain RMSNorm scale, untied head, logit soft-cap, one kv head).
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const golden = JSON.parse(readFileSync(fixture('golden.json'), 'utf8')) as {
  tokens: number[];
  targets: number[];
  models: Record<
    string,
    { checkpoint: string; cases: { widths: number[]; logits: number[][]; loss: number }[] }
  >;
};

describe.each(testBackends)('MatGemma against the reference implementation on %s', (backend) => {
  it.each(Object.keys(golden.models))(
    'the fixed %s checkpoint gives the reference logits and losses at full, uniform, mixed and skipped widths',
    async (name) => {
      await useBackend(backend);
      const { checkpoint, cases } = golden.models[name];
      const model = modelOf(await loadModel(fixture(checkpoint)), 'matgemma');
      const T = golden.tokens.length;
      const x = tf.tensor2d(golden.tokens, [1, T], 'int32');
      const y = tf.tensor2d(golden.targets, [1, T], 'int32');
      for (const c of cases) {
        const logits = model.forward(x, c.widths);
        const got = (await logits.array())[0];
        const worst = Math.max(
          ...got.flatMap((row, t) => row.map((v, k) => Math.abs(v - c.logits[t][k]))),
        );
        expect(worst, `${name} widths [${c.widths}]: largest logit difference`).toBeLessThan(2e-5);
        const loss = model.loss(x, y, c.widths);
        expect(
          Math.abs(loss.dataSync()[0] - c.loss),
          `${name} widths [${c.widths}]: loss`,
        ).toBeLessThan(1e-5);
        tf.dispose([logits, loss]);
      }
      tf.dispose([x, y]);
      model.dispose();
    },
  );
});
