import { DataType } from '../../onnx/data-type';
import type { GraphBuilder } from '../../onnx/graph';
import { gelu, type WeightFn } from '../../onnx/layers';
import { rotaryTables } from '../../layers/rotary';
import type { MatGemmaConfig } from './config';

/**
 * RMSNorm over the last axis in primitive ops (each has a gradient rule for training):
 * x / √(mean(x²) + eps) · scale, scale = w or 1 + w (Gemma).
 */
export function rmsNormGraph(
  g: GraphBuilder,
  x: string,
  w: WeightFn,
  name: string,
  c: MatGemmaConfig,
): string {
  const ms =
    g.opset >= 18
      ? g.op('ReduceMean', [g.op('Mul', [x, x]), g.i64([-1])], { keepdims: { int: 1 } })
      : g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { int: 1 } }); // [N, 1]
  const normed = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.f32([c.normEps], [])])])]); // [N, C]
  const scale = c.normOffset ? g.op('Add', [w(name), g.f32([1], [])]) : w(name); // [C]
  return g.op('Mul', [normed, scale]);
}

/** x·cos + rotate_half(x)·sin on x [B, heads, T, hd], cos/sin [T, hd]. */
function rotary(g: GraphBuilder, x: string, cos: string, sin: string, hd: number): string {
  const half = (from: number, to: number) =>
    g.op('Slice', [x, g.i64([from]), g.i64([to]), g.i64([3])]); // [B, heads, T, hd/2]
  const rotated = g.op('Concat', [g.op('Neg', [half(hd / 2, hd)]), half(0, hd / 2)], {
    axis: { int: 3 },
  }); // [B, heads, T, hd]
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
}

/** Graph input/output names of an exported MatGemma: the same contract as MatLM's. */
export { lmSignature as matgemmaSignature } from '../matlm/graph';

/**
 * MatGemma decoder with a KV cache: input_ids int64 [batch, seq] and past_key_l / past_value_l
 * [batch, Hkv, past, hd] (keys already rotated) → logits [batch, seq, V] and present_key_l /
 * present_value_l [batch, Hkv, past+seq, hd].
 */
export function buildMatGemmaGraph(g: GraphBuilder, c: MatGemmaConfig, w: WeightFn): void {
  const cacheShape = ['batch', c.nKvHeads, 'past', c.headDim];
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'seq']);
  const past = Array.from({ length: c.nLayers }, (_, l) => ({
    k: g.input(`past_key_${l}`, DataType.FLOAT, cacheShape),
    v: g.input(`past_value_${l}`, DataType.FLOAT, cacheShape),
  }));
  const { logits2d, logitsShape } = matgemmaForward(g, c, w, ids, past);
  g.scope('head', () => g.op('Reshape', [logits2d, logitsShape], {}, 'logits')); // [B, T, V]
  g.output('logits', DataType.FLOAT, ['batch', 'seq', c.vocabSize]);
  for (let l = 0; l < c.nLayers; l++) {
    const total = ['batch', c.nKvHeads, 'total', c.headDim];
    g.output(`present_key_${l}`, DataType.FLOAT, total);
    g.output(`present_value_${l}`, DataType.FLOAT, total);
  }
}

/**
 * The MatGemma forward pass on int64 ids [B, T]: logits [B·T, V] and the int64 shape [B, T, V].
 * With `past`, positions continue after the cached ones and each layer's extended cache is
 * named present_key_l / present_value_l. Export, serving and training build it from here.
 */
