import { DataType } from '../../onnx/data-type';
import type { GraphBuilder } from '../../onnx/graph';
import { block, layerNorm, type WeightFn } from '../../onnx/layers';
import type { MatLMConfig } from './config';

/** Graph input/output names of an exported MatLM (the runtime's contract with the file). */
export function lmSignature(nLayers: number): { inputs: string[]; outputs: string[] } {
  const per = (a: string, b: string) =>
    Array.from({ length: nLayers }, (_, l) => [`${a}_${l}`, `${b}_${l}`]).flat();
  return {
    inputs: ['input_ids', ...per('past_key', 'past_value')],
    outputs: ['logits', ...per('present_key', 'present_value')],
  };
}

/**
 * MatLM decoder with a KV cache: input_ids int64 [batch, seq] and past_key_l / past_value_l
 * [batch, H, past, hd] → logits [batch, seq, V] and present_key_l / present_value_l
 * [batch, H, past+seq, hd]. Positions and the causal mask come from the past length inside
 * the graph, so a prefill (past = 0) and each decoding step run the same file.
 */
export function buildLMGraph(g: GraphBuilder, config: MatLMConfig, w: WeightFn): void {
  const { nHeads: H, vocabSize: V, nLayers: L } = config;
  const hd = config.dModel / H;
  const cacheShape = ['batch', H, 'past', hd];
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'seq']);
  const past = Array.from({ length: L }, (_, l) => ({
    k: g.input(`past_key_${l}`, DataType.FLOAT, cacheShape),
    v: g.input(`past_value_${l}`, DataType.FLOAT, cacheShape),
  }));
  const { logits2d, logitsShape } = lmForward(g, config, w, ids, past);
  g.scope('head', () => g.op('Reshape', [logits2d, logitsShape], {}, 'logits')); // [B, T, V]
  g.output('logits', DataType.FLOAT, ['batch', 'seq', V]);
  for (let l = 0; l < L; l++) {
    g.output(`present_key_${l}`, DataType.FLOAT, ['batch', H, 'total', hd]);
    g.output(`present_value_${l}`, DataType.FLOAT, ['batch', H, 'total', hd]);
  }
}

/**
 * The MatLM forward pass on int64 ids [B, T]: logits [B·T, V] (row b·T + t) and the int64
 * shape [3] = [B, T, V] that restores them. With `past` (one {k, v} per layer) the positions
 * continue after the cached ones and each layer's extended cache is named present_key_l /
 * present_value_l; without it (training, scoring) positions start at 0. Export, serving and
 * the onnxruntime training engine all build the model from this one function.
 */
export function lmForward(
  g: GraphBuilder,
  config: MatLMConfig,
  w: WeightFn,
  ids: string,
  past?: { k: string; v: string }[],
): { logits2d: string; logitsShape: string } {
  const { dModel: C, nHeads: H, vocabSize: V, nLayers: L } = config;
  const hd = C / H;
  const dims = { C, H, eps: config.normEps };

  const { qkvShape, logitsShape, mask, positions } = g.scope('shapes', () => {
    const idsShape = g.op('Shape', [ids]); // [2] = [B, T]
    const B1 = g.op('Gather', [idsShape, g.i64([0])], { axis: { int: 0 } }); // [1]
    const T1 = g.op('Gather', [idsShape, g.i64([1])], { axis: { int: 0 } }); // [1]
    const T = g.op('Gather', [idsShape, g.i64([1], [])], { axis: { int: 0 } }); // scalar
    const P = past
      ? g.op('Gather', [g.op('Shape', [past[0].k]), g.i64([2], [])], { axis: { int: 0 } }) // scalar
      : g.i64([0], []);
    const S = g.op('Add', [P, T]); // scalar: positions after this call
    const one = g.i64([1], []);
    const positions = g.op('Range', [P, S, one]); // [T] = past, …, past+T-1
    // Query i (absolute position past+i) may see key j iff j ≤ past+i.
    const rows = g.op('Unsqueeze', [positions, g.i64([1])]); // [T, 1]
    const cols = g.op('Unsqueeze', [g.op('Range', [g.i64([0], []), S, one]), g.i64([0])]); // [1, S]
    const mask = g.op('Where', [g.op('Greater', [cols, rows]), g.f32([-1e9], []), g.f32([0], [])]); // [T, S]
    return {
      positions,
      mask,
      qkvShape: g.op('Concat', [B1, T1, g.i64([3, H, hd])], { axis: { int: 0 } }), // [5]
      logitsShape: g.op('Concat', [B1, T1, g.i64([V])], { axis: { int: 0 } }), // [3]
    };
  });

  let x = g.scope('embed', () => {
    const tok = g.op('Gather', [w('tok_emb'), ids], { axis: { int: 0 } }); // [B, T, C]
    const pos = g.op('Gather', [w('pos_emb'), positions], { axis: { int: 0 } }); // [T, C]
    return g.op('Reshape', [g.op('Add', [tok, pos]), g.i64([-1, C])]); // [N, C]
  });
  for (let l = 0; l < L; l++) {
    x = block(g, w, l, dims, {
      x,
      qkvShape,
      mask,
      past: past?.[l],
      present: past ? { k: `present_key_${l}`, v: `present_value_${l}` } : undefined,
    });
  }
  const logits2d = g.scope('head', () => {
    const h = layerNorm(g, x, w, 'ln_f', config.normEps); // [N, C]
    // Tied head: logits = h · tok_embᵀ, reading the one stored embedding transposed.
    return g.op('Gemm', [h, w('tok_emb')], { transB: { int: 1 } }); // [N, V]
  });
  return { logits2d, logitsShape };
}
