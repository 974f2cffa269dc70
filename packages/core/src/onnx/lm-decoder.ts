import { storedWidths, type Widths } from '../config';
import { ConfigError } from '../errors';
import { extract } from '../extract';
import { writeFileAtomic } from '../io/atomic-write';
import type { MatLM, MatLMConfig } from '../models/matlm';
import { DataType } from './data-type';
import { encodeGraph, GraphBuilder } from './graph';
import { gelu, layerNorm, type WeightFn } from './layers';
import { ONNX_FORMAT, ONNX_FORMAT_VERSION, metadataKeys } from './metadata';
import { ModelProto } from './schema';

/**
 * The MatLM *decoder* graph: the same model as `exportOnnx` writes, cut for low per-call cost
 * on onnxruntime (CPU or CUDA), as onnxruntime-genai serves LLMs:
 *
 * - attention is onnxruntime's `GroupQueryAttention` contrib op (domain com.microsoft) over a
 *   static KV buffer per layer [1, H, capacity, hd] that the caller feeds as `past_key_l` and
 *   also fetches as `present_key_l` (the same memory): the op appends the new positions in
 *   place and attends to the first `total_sequence_length` positions only. Nothing copies or
 *   reallocates the cache, and rolling back rejected draft tokens is just a smaller length;
 * - positions come in as `position_ids` and the lengths as `seqlens_k` / `total_sequence_length`
 *   (int32), so there is no shape arithmetic in the graph;
 * - with `fused` (the default), residual adds and LayerNorms are `SkipLayerNormalization`, the
 *   FFN activation is `FastGelu` with its bias: about 9 nodes per block instead of ~25.
 *
 * Batch 1. The plain-op export (`toOnnx`) stays the portable file; this one needs onnxruntime.
 */
export const DECODER_GRAPH = 'matlm-decoder-gqa';

/** Metadata key that tells a decoder file from the plain export. */
export const GRAPH_KIND_KEY = 'matformer.graph';

const MS = 'com.microsoft';

/** Graph input/output names of a decoder file. */
export function decoderSignature(nLayers: number): { inputs: string[]; outputs: string[] } {
  const per = (a: string, b: string) =>
    Array.from({ length: nLayers }, (_, l) => [`${a}_${l}`, `${b}_${l}`]).flat();
  return {
    inputs: [
      'input_ids',
      'position_ids',
      'seqlens_k',
      'total_sequence_length',
      ...per('past_key', 'past_value'),
    ],
    outputs: ['logits', ...per('present_key', 'present_value')],
  };
}

export interface DecoderGraphOptions {
  /** SkipLayerNormalization + FastGelu contrib ops (default true); false: plain LayerNorm and tanh GELU. */
  fused?: boolean;
}

/** Why a config cannot use the decoder graph (GroupQueryAttention's limits), or undefined. */
export function decoderUnsupported(config: MatLMConfig): string | undefined {
  const hd = config.dModel / config.nHeads;
  if (hd % 8 !== 0)
    return `onnxruntime's GroupQueryAttention needs a head size that is a multiple of 8; dModel/nHeads = ${hd}`;
  return undefined;
}

