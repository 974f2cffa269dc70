import { DataType } from './data-type';
import type { GraphBuilder } from './graph';
import type { WeightFn } from './layers';

// Pieces every family's decoder graph is built from (see lm-decoder.ts for the graph's contract).
// This module imports no model family, so a family's folder can use it.

/** Domain of onnxruntime's contrib ops. */
export const MS = 'com.microsoft';

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

/** Weight data for quantizing (toOnnxDecoder supplies it). */
export type WeightDataFn = (name: string) => { data: Float32Array; shape: number[] };

/**
 * x · W (+ bias) in a decoder graph, where W is the weight `name` [K, N] (or stored [N, K] with
 * `storedT`): float MatMul / FusedMatMul, or int8 DynamicQuantizeMatMul with per-column scales.
 */
export function decoderMatmul(
  g: GraphBuilder,
  w: WeightFn,
  opts: DecoderGraphOptions & { weightData?: WeightDataFn },
): (x: string, name: string, storedT?: boolean, bias?: string) => string {
  const fused = opts.fused ?? true;
  const q8 = opts.quantize === 'int8';
  if (q8 && !opts.weightData) throw new Error('internal: int8 quantization needs weightData');
  return (x, name, storedT = false, bias) => {
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
    else y = g.op('MatMul', [x, transposedWeight(g, w, name)]);
    return bias ? g.op('Add', [y, bias]) : y;
  };
}

/** A weight read transposed (onnxruntime folds the Transpose of a constant). */
export function transposedWeight(g: GraphBuilder, w: WeightFn, name: string): string {
  return g.op('Transpose', [w(name)], { perm: { ints: [1, 0] } });
}

/**
 * Adds weight `name` as int8 [K, N] (transposed from a stored [N, K] with `storedT`), symmetric
 * per output column: scale_n = max_k |W[k, n]| / 127, q = round(W / scale_n); zero points 0.
 */
export function int8Weight(
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
