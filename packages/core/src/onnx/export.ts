import { storedWidths, type Widths } from '../config';
import { ConfigError } from '../errors';
import { extract } from '../extract';
import { checkWritablePath, writeFileAtomic } from '../io/files';
import { familyOf, type AnyModel } from '../models/registry';
import { encodeGraph, GraphBuilder } from './graph';
import type { WeightFn } from './layers';
import { exportMetadata } from './metadata';

/** Opsets the exporter writes: 17 (default, widest runtime support) or 20 (native tanh Gelu). */
export const supportedOpsets = [17, 20] as const;
export type Opset = (typeof supportedOpsets)[number];

/** IR version that goes with each opset (the ONNX versioning table). */
const irVersionFor: Record<Opset, number> = { 17: 8, 20: 9 };

/** Protobuf messages cannot exceed 2 GiB; larger models would need ONNX external data. */
const MAX_PROTO_BYTES = 2 ** 31 - 1;

export interface OnnxExportOptions {
  /**
   * Per-layer FFN widths to extract before export (a number = every layer; 0 skips a layer);
   * default: the widths the model stores (the full model, or what an earlier `extract` kept).
   */
  widths?: number | Widths;
  /** ONNX opset: 17 (default, widest runtime support) or 20 (the native tanh Gelu op). */
  opset?: Opset;
}

export interface OnnxExportInfo {
  /** Size of the .onnx file in bytes. */
  bytes: number;
  /** Weights stored in the file (elements), as `paramCount` counts them. */
  params: number;
  /** FFN width of each layer of the source model (0 = skipped: not in the exported graph). */
  widths: Widths;
  opset: Opset;
}

/** The ONNX ModelProto bytes of a model of any family (extracted at `widths` first if given). */
export function toOnnx(
  model: AnyModel,
  opts: OnnxExportOptions = {},
): { bytes: Uint8Array; info: OnnxExportInfo } {
  const opset = opts.opset ?? 17;
  if (!supportedOpsets.includes(opset)) {
    throw new ConfigError(
      `opset must be one of ${supportedOpsets.join(', ')}, got ${JSON.stringify(opts.opset)}`,
    );
  }
  return atWidths(model, opts.widths, (dense, widths) => {
    const bytes = encode(dense, opset);
    return { bytes, info: { bytes: bytes.length, params: dense.storedParamCount, widths, opset } };
  });
}

/**
 * Runs `fn` on the model at `widths` (ConfigError when they do not fit): the model itself when
 * they are the ones it stores, else a dense `extract` of it, disposed afterwards.
 */
export function atWidths<M extends AnyModel, T>(
  model: M,
  widths: number | Widths | undefined,
  fn: (dense: M, widths: Widths) => T,
): T {
  const stored = storedWidths(model.config);
  const resolved = model.resolveWidths(widths);
  const dense = resolved.every((m, l) => m === stored[l]) ? model : extract(model, resolved);
  try {
    return fn(dense, resolved);
  } finally {
    if (dense !== model) dense.dispose();
  }
}

/** A WeightFn that stores each weight of `model` as an initializer of `g` on first use. */
export function initializerWeights(g: GraphBuilder, model: AnyModel): WeightFn {
  const added = new Set<string>();
  return (name) => {
    if (!added.has(name)) {
      const t = model.params[name];
      if (!t) throw new Error(`internal: the graph uses a weight the model lacks: ${name}`);
      g.weight(name, t.dataSync() as Float32Array, t.shape);
      added.add(name);
    }
    return name;
  };
}

/**
 * Writes a model of any family as an .onnx file (atomically: the old file or the complete new one).
 * Throws ConfigError if `widths` do not fit the model.
 */
export async function exportOnnx(
  model: AnyModel,
  path: string,
  opts: OnnxExportOptions = {},
): Promise<OnnxExportInfo> {
  checkWritablePath(path); // a device, FIFO or directory fails before the model is encoded
  const { bytes, info } = toOnnx(model, opts);
  await writeFileAtomic(path, bytes);
  return info;
}

function encode(model: AnyModel, opset: Opset): Uint8Array {
  const weightBytes = model.storedParamCount * 4;
  if (weightBytes > MAX_PROTO_BYTES) {
    throw new ConfigError(
      `model weights take ${weightBytes} bytes; a single .onnx file holds at most 2 GiB (external data is not supported)`,
    );
  }
  const g = new GraphBuilder(opset);
  const config = model.config;
  familyOf(config).onnx.build(g, config, initializerWeights(g, model));

  return encodeGraph(g, {
    name: `matformer_${config.arch}`,
    producer: '@matformer/core',
    doc: `MatFormer ${config.arch} exported by @matformer/core; FFN widths [${storedWidths(config).join(', ')}]`,
    irVersion: irVersionFor[opset],
    metadata: exportMetadata(config),
  });
}
