import { MS } from './decoder-parts';
import type { Attr, GraphBuilder } from './graph';

/** Adds a model weight (by checkpoint name) to the graph on first use and returns its value name. */
export type WeightFn = (name: string) => string;

/** The trunk's sizes, shared by MatLM and MatViT graphs. */
export interface TrunkDims {
  C: number;
  H: number;
  eps: number;
}

export function layerNorm(g: GraphBuilder, x: string, w: WeightFn, p: string, eps: number): string {
  // Opset 17 LayerNormalization: mean/variance over the last axis, like our tfjs layerNorm.
  return g.op('LayerNormalization', [x, w(`${p}.weight`), w(`${p}.bias`)], {
    axis: { int: -1 },
    epsilon: { float: eps },
  });
}

/**
 * GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))), the same function as
 * our tfjs gelu (x + 0.044715·x³ factored). From opset 20 the standard Gelu op has
 * `approximate="tanh"`; before that it is spelled out in primitive ops, in the exact
 * arrangement onnxruntime's FastGeluFusion recognises, so it still runs as one fused kernel.
 * A graph with contrib ops (training) names FastGelu itself: fusion cannot happen there, since
 * the backward pass reads the intermediate values, and nine passes over [N, m] cost as much as
 * the FFN's matmuls.
 */
export function gelu(g: GraphBuilder, x: string): string {
  if (g.o.contribOps) return g.opN('FastGelu', [x], {}, { domain: MS })[0];
  if (g.opset >= 20) return g.op('Gelu', [x], { approximate: { string: 'tanh' } });
  const one = g.f32([1], []);
  const poly = g.op('Add', [g.op('Mul', [g.op('Mul', [x, g.f32([0.044715], [])]), x]), one]); // 1 + 0.044715·x²
  const scaled = g.op('Mul', [x, g.f32([Math.sqrt(2 / Math.PI)], [])]); // √(2/π)·x
  const onePlusTanh = g.op('Add', [g.op('Tanh', [g.op('Mul', [poly, scaled])]), one]);
  return g.op('Mul', [onePlusTanh, g.op('Mul', [x, g.f32([0.5], [])])]);
}

/** Split into `n` equal parts along `axis` (from opset 18 the count is an attribute). */
function splitAttrs(g: GraphBuilder, axis: number, n: number): Record<string, Attr> {
  return { axis: { int: axis }, ...(g.opset >= 18 ? { num_outputs: { int: n } } : {}) };
}

export interface BlockIO {
  /** Residual stream [N, C], N = B·T. */
  x: string;
  /** int64 [5] = [B, T, 3, H, hd]: splits the fused qkv projection into heads. */
  qkvShape: string;
  /** Additive attention mask [T, S] (causal), or none (bidirectional). */
  mask?: string;
  /** Cached keys/values [B, H, P, hd] to attend to before the new positions. */
  past?: { k: string; v: string };
  /** Names for this layer's keys/values [B, H, P+T, hd] as graph outputs. */
  present?: { k: string; v: string };
}

/** Pre-norm block l: x + attn(ln1(x)), then + ffn(ln2(x)); the FFN width is whatever fc1 stores. */
export function block(g: GraphBuilder, w: WeightFn, l: number, d: TrunkDims, io: BlockIO): string {
  const p = `blocks.${l}`;
  const hd = d.C / d.H;
  return g.scope(p, () => {
    const h = g.scope('attn', () => {
      const a = layerNorm(g, io.x, w, `${p}.ln1`, d.eps); // [N, C]
      const qkv = g.op('Gemm', [a, w(`${p}.attn.qkv.weight`), w(`${p}.attn.qkv.bias`)]); // [N, 3C]
      const heads = g.op('Transpose', [g.op('Reshape', [qkv, io.qkvShape])], {
        perm: { ints: [2, 0, 3, 1, 4] },
      }); // [B, T, 3, H, hd] → [3, B, H, T, hd]
      // One Split, not three Gathers: its gradient is one Concat, where the Gathers' would be
      // three zero-padded copies of [3, B, H, T, hd] and their sum.
      const parts = g.opN('Split', [heads], splitAttrs(g, 0, 3), { count: 3 }); // 3 × [1, B, H, T, hd]
      const [q, k0, v0] = parts.map((t) => g.op('Squeeze', [t, g.i64([0])])); // [B, H, T, hd]
      let k = k0;
      let v = v0;
      if (io.past) {
        // Cache first, new positions after: [B, H, P+T, hd], also returned as the next cache.
        k = g.op('Concat', [io.past.k, k], { axis: { int: 2 } }, io.present?.k);
        v = g.op('Concat', [io.past.v, v], { axis: { int: 2 } }, io.present?.v);
      }
      const kT = g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } }); // [B, H, hd, S]
      let scores = g.op('Mul', [g.op('MatMul', [q, kT]), g.f32([1 / Math.sqrt(hd)], [])]); // [B, H, T, S]
      if (io.mask) scores = g.op('Add', [scores, io.mask]);
      const att = g.op('Softmax', [scores], { axis: { int: -1 } });
      const ctx = g.op('Transpose', [g.op('MatMul', [att, v])], { perm: { ints: [0, 2, 1, 3] } }); // [B, T, H, hd]
      const ctx2d = g.op('Reshape', [ctx, g.i64([-1, d.C])]); // [N, C]
      const out = g.op('Gemm', [ctx2d, w(`${p}.attn.out.weight`), w(`${p}.attn.out.bias`)]); // [N, C]
      return g.op('Add', [io.x, out]);
    });
    return g.scope('ffn', () => {
      const a = layerNorm(g, h, w, `${p}.ln2`, d.eps); // [N, C]
      // fc1 is stored [m, C] (nested dimension first): transB reads it as [C, m] without a copy.
      const f1 = g.op('Gemm', [a, w(`${p}.ffn.fc1.weight`), w(`${p}.ffn.fc1.bias`)], {
        transB: { int: 1 },
      }); // [N, m]
      const f2 = g.op('Gemm', [gelu(g, f1), w(`${p}.ffn.fc2.weight`), w(`${p}.ffn.fc2.bias`)]); // [N, C]
      return g.op('Add', [h, f2]);
    });
  });
}
