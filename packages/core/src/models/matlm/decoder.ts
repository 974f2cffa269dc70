import type { MatLMConfig } from './config';
import { DataType } from '../../onnx/data-type';
import {
  decoderMatmul,
  MS,
  transposedWeight,
  type DecoderGraphOptions,
  type WeightDataFn,
} from '../../onnx/decoder-parts';
import type { GraphBuilder } from '../../onnx/graph';
import { gelu, layerNorm, type WeightFn } from '../../onnx/layers';

/** Builds the decoder graph (see DECODER_GRAPH) of a dense MatLM whose weights `w` adds. */
export function buildDecoderGraph(
  g: GraphBuilder,
  config: MatLMConfig,
  w: WeightFn,
  opts: DecoderGraphOptions & { weightData?: WeightDataFn } = {},
): void {
  const fused = opts.fused ?? true;
  const matmul = decoderMatmul(g, w, opts);
  const { dModel: C, nHeads: H, vocabSize: V, nLayers: L, normEps: eps } = config;
  const hd = C / H;
  const ids = g.input('input_ids', DataType.INT64, [1, 'seq']);
  const pos = g.input('position_ids', DataType.INT64, [1, 'seq']);
  const seqlensK = g.input('seqlens_k', DataType.INT32, [1]);
  const total = g.input('total_sequence_length', DataType.INT32, []);
  const cache = [1, H, 'capacity', hd];
  const past = Array.from({ length: L }, (_, l) => ({
    k: g.input(`past_key_${l}`, DataType.FLOAT, cache),
    v: g.input(`past_value_${l}`, DataType.FLOAT, cache),
  }));

  // x: the residual stream [1, T, C]. `pending` = a bias still to add to x (fused mode folds the
  // add into the next SkipLayerNormalization); `delta` = a branch output still to add to x.
  let x = g.scope('embed', () =>
    g.op('Add', [
      g.op('Gather', [w('tok_emb'), ids], { axis: { int: 0 } }),
      g.op('Gather', [w('pos_emb'), pos], { axis: { int: 0 } }),
    ]),
  ); // [1, T, C]
  let delta: { y: string; bias: string } | undefined;
  /** x ← x + delta (if any); returns LayerNorm(x) with weights p. */
  const addNorm = (p: string): string => {
    if (!delta) return layerNorm(g, x, w, p, eps);
    if (fused) {
      const [y, , , sum] = g.opN(
        'SkipLayerNormalization',
        [delta.y, x, w(`${p}.weight`), w(`${p}.bias`), delta.bias],
        { epsilon: { float: eps } },
        { count: 4, domain: MS },
      );
      x = sum;
      delta = undefined;
      return y;
    }
    x = g.op('Add', [x, g.op('Add', [delta.y, delta.bias])]);
    delta = undefined;
    return layerNorm(g, x, w, p, eps);
  };

  for (let l = 0; l < L; l++) {
    const p = `blocks.${l}`;
    g.scope(p, () => {
      g.scope('attn', () => {
        const a = addNorm(`${p}.ln1`); // [1, T, C]
        const qkv = matmul(a, `${p}.attn.qkv.weight`, false, w(`${p}.attn.qkv.bias`)); // [1, T, 3C] = q | k | v, each H heads of hd: GQA's packed layout
        const [ctx] = g.opN(
          'GroupQueryAttention',
          [qkv, '', '', past[l].k, past[l].v, seqlensK, total],
          { num_heads: { int: H }, kv_num_heads: { int: H }, scale: { float: 1 / Math.sqrt(hd) } },
          { count: 3, domain: MS },
        ); // [1, T, C]
        // This call's keys and values [1, T, C] (= [T, H, hd]): the caller writes them into its buffer.
        g.op('Slice', [qkv, g.i64([C]), g.i64([2 * C]), g.i64([2])], {}, `new_key_${l}`);
        g.op('Slice', [qkv, g.i64([2 * C]), g.i64([3 * C]), g.i64([2])], {}, `new_value_${l}`);
        delta = { y: matmul(ctx, `${p}.attn.out.weight`), bias: w(`${p}.attn.out.bias`) };
      });
      g.scope('ffn', () => {
        const a = addNorm(`${p}.ln2`);
        // fc1 is stored [m, C]: FusedMatMul's transB reads it as [C, m].
        const f1 = matmul(a, `${p}.ffn.fc1.weight`, true);
        const act = fused
          ? g.opN('FastGelu', [f1, w(`${p}.ffn.fc1.bias`)], {}, { domain: MS })[0]
          : gelu(g, g.op('Add', [f1, w(`${p}.ffn.fc1.bias`)]));
        delta = { y: matmul(act, `${p}.ffn.fc2.weight`), bias: w(`${p}.ffn.fc2.bias`) };
      });
    });
  }
  g.scope('head', () => {
    const h = addNorm('ln_f'); // [1, T, C]
    // Tied head: logits = h · tok_embᵀ.
    if (fused)
      g.opN(
        'FusedMatMul',
        [h, w('tok_emb')],
        { transB: { int: 1 } },
        { outputs: ['logits'], domain: MS },
      );
    else g.op('MatMul', [h, transposedWeight(g, w, 'tok_emb')], {}, 'logits');
  });
  g.output('logits', DataType.FLOAT, [1, 'seq', V]);
  for (let l = 0; l < L; l++) {
    g.output(`new_key_${l}`, DataType.FLOAT, [1, 'seq', C]);
    g.output(`new_value_${l}`, DataType.FLOAT, [1, 'seq', C]);
  }
}
