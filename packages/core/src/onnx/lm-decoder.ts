import { storedWidths, type ModelConfig, type Widths } from '../config';
import { MS, QUANTIZE_CHOICES, type DecoderGraphOptions, type WeightDataFn } from './decoder-parts';
import { checkChoice, ConfigError } from '../errors';
import { checkWritablePath, writeFileAtomic } from '../io/files';
import { kvCacheShape } from '../models/family';
import { familyOf, type LanguageModel } from '../models/registry';
import { encodeGraph, GraphBuilder } from './graph';
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

/** Why a config cannot use the decoder graph (its family has none, or GroupQueryAttention's limits), or undefined. */
export function decoderUnsupported(config: ModelConfig): string | undefined {
  const family = familyOf(config);
  const decoder = family.onnx.decoder;
  if (!decoder) return `${family.name} has no decoder graph; it is served by the plain export`;
  const hd = kvCacheShape(family, config).headDim;
  if (hd % 8 !== 0)
    return `onnxruntime's GroupQueryAttention needs a head size that is a multiple of 8; the model's is ${hd}`;
  return decoder.unsupported?.(config);
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
  model: LanguageModel,
  opts: DecoderExportOptions = {},
): { bytes: Uint8Array; widths: Widths; params: number } {
  checkChoice('quantize', opts.quantize, QUANTIZE_CHOICES, true);
  return atWidths(model, opts.widths, (dense, widths) => {
    const why = decoderUnsupported(dense.config);
    if (why) throw new ConfigError(why);
    const config = dense.config;
    const family = familyOf(config);
    const g = new GraphBuilder(17);
    const w = initializerWeights(g, dense);
    const weightData: WeightDataFn = (name) => {
      const t = dense.params[name];
      if (!t) throw new Error(`internal: the graph uses a weight the model lacks: ${name}`);
      return { data: t.dataSync() as Float32Array, shape: t.shape };
    };
    family.onnx.decoder!.build(g, config, w, { ...opts, weightData });
    const bytes = encodeGraph(g, {
      name: `matformer_${config.arch}_decoder`,
      producer: '@matformer/core',
      doc: `${family.name} decoder graph (GroupQueryAttention over a static KV buffer); FFN widths [${storedWidths(config).join(', ')}]`,
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
  model: LanguageModel,
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

export {
  MS,
  QUANTIZE_CHOICES,
  decoderMatmul,
  int8Weight,
  transposedWeight,
  type DecoderGraphOptions,
  type WeightDataFn,
} from './decoder-parts';
export { buildDecoderGraph } from '../models/matlm/decoder';
