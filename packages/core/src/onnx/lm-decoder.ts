import { storedWidths, type Widths } from '../config';
import { checkChoice, ConfigError } from '../errors';
import { checkWritablePath, writeFileAtomic } from '../io/atomic-write';
import type { MatLM, MatLMConfig } from '../models/matlm';
import { DataType } from './data-type';
import { encodeGraph, GraphBuilder } from './graph';
import { gelu, layerNorm, type WeightFn } from './layers';
import { atWidths, initializerWeights } from './export';
import { exportMetadata } from './metadata';
import { ModelProto } from './schema';

/**
 * The MatLM *decoder* graph: the same model as `exportOnnx` writes, cut for low per-call cost
 * on onnxruntime's CPU provider:
 *
 * - attention is onnxruntime's `GroupQueryAttention` contrib op (domain com.microsoft) over a
 *   static KV buffer per layer [1, H, capacity, hd] that the caller feeds as `past_key_l`
 *   (zero-copy: an ort.Tensor over the caller's array) with the valid length in
 *   `seqlens_k` / `total_sequence_length`; the op reads only the valid positions. The graph
 *   returns only this call's keys and values (`new_key_l` [1, T, C]), which the caller writes
 *   into its buffer: a few KB per call instead of the whole cache (measured: fetching the whole
 *   cache back into JS, even into pre-allocated tensors, costs more than the step). Rolling back
 *   rejected draft tokens is just a smaller length;
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

/** Metadata key naming the weight quantization of a decoder file (absent = float32). */
export const QUANT_KEY = 'matformer.quantize';

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
    outputs: ['logits', ...per('new_key', 'new_value')],
  };
}

export interface DecoderGraphOptions {
  /** SkipLayerNormalization + FastGelu contrib ops (default true); false: plain LayerNorm and tanh GELU. */
  fused?: boolean;
  /**
   * 'int8': the block matmuls read int8 weights (symmetric, one scale per output column) through
   * onnxruntime's DynamicQuantizeMatMul: a quarter of the bytes per step, so on a CPU, where
   * decoding streams the weights, a step costs several times less. NOT the same function as the
   * float model (logits differ by ~1e-2): for speculative DRAFTS, whose errors the exact verifier
   * corrects. Default: float32, equal to the tfjs forward to float tolerance.
   */
  quantize?: 'int8';
}

/** The values of DecoderGraphOptions.quantize. */
export const QUANTIZE_CHOICES = ['int8'] as const;

/** Weight data for quantizing (toOnnxDecoder supplies it). */
export type WeightDataFn = (name: string) => { data: Float32Array; shape: number[] };

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
  opts: DecoderGraphOptions & { weightData?: WeightDataFn } = {},
): void {
  const fused = opts.fused ?? true;
  const q8 = checkChoice('quantize', opts.quantize, QUANTIZE_CHOICES, true) === 'int8';
  if (q8 && !opts.weightData) throw new Error('internal: int8 quantization needs weightData');
  /**
   * x · W (+ bias) where W is the weight `name` [K, N] (or stored [N, K] with `storedT`): float
   * MatMul/FusedMatMul, or int8 DynamicQuantizeMatMul with per-column scales.
   */
  const matmul = (x: string, name: string, storedT = false, bias?: string): string => {
    if (q8) {
      const { q, scale, zero } = int8Weight(g, name, opts.weightData!, storedT);
      return g.opN(
        'DynamicQuantizeMatMul',
        [x, q, scale, zero, ...(bias ? [bias] : [])],
        {},
        { domain: MS },
      )[0];
    }
    let y: string;
    if (!storedT) y = g.op('MatMul', [x, w(name)]);
    else if (fused)
      y = g.opN('FusedMatMul', [x, w(name)], { transB: { int: 1 } }, { domain: MS })[0];
    else y = g.op('MatMul', [x, transposed(name)]);
    return bias ? g.op('Add', [y, bias]) : y;
  };
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
    else g.op('MatMul', [h, transposed('tok_emb')], {}, 'logits');
  });
  g.output('logits', DataType.FLOAT, [1, 'seq', V]);
  for (let l = 0; l < L; l++) {
    g.output(`new_key_${l}`, DataType.FLOAT, [1, 'seq', C]);
    g.output(`new_value_${l}`, DataType.FLOAT, [1, 'seq', C]);
  }

  /** A weight read transposed (plain mode: onnxruntime folds the Transpose of a constant). */
  function transposed(name: string): string {
    return g.op('Transpose', [w(name)], { perm: { ints: [1, 0] } });
  }
}

