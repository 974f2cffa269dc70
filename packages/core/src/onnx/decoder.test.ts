import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matlmConfig, type Widths } from '../config';
import { TfjsLMEngine } from '../decoding/tfjs-engine';
import { extract } from '../extract';
import type { MatLM } from '../models/matlm';
import { useBackend } from '../test-backends';
import { noisyLM } from './test-models';
import { toOnnx } from './export';
import { OnnxDecoderEngine } from './decoder-engine';
import { decoderUnsupported, exportOnnxDecoder, toOnnxDecoder } from './lm-decoder';
import { MatLM as MatLMClass } from '../models/matlm';

const maxDiff = (a: Float32Array, b: Float32Array): number => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
};
const argmax = (row: Float32Array): number =>
  row.reduce((best, x, i) => (x > row[best] ? i : best), 0);
const lastRow = (logits: Float32Array, V: number) => logits.subarray(logits.length - V);

describe('MatLM decoder graph (GroupQueryAttention over a static KV buffer) + OnnxDecoderEngine', () => {
  const config = matlmConfig('tiny', { maxSeqLen: 32 }); // head size 8: GQA needs a multiple of 8
  const V = config.vocabSize;
  const prompt = [3, 1, 4, 1, 5, 9];
  let model: MatLM;
  let dir: string;
  beforeAll(async () => {
    await useBackend('wasm');
    model = noisyLM(config, 7);
    dir = await mkdtemp(join(tmpdir(), 'matformer-decoder-'));
  });
  afterAll(async () => {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, Widths, boolean][] = [
    ['full width, fused contrib ops', [64, 64], true],
    ['mixed [8, 64], fused', [8, 64], true],
    ['mixed [32, 16], plain LayerNorm/GELU', [32, 16], false],
    ['elastic depth [0, 32] (layer 0 skipped)', [0, 32], true],
  ];
  it.each(cases)(
    '%s: prefill, multi-token steps and 12 single steps match tfjs (< 1e-4) at every past length',
    async (_, widths, fused) => {
      const dense = extract(model, widths);
      const ref = new TfjsLMEngine(dense);
      const dec = await OnnxDecoderEngine.fromModel(model, { widths, fused, intraOpNumThreads: 1 });
      expect(dec.widths).toEqual(widths.filter((m) => m > 0));
      let a = await ref.forward(prompt);
      let b = await dec.forward(prompt);
      expect(maxDiff(b.logits, a.logits)).toBeLessThan(1e-4);
      // Past lengths 6, 9, 10, 14, …: chunks of 3, 1 and 4 (verification-sized), then single steps.
      const chunks = [3, 1, 4, ...Array(12).fill(1)];
      for (const T of chunks) {
        const next = argmax(lastRow(a.logits, V));
        const toks = Array.from({ length: T }, (_, i) => (next + 5 * i) % V);
        const [a2, b2] = [await ref.forward(toks, a.state), await dec.forward(toks, b.state)];
        expect(maxDiff(b2.logits, a2.logits)).toBeLessThan(1e-4);
        ref.release(a.state);
        dec.release(b.state);
        [a, b] = [a2, b2];
      }
      expect(dec.length(b.state)).toBe(prompt.length + 20);
      ref.release(a.state);
      dec.release(b.state);
      dec.dispose();
      ref.dispose();
      dense.dispose();
    },
  );

  it('int8 weights (for drafts): close to the float model, not equal; a quarter of the bytes', async () => {
    const ref = new TfjsLMEngine(model, [16, 64]);
    const q = await OnnxDecoderEngine.fromModel(model, { widths: [16, 64], quantize: 'int8' });
    expect(q.name).toBe('onnxruntime-cpu decoder int8 [16,64]');
    expect(q.quantize).toBe('int8');
    const [a, b] = [await ref.forward(prompt), await q.forward(prompt)];
    const scale = a.logits.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const d = maxDiff(b.logits, a.logits);
    expect(d).toBeGreaterThan(0);
    expect(d / scale).toBeLessThan(0.1);
    const f32 = toOnnxDecoder(model, { widths: [16, 64] }).bytes.length;
    expect(toOnnxDecoder(model, { widths: [16, 64], quantize: 'int8' }).bytes.length).toBeLessThan(
      f32,
    );
    ref.release(a.state);
    q.release(b.state);
    ref.dispose();
    q.dispose();
  });

  it('truncate is a view (rollback costs nothing); states stay valid (copy on write)', async () => {
    const dec = await OnnxDecoderEngine.fromModel(model, { widths: [16, 32] });
    const tokens = [2, 7, 1, 8, 2, 8, 1, 8, 2, 8];
    const all = await dec.forward(tokens); // one prefill of 10 positions
    const head = await dec.forward(tokens.slice(0, 4));
    const grown = await dec.forward(tokens.slice(4, 7), head.state);
    expect(grown.state.buffer).toBe(head.state.buffer); // extended in place
    const cut = dec.truncate(grown.state, 5); // drop the last two "rejected" positions
    expect(dec.length(cut)).toBe(5);
    expect(cut.buffer).toBe(grown.state.buffer);
    // `grown` is alive and holds positions 5..6: continuing `cut` must not overwrite them.
    const again = await dec.forward(tokens.slice(5), cut);
    expect(again.state.buffer).not.toBe(grown.state.buffer);
    expect(maxDiff(again.logits, all.logits.subarray(5 * V))).toBeLessThan(1e-5);
    const cont = await dec.forward(tokens.slice(7), grown.state);
    expect(maxDiff(cont.logits, all.logits.subarray(7 * V))).toBeLessThan(1e-5);
    // The usual speculative pattern: forward, then release the old state, truncate, release.
    dec.release(cont.state);
    dec.release(grown.state);
    dec.release(again.state);
    expect(() => dec.truncate(cut, 6)).toThrow(/cannot truncate/);
    dec.release(cut);
    const c2 = dec.truncate(head.state, 3);
    dec.release(head.state);
    const next = await dec.forward(tokens.slice(3, 10), c2);
    expect(next.state.buffer).toBe(c2.buffer); // nothing longer alive: written in place
    expect(maxDiff(next.logits, all.logits.subarray(3 * V))).toBeLessThan(1e-5);
    [all.state, next.state, c2].forEach((s) => dec.release(s));
    dec.dispose();
  });

  it('two engines of one model shape read each other’s cache (shared-cache drafting)', async () => {
    const full = await OnnxDecoderEngine.fromModel(model);
    const draft = await OnnxDecoderEngine.fromModel(model, { widths: 8 });
    const p = await full.forward(prompt);
    const d = await draft.forward([4], p.state); // the draft continues from the verifier's positions
    expect(draft.length(d.state)).toBe(prompt.length + 1);
    // The draft's state is alive and holds position 6: the verifier continues on a copy.
    const v = await full.forward([4, 2], p.state);
    const ref = await full.forward([...prompt, 4, 2]);
    expect(maxDiff(v.logits, ref.logits.subarray(prompt.length * V))).toBeLessThan(1e-5);
    [p.state, v.state, ref.state].forEach((s) => full.release(s));
    draft.release(d.state);
    full.dispose();
    draft.dispose();
  });

  it('rejects what it cannot run with clear errors', async () => {
    const dec = await OnnxDecoderEngine.fromModel(model);
    await expect(dec.forward([])).rejects.toThrow(/at least one position/);
    await expect(dec.forward([V])).rejects.toThrow(/tokens\[0\] = 32 is not a token id/);
    await expect(dec.forward(Array(33).fill(1))).rejects.toThrow(/exceeds maxSeqLen 32/);
    const s = await dec.forward([1]);
    dec.release(s.state);
    await expect(dec.forward([1], s.state)).rejects.toThrow(/released/);
    // A plain export is not a decoder graph, and a head size GQA cannot run is refused.
    await expect(OnnxDecoderEngine.fromBytes(toOnnx(model).bytes)).rejects.toThrow(
      /not a decoder graph/,
    );
    const odd = MatLMClass.create(matlmConfig('tiny', { nHeads: 4 }), 0); // head size 4
    expect(decoderUnsupported(odd.config)).toMatch(/multiple of 8/);
    expect(() => toOnnxDecoder(odd)).toThrow(/multiple of 8/);
    odd.dispose();
    // Another model's state.
    const small = noisyLM(matlmConfig('tiny', { maxSeqLen: 16 }), 1);
    const other = await OnnxDecoderEngine.fromModel(small);
    small.dispose();
    const o = await other.forward([1]);
    await expect(dec.forward([1], o.state)).rejects.toThrow(/cannot feed/);
    other.dispose();
    dec.dispose();
  });

  it('writes a decoder file and loads it back', async () => {
    const path = join(dir, 'decoder.onnx');
    const info = await exportOnnxDecoder(model, path, { widths: [16, 64] });
    expect(info.widths).toEqual([16, 64]);
    const dec = await OnnxDecoderEngine.load(path);
    expect(dec.name).toBe('onnxruntime-cpu decoder [16,64]');
    const ref = new TfjsLMEngine(model, [16, 64]);
    const [a, b] = [await ref.forward(prompt), await dec.forward(prompt)];
    expect(maxDiff(b.logits, a.logits)).toBeLessThan(1e-4);
    ref.release(a.state);
    ref.dispose();
    dec.dispose();
  });
});