/** Builds the decoder graph (see DECODER_GRAPH) of a dense MatLM whose weights `w` adds. */
export function buildDecoderGraph(
  g: GraphBuilder,
  config: MatLMConfig,
  w: WeightFn,
  opts: DecoderGraphOptions = {},
): void {
  const fused = opts.fused ?? true;
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
        const qkv = g.op('Add', [
          g.op('MatMul', [a, w(`${p}.attn.qkv.weight`)]),
          w(`${p}.attn.qkv.bias`),
        ]); // [1, T, 3C] = q | k | v, each H heads of hd: GQA's packed layout
        const [ctx] = g.opN(
          'GroupQueryAttention',
          [qkv, '', '', past[l].k, past[l].v, seqlensK, total],
          { num_heads: { int: H }, kv_num_heads: { int: H }, scale: { float: 1 / Math.sqrt(hd) } },
          { outputs: [`${p}/attn/ctx`, `present_key_${l}`, `present_value_${l}`], domain: MS },
        ); // [1, T, C]
        delta = {
          y: g.op('MatMul', [ctx, w(`${p}.attn.out.weight`)]),
          bias: w(`${p}.attn.out.bias`),
        };
      });
      g.scope('ffn', () => {
        const a = addNorm(`${p}.ln2`);
        // fc1 is stored [m, C]: FusedMatMul's transB reads it as [C, m].
        const f1 = fused
          ? g.opN(
              'FusedMatMul',
              [a, w(`${p}.ffn.fc1.weight`)],
              { transB: { int: 1 } },
              { domain: MS },
            )[0]
          : g.op('MatMul', [a, transposed(`${p}.ffn.fc1.weight`)]);
        const act = fused
          ? g.opN('FastGelu', [f1, w(`${p}.ffn.fc1.bias`)], {}, { domain: MS })[0]
          : gelu(g, g.op('Add', [f1, w(`${p}.ffn.fc1.bias`)]));
        delta = {
          y: g.op('MatMul', [act, w(`${p}.ffn.fc2.weight`)]),
          bias: w(`${p}.ffn.fc2.bias`),
        };
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
    else g.op('MatMul', [h, transposed('tok_emb')], {}, 'logits');
  });
  g.output('logits', DataType.FLOAT, [1, 'seq', V]);
  for (let l = 0; l < L; l++) {
    g.output(`present_key_${l}`, DataType.FLOAT, cache);
    g.output(`present_value_${l}`, DataType.FLOAT, cache);
  }

  /** A weight read transposed (plain mode: onnxruntime folds the Transpose of a constant). */
  function transposed(name: string): string {
    return g.op('Transpose', [w(name)], { perm: { ints: [1, 0] } });
  }
}

export interface DecoderExportOptions extends DecoderGraphOptions {
  /** Per-layer FFN widths to extract first (a number = every layer; 0 skips a layer); default: stored. */
  widths?: number | Widths;
}

/**
 * The decoder-graph ModelProto bytes of a MatLM (extracted at `widths` first if given). Served by
 * `OnnxDecoderEngine`; needs onnxruntime (contrib ops), opset 17 + com.microsoft 1.
 */
export function toOnnxDecoder(
  model: MatLM,
  opts: DecoderExportOptions = {},
): { bytes: Uint8Array; widths: Widths; params: number } {
  const stored = storedWidths(model.config);
  const widths = model.resolveWidths(opts.widths);
  const dense = widths.every((m, l) => m === stored[l]) ? model : extract(model, widths);
  try {
    const config = dense.config;
    const why = decoderUnsupported(config);
    if (why) throw new ConfigError(why);
    const g = new GraphBuilder(17);
    const added = new Set<string>();
    const w: WeightFn = (name) => {
      if (!added.has(name)) {
        const t = dense.params[name];
        if (!t) throw new Error(`internal: the graph uses a weight the model lacks: ${name}`);
        g.weight(name, t.dataSync() as Float32Array, t.shape);
        added.add(name);
      }
      return name;
    };
    buildDecoderGraph(g, config, w, opts);
    const bytes = encodeGraph(g, {
      name: 'matformer_matlm_decoder',
      producer: '@matformer/core',
      doc: `MatLM decoder graph (GroupQueryAttention over a static KV buffer); FFN widths [${storedWidths(config).join(', ')}]`,
      irVersion: 8,
      domains: { [MS]: 1 },
      metadata: {
        [metadataKeys.format]: ONNX_FORMAT,
        [metadataKeys.version]: ONNX_FORMAT_VERSION,
        [metadataKeys.config]: JSON.stringify({ ...config, layerDFF: storedWidths(config) }),
        [GRAPH_KIND_KEY]: DECODER_GRAPH,
      },
    });
    return { bytes, widths, params: dense.storedParamCount };
  } finally {
    if (dense !== model) dense.dispose();
  }
}

/** Writes `toOnnxDecoder`'s file atomically. */
export async function exportOnnxDecoder(
  model: MatLM,
  path: string,
  opts: DecoderExportOptions = {},
): Promise<{ bytes: number; widths: Widths; params: number }> {
  const { bytes, widths, params } = toOnnxDecoder(model, opts);
  await writeFileAtomic(path, bytes);
  return { bytes: bytes.length, widths, params };
}

/** Whether ModelProto bytes hold a decoder graph (`toOnnxDecoder`) rather than the plain export. */
export function isDecoderFile(bytes: Uint8Array): boolean {
  try {
    const m = ModelProto.decode(bytes) as unknown as {
      metadataProps?: { key: string; value: string }[];
    };
    return m.metadataProps?.find((p) => p.key === GRAPH_KIND_KEY)?.value === DECODER_GRAPH;
  } catch {
    return false;
  }
}