/**
 * Adds weight `name` as int8 [K, N] (transposed from a stored [N, K] with `storedT`), symmetric
 * per output column: scale_n = max_k |W[k, n]| / 127, q = round(W / scale_n); zero points 0.
 */
function int8Weight(
  g: GraphBuilder,
  name: string,
  weightData: WeightDataFn,
  storedT: boolean,
): { q: string; scale: string; zero: string } {
  const { data, shape } = weightData(name);
  const [K, N] = storedT ? [shape[1], shape[0]] : [shape[0], shape[1]];
  const at = storedT
    ? (k: number, n: number) => data[n * K + k]
    : (k: number, n: number) => data[k * N + n];
  const scale = new Float32Array(N);
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++) scale[n] = Math.max(scale[n], Math.abs(at(k, n)));
  for (let n = 0; n < N; n++) scale[n] = scale[n] > 0 ? scale[n] / 127 : 1;
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++)
      q[k * N + n] = Math.max(-127, Math.min(127, Math.round(at(k, n) / scale[n])));
  const qName = `${name}.int8`;
  g.initializers.push({
    name: qName,
    dims: [K, N],
    dataType: DataType.INT8,
    rawData: new Uint8Array(q.buffer),
  });
  const zero = `${name}.int8_zero`;
  g.initializers.push({
    name: zero,
    dims: [N],
    dataType: DataType.INT8,
    rawData: new Uint8Array(N),
  });
  return { q: qName, scale: g.weight(`${name}.int8_scale`, scale, [N]), zero };
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
  checkChoice('quantize', opts.quantize, QUANTIZE_CHOICES, true);
  return atWidths(model, opts.widths, (dense, widths) => {
    const config = dense.config;
    const why = decoderUnsupported(config);
    if (why) throw new ConfigError(why);
    const g = new GraphBuilder(17);
    const w = initializerWeights(g, dense);
    const weightData: WeightDataFn = (name) => {
      const t = dense.params[name];
      if (!t) throw new Error(`internal: the graph uses a weight the model lacks: ${name}`);
      return { data: t.dataSync() as Float32Array, shape: t.shape };
    };
    buildDecoderGraph(g, config, w, { ...opts, weightData });
    const bytes = encodeGraph(g, {
      name: 'matformer_matlm_decoder',
      producer: '@matformer/core',
      doc: `MatLM decoder graph (GroupQueryAttention over a static KV buffer); FFN widths [${storedWidths(config).join(', ')}]`,
      irVersion: 8,
      domains: { [MS]: 1 },
      metadata: {
        ...exportMetadata(config),
        [GRAPH_KIND_KEY]: DECODER_GRAPH,
        ...(opts.quantize ? { [QUANT_KEY]: opts.quantize } : {}),
      },
    });
    return { bytes, widths, params: dense.storedParamCount };
  });
}

/** Writes `toOnnxDecoder`'s file atomically. */
export async function exportOnnxDecoder(
  model: MatLM,
  path: string,
  opts: DecoderExportOptions = {},
): Promise<{ bytes: number; widths: Widths; params: number }> {
  checkWritablePath(path); // a device, FIFO or directory fails before the model is encoded
  const { bytes, widths, params } = toOnnxDecoder(model, opts);
  await writeFileAtomic(path, bytes);
  return { bytes: bytes.length, widths, params };
}

/** What the metadata of ModelProto bytes says: a decoder graph (`toOnnxDecoder`)? quantized how? */
export function decoderFileInfo(bytes: Uint8Array): { decoder: boolean; quantize?: string } {
  try {
    const m = ModelProto.decode(bytes) as unknown as {
      metadataProps?: { key: string; value: string }[];
    };
    const meta = new Map((m.metadataProps ?? []).map((p) => [p.key, p.value]));
    return { decoder: meta.get(GRAPH_KIND_KEY) === DECODER_GRAPH, quantize: meta.get(QUANT_KEY) };
  } catch {
    return { decoder: false };
  }
}

/** Whether ModelProto bytes hold a decoder graph (`toOnnxDecoder`) rather than the plain export. */
export function isDecoderFile(bytes: Uint8Array): boolean {
  return decoderFileInfo(bytes).decoder;
}
