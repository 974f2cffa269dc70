import type { DecoderBuildOptions } from '../family';
import { DataType } from '../../onnx/data-type';
import type { GraphBuilder } from '../../onnx/graph';
import { gelu, type WeightFn } from '../../onnx/layers';
import { decoderMatmul, MS } from '../../onnx/decoder-parts';
import { rotaryTables } from '../../layers/rotary';
import type { MatGemmaConfig } from './config';
import { rmsNormGraph } from './graph';

/**
 * MatGemma's decoder graph: the inputs and outputs of MatLM's (onnx/lm-decoder.ts: input_ids,
 * position_ids, seqlens_k, total_sequence_length, past_key_l / past_value_l over a static
 * buffer [1, Hkv, capacity, hd]; logits and this call's new_key_l / new_value_l
 * [1, T, Hkv·hd]), built from onnxruntime's contrib ops: `RotaryEmbedding` (rotate-half) on q
 * and k, so the keys the caller stores are rotated; `GroupQueryAttention` with Hkv kv heads;
 * with `fused`, residual adds and norms as `SimplifiedLayerNormalization` /
 * `SkipSimplifiedLayerNormalization`, GELU-tanh as `FastGelu` and SiLU as `QuickGelu`(α = 1).
 */
export function buildMatGemmaDecoder(
  g: GraphBuilder,
  c: MatGemmaConfig,
  w: WeightFn,
  opts: DecoderBuildOptions,
): void {
  const fused = opts.fused ?? true;
  const matmul = decoderMatmul(g, w, opts);
  const { nHeads: H, nKvHeads: Hkv, headDim: hd, vocabSize: V, nLayers: L } = c;
  const ids = g.input('input_ids', DataType.INT64, [1, 'seq']);
  const pos = g.input('position_ids', DataType.INT64, [1, 'seq']);
  const seqlensK = g.input('seqlens_k', DataType.INT32, [1]);
  const total = g.input('total_sequence_length', DataType.INT32, []);
  const cache = [1, Hkv, 'capacity', hd];
  const past = Array.from({ length: L }, (_, l) => ({
    k: g.input(`past_key_${l}`, DataType.FLOAT, cache),
    v: g.input(`past_value_${l}`, DataType.FLOAT, cache),
  }));
  // RotaryEmbedding's caches: [maxSeqLen, hd/2], the first half of each row of the tables.
  const { cos, sin } = rotaryTables(0, c.maxSeqLen, hd, c.ropeTheta);
  const half = (t: Float32Array) =>
    Float32Array.from(
      { length: c.maxSeqLen * (hd / 2) },
      (_, i) => t[Math.floor(i / (hd / 2)) * hd + (i % (hd / 2))],
    );
  const cosCache = g.weight('rotary.cos', half(cos), [c.maxSeqLen, hd / 2]);
  const sinCache = g.weight('rotary.sin', half(sin), [c.maxSeqLen, hd / 2]);
  const rotary = (x: string, heads: number, out?: string) =>
    g.opN(
      'RotaryEmbedding',
      [x, pos, cosCache, sinCache],
      { interleaved: { int: 0 }, num_heads: { int: heads } },
      { domain: MS, ...(out ? { outputs: [out] } : {}) },
    )[0]; // [1, T, heads·hd]

  /** The norm's scale: w, or 1 + w folded into a constant (Gemma). */
  const gamma = (name: string): string => {
    if (!c.normOffset) return w(name);
    const { data, shape } = opts.weightData!(name);
    return g.weight(
      `${name}.scale`,
      data.map((v) => 1 + v),
      shape,
    );
  };

  let x = g.scope('embed', () => {
    const tok = g.op('Gather', [w('tok_emb'), ids], { axis: { int: 0 } }); // [1, T, C]
    return c.embedScale ? g.op('Mul', [tok, g.f32([Math.fround(Math.sqrt(c.dModel))], [])]) : tok;
  });
  /** A branch output still to add to x (fused: folded into the next norm). */
  let delta: string | undefined;
  /** x ← x + delta (if any); returns RMS(x) with the norm weight `name`. */
  const addNorm = (name: string): string => {
    if (!fused) {
      if (delta) x = g.op('Add', [x, delta]);
      delta = undefined;
      return rmsNormGraph(g, x, w, name, c);
    }
    if (!delta)
      return g.op('SimplifiedLayerNormalization', [x, gamma(name)], {
        axis: { int: -1 },
        epsilon: { float: c.normEps },
      });
    const [y, , , sum] = g.opN(
      'SkipSimplifiedLayerNormalization',
      [delta, x, gamma(name)],
      { epsilon: { float: c.normEps } },
      { count: 4, domain: MS },
    );
    x = sum;
    delta = undefined;
    return y;
  };

  for (let l = 0; l < L; l++) {
    const p = `blocks.${l}`;
    g.scope(p, () => {
      g.scope('attn', () => {
        const a = addNorm(`${p}.attn_norm.weight`); // [1, T, C]
        const q = rotary(matmul(a, `${p}.attn.q.weight`, true), H); // [1, T, H·hd]
        const k = rotary(matmul(a, `${p}.attn.k.weight`, true), Hkv, `new_key_${l}`); // [1, T, Hkv·hd]
        const v = g.op('Identity', [matmul(a, `${p}.attn.v.weight`, true)], {}, `new_value_${l}`);
        const [ctx] = g.opN(
          'GroupQueryAttention',
          [q, k, v, past[l].k, past[l].v, seqlensK, total],
          {
            num_heads: { int: H },
            kv_num_heads: { int: Hkv },
            scale: { float: 1 / Math.sqrt(hd) },
          },
          { count: 3, domain: MS },
        ); // [1, T, H·hd]
        delta = matmul(ctx, `${p}.attn.o.weight`, true); // [1, T, C]
      });
      g.scope('ffn', () => {
        const a = addNorm(`${p}.ffn_norm.weight`); // [1, T, C]
        const gate = matmul(a, `${p}.ffn.gate.weight`, true); // [1, T, m]
        const act =
          c.activation === 'silu'
            ? fused
              ? g.opN('QuickGelu', [gate], { alpha: { float: 1 } }, { domain: MS })[0]
              : g.op('Mul', [gate, g.op('Sigmoid', [gate])])
            : fused
              ? g.opN('FastGelu', [gate], {}, { domain: MS })[0]
              : gelu(g, gate);
        const hidden = g.op('Mul', [act, matmul(a, `${p}.ffn.up.weight`, true)]); // [1, T, m]
        delta = matmul(hidden, `${p}.ffn.down.weight`, true); // [1, T, C]
      });
    });
  }
  g.scope('head', () => {
    const h = addNorm('norm.weight'); // [1, T, C]
    const head = c.tiedEmbeddings ? 'tok_emb' : 'lm_head.weight';
    // The head stays float32 (int8 is for the blocks' matmuls, as in MatLM's decoder).
    const z = fused
      ? g.opN('FusedMatMul', [h, w(head)], { transB: { int: 1 } }, { domain: MS })[0]
      : g.op('MatMul', [h, g.op('Transpose', [w(head)], { perm: { ints: [1, 0] } })]); // [1, T, V]
    if (c.finalSoftcap <= 0) g.op('Identity', [z], {}, 'logits');
    else {
      const capped = g.op('Tanh', [g.op('Mul', [z, g.f32([1 / c.finalSoftcap], [])])]);
      g.op('Mul', [capped, g.f32([c.finalSoftcap], [])], {}, 'logits');
    }
  });
  g.output('logits', DataType.FLOAT, [1, 'seq', V]);
  for (let l = 0; l < L; l++) {
    g.output(`new_key_${l}`, DataType.FLOAT, [1, 'seq', Hkv * hd]);
    g.output(`new_value_${l}`, DataType.FLOAT, [1, 'seq', Hkv * hd]);
  }
}
