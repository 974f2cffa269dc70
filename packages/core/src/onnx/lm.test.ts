import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matlmConfig, type Widths } from '../config';
import { TfjsLMEngine } from '../decoding/tfjs-engine';
import { extract } from '../extract';
import { tensorGrowth } from '../memory';
import type { MatLM } from '../models/matlm';
import { useBackend } from '../test-backends';
import { noisyLM } from './test-models';
import { exportOnnx, toOnnx, type Opset } from './export';
import { OnnxLMEngine } from './lm-engine';

const maxDiff = (a: Float32Array, b: Float32Array): number => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
};
const argmax = (row: Float32Array): number =>
  row.reduce((best, x, i) => (x > row[best] ? i : best), 0);
const lastRow = (logits: Float32Array, V: number) => logits.subarray(logits.length - V);

describe('MatLM ONNX export + OnnxLMEngine', () => {
  // maxSeqLen 32 leaves room for a 6-token prefill and 20 cached steps.
  const config = matlmConfig('tiny', { maxSeqLen: 32 });
  const V = config.vocabSize;
  const prompt = [3, 1, 4, 1, 5, 9];
  let model: MatLM;
  let dir: string;
  beforeAll(async () => {
    await useBackend('wasm');
    model = noisyLM(config, 7);
    dir = await mkdtemp(join(tmpdir(), 'matformer-onnx-'));
  });
  afterAll(async () => {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, Widths, Opset][] = [
    ['uniform 16', [16, 16], 17],
    ['mixed [8, 64]', [8, 64], 17],
    ['mixed [32, 16], opset 20', [32, 16], 20],
    ['elastic depth [0, 32] (layer 0 skipped)', [0, 32], 17],
  ];
  it.each(cases)(
    '%s: prefill and 20 cached steps match tfjs (< 1e-4)',
    async (_, widths, opset) => {
      const dense = extract(model, widths);
      const ref = new TfjsLMEngine(dense);
      const ort = await OnnxLMEngine.fromBytes(toOnnx(dense, { opset }).bytes);
      expect(ort.widths).toEqual(widths.filter((m) => m > 0)); // skipped layers are not in the graph

      let a = await ref.forward(prompt);
      let b = await ort.forward(prompt);
      expect(maxDiff(b.logits, a.logits)).toBeLessThan(1e-4);
      for (let step = 0; step < 20; step++) {
        const next = argmax(lastRow(a.logits, V));
        const [a2, b2] = [await ref.forward([next], a.state), await ort.forward([next], b.state)];
        expect(maxDiff(b2.logits, a2.logits)).toBeLessThan(1e-4);
        ref.release(a.state);
        ort.release(b.state);
        [a, b] = [a2, b2];
      }
      expect(ort.length(b.state)).toBe(prompt.length + 20);
      ref.release(a.state);
      ort.release(b.state);
      ort.dispose();
      ref.dispose(); // frees the weight views it kept
      dense.dispose();
    },
  );

  it('exporting the nested model at widths equals exporting the extracted model', async () => {
    const widths = [8, 64];
    const dense = extract(model, widths);
    const fromNested = await OnnxLMEngine.fromBytes(toOnnx(model, { widths }).bytes);
    const fromDense = await OnnxLMEngine.fromBytes(toOnnx(dense).bytes);
    const x = await fromNested.forward(prompt);
    const y = await fromDense.forward(prompt);
    expect(maxDiff(x.logits, y.logits)).toBe(0);
    [fromNested, fromDense].forEach((e) => e.dispose());
    dense.dispose();
  });

  it('truncate rolls the cache back exactly (speculative rollback)', async () => {
    const ort = await OnnxLMEngine.fromBytes(toOnnx(model, { widths: [16, 32] }).bytes);
    const tokens = [2, 7, 1, 8, 2, 8, 1, 8, 2, 8];
    const all = await ort.forward(tokens); // one prefill of 10 positions
    const head = await ort.forward(tokens.slice(0, 4));
    const grown = await ort.forward(tokens.slice(4, 7), head.state);
    const cut = ort.truncate(grown.state, 5); // drop the last two "rejected" positions
    expect(ort.length(cut)).toBe(5);
    const again = await ort.forward(tokens.slice(5), cut);
    expect(maxDiff(again.logits, all.logits.subarray(5 * V))).toBeLessThan(1e-5);
    // The truncated-from state is still valid and unchanged.
    const cont = await ort.forward(tokens.slice(7), grown.state);
    expect(maxDiff(cont.logits, all.logits.subarray(7 * V))).toBeLessThan(1e-5);
    expect(() => ort.truncate(cut, 6)).toThrow(/cannot truncate/);
    [all, head, grown, again, cont].forEach((r) => ort.release(r.state));
    ort.release(cut);
    ort.dispose();
  });

  it('rejects inputs it cannot run with a clear error', async () => {
    const ort = await OnnxLMEngine.fromBytes(toOnnx(model).bytes);
    await expect(ort.forward([])).rejects.toThrow(/at least one position/);
    await expect(ort.forward([V])).rejects.toThrow(/tokens\[0\] = 32 is not a token id/);
    await expect(ort.forward(Array(33).fill(1))).rejects.toThrow(/exceeds maxSeqLen 32/);
    ort.dispose();
  });

  it('writes the file atomically and loads it back; exporting leaks no tfjs tensors', async () => {
    const path = join(dir, 'lm.onnx');
    const info = await exportOnnx(model, path, { widths: 16 });
    expect(info).toMatchObject({ widths: [16, 16], opset: 17 });
    expect((await stat(path)).size).toBe(info.bytes);
    const ort = await OnnxLMEngine.load(path);
    expect(ort.name).toBe('onnxruntime-cpu [16,16]');
    ort.dispose();
    // extract + export + dispose, repeated: the tensor count stays flat.
    expect(
      await tensorGrowth(() => toOnnx(model, { widths: [8, 32] }), { warmup: 1, steps: 3 }),
    ).toEqual([0, 0, 0]);
    expect(tf.memory().numTensors).toBe(model.variables.length);
  });
});