export function matgemmaForward(
  g: GraphBuilder,
  c: MatGemmaConfig,
  w: WeightFn,
  ids: string,
  past?: { k: string; v: string }[],
): { logits2d: string; logitsShape: string } {
  const { dModel: C, nHeads: H, nKvHeads: Hkv, headDim: hd, vocabSize: V } = c;
  const G = H / Hkv;
  const { headsShape, kvShape, logitsShape, mask, cos, sin } = g.scope('shapes', () => {
    const idsShape = g.op('Shape', [ids]); // [2] = [B, T]
    const B1 = g.op('Gather', [idsShape, g.i64([0])], { axis: { int: 0 } }); // [1]
    const T1 = g.op('Gather', [idsShape, g.i64([1])], { axis: { int: 0 } }); // [1]
    const T = g.op('Gather', [idsShape, g.i64([1], [])], { axis: { int: 0 } }); // scalar
    const P = past
      ? g.op('Gather', [g.op('Shape', [past[0].k]), g.i64([2], [])], { axis: { int: 0 } })
      : g.i64([0], []);
    const S = g.op('Add', [P, T]);
    const one = g.i64([1], []);
    const positions = g.op('Range', [P, S, one]); // [T]
    const rows = g.op('Unsqueeze', [positions, g.i64([1])]); // [T, 1]
    const cols = g.op('Unsqueeze', [g.op('Range', [g.i64([0], []), S, one]), g.i64([0])]); // [1, S]
    const mask = g.op('Where', [g.op('Greater', [cols, rows]), g.f32([-1e9], []), g.f32([0], [])]); // [T, S]
    // The mask of a group's G query heads stacked on the time axis (row g·T + t is query t).
    const groupMask = G === 1 ? mask : g.op('Concat', Array(G).fill(mask), { axis: { int: 0 } }); // [G·T, S]
    const tables = rotaryTables(0, c.maxSeqLen, hd, c.ropeTheta);
    const table = (data: Float32Array) =>
      g.op('Gather', [g.f32([...data], [c.maxSeqLen, hd]), positions], { axis: { int: 0 } }); // [T, hd]
    const dims = (...rest: number[]) => g.op('Concat', [B1, T1, g.i64(rest)], { axis: { int: 0 } });
    return {
      mask: groupMask,
      cos: table(tables.cos),
      sin: table(tables.sin),
      headsShape: dims(H, hd), // [4] = [B, T, H, hd]
      kvShape: dims(Hkv, hd), // [4] = [B, T, Hkv, hd]
      logitsShape: dims(V), // [3]
    };
  });

  let x = g.scope('embed', () => {
    const tok = g.op('Gather', [w('tok_emb'), ids], { axis: { int: 0 } }); // [B, T, C]
    const flat = g.op('Reshape', [tok, g.i64([-1, C])]); // [N, C]
    return c.embedScale ? g.op('Mul', [flat, g.f32([Math.fround(Math.sqrt(C))], [])]) : flat;
  });
  for (let l = 0; l < c.nLayers; l++) {
    const p = `blocks.${l}`;
    x = g.scope(p, () => {
      const h = g.scope('attn', () => {
        const a = rmsNormGraph(g, x, w, `${p}.attn_norm.weight`, c); // [N, C]
        const heads = (name: string, shape: string) =>
          g.op(
            'Transpose',
            [g.op('Reshape', [g.op('Gemm', [a, w(name)], { transB: { int: 1 } }), shape])],
            {
              perm: { ints: [0, 2, 1, 3] },
            },
          ); // [N, n·hd] → [B, n, T, hd]
        const q = rotary(g, heads(`${p}.attn.q.weight`, headsShape), cos, sin, hd); // [B, H, T, hd]
        let k = rotary(g, heads(`${p}.attn.k.weight`, kvShape), cos, sin, hd); // [B, Hkv, T, hd]
        let v = heads(`${p}.attn.v.weight`, kvShape); // [B, Hkv, T, hd]
        if (past) {
          k = g.op('Concat', [past[l].k, k], { axis: { int: 2 } }, `present_key_${l}`); // [B, Hkv, S, hd]
          v = g.op('Concat', [past[l].v, v], { axis: { int: 2 } }, `present_value_${l}`);
        }
        // A group's G query heads stacked on the time axis: each kv head is multiplied once.
        const qg = g.op('Reshape', [q, g.i64([0, Hkv, -1, hd])]); // [B, Hkv, G·T, hd]
        const kT = g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } }); // [B, Hkv, hd, S]
        const scores = g.op('Mul', [g.op('MatMul', [qg, kT]), g.f32([1 / Math.sqrt(hd)], [])]); // [B, Hkv, G·T, S]
        const att = g.op('Softmax', [g.op('Add', [scores, mask])], { axis: { int: -1 } }); // [B, Hkv, G·T, S]
        const ctx = g.op('MatMul', [att, v]); // [B, Hkv, G·T, hd]
        const perToken = g.op('Transpose', [g.op('Reshape', [ctx, g.i64([0, H, -1, hd])])], {
          perm: { ints: [0, 2, 1, 3] },
        }); // [B, T, H, hd]
        const ctx2d = g.op('Reshape', [perToken, g.i64([-1, H * hd])]); // [N, H·hd]
        const out = g.op('Gemm', [ctx2d, w(`${p}.attn.o.weight`)], { transB: { int: 1 } }); // [N, C]
        return g.op('Add', [x, out]);
      });
      return g.scope('ffn', () => {
        const a = rmsNormGraph(g, h, w, `${p}.ffn_norm.weight`, c); // [N, C]
        const proj = (name: string) => g.op('Gemm', [a, w(name)], { transB: { int: 1 } }); // [N, m]
        const gate = proj(`${p}.ffn.gate.weight`);
        const act =
          c.activation === 'silu' ? g.op('Mul', [gate, g.op('Sigmoid', [gate])]) : gelu(g, gate);
        const hidden = g.op('Mul', [act, proj(`${p}.ffn.up.weight`)]); // [N, m]
        const down = g.op('Gemm', [hidden, w(`${p}.ffn.down.weight`)], { transB: { int: 1 } }); // [N, C]
        return g.op('Add', [h, down]);
      });
    });
  }
  const logits2d = g.scope('head', () => {
    const hF = rmsNormGraph(g, x, w, 'norm.weight', c); // [N, C]
    const head = c.tiedEmbeddings ? 'tok_emb' : 'lm_head.weight';
    const logits = g.op('Gemm', [hF, w(head)], { transB: { int: 1 } }); // [N, V]
    if (c.finalSoftcap <= 0) return logits;
    const capped = g.op('Tanh', [g.op('Mul', [logits, g.f32([1 / c.finalSoftcap], [])])]);
    return g.op('Mul', [capped, g.f32([c.finalSoftcap], [])]);
  });
  return { logits2d, logitsShape };
}
