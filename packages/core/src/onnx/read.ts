import type { ModelConfig } from '../config';
import { validateConfig } from '../models/registry';
import { CheckpointError, MatformerError } from '../errors';
import { ONNX_FORMAT, ONNX_FORMAT_VERSION, metadataKeys } from './metadata';
import { ModelProto } from './schema';
import { readFile } from '../io/files';

/** A graph input or output: its name and shape (numbers are static sizes, strings dynamic axes). */
export interface OnnxValue {
  name: string;
  shape: (number | string)[];
}

/** A checked .onnx file exported by this package. */
export interface OnnxModelFile {
  bytes: Uint8Array;
  config: ModelConfig;
  opset: number;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
}

type Int64 = number | { toNumber(): number };
const num = (x: Int64): number => (typeof x === 'number' ? x : x.toNumber());

interface DecodedValue {
  name: string;
  type?: { tensorType?: { shape?: { dim?: { dimValue?: Int64; dimParam?: string }[] } } };
}
interface DecodedModel {
  graph?: { node?: unknown[]; input?: DecodedValue[]; output?: DecodedValue[] };
  opsetImport?: { domain?: string; version?: Int64 }[];
  metadataProps?: { key: string; value: string }[];
}

function values(list: DecodedValue[] = []): OnnxValue[] {
  return list.map((v) => ({
    name: v.name,
    shape: (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
      d.dimParam ? d.dimParam : d.dimValue !== undefined ? num(d.dimValue) : '?',
    ),
  }));
}

/** Reads an .onnx file written by `exportOnnx`; a missing, truncated or foreign file throws CheckpointError. */
export async function readOnnxFile(path: string): Promise<OnnxModelFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      code === 'ENOENT'
        ? `ONNX file not found: ${path}`
        : `cannot read ONNX file ${path}: ${(e as Error).message}`,
    );
  }
  return parseOnnxModel(bytes, path);
}

/** Decodes and checks ModelProto bytes (see `readOnnxFile`); `source` names them in errors. */
export function parseOnnxModel(bytes: Uint8Array, source = 'ONNX model'): OnnxModelFile {
  if (bytes.length === 0) throw new CheckpointError(`${source} is empty (0 bytes)`);
  let model: DecodedModel;
  try {
    model = ModelProto.decode(bytes) as unknown as DecodedModel;
  } catch (e) {
    throw new CheckpointError(
      `${source} is not a readable ONNX model (truncated or corrupt protobuf: ${(e as Error).message})`,
    );
  }
  if (!model.graph || !model.graph.node?.length) {
    throw new CheckpointError(`${source} holds no ONNX graph (truncated, or not an ONNX file)`);
  }
  const meta = Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key, p.value]));
  if (meta[metadataKeys.format] !== ONNX_FORMAT) {
    throw new CheckpointError(
      `${source} was not exported by @matformer/core/onnx, or is truncated: metadata "${metadataKeys.format}" is ${JSON.stringify(meta[metadataKeys.format])}, expected "${ONNX_FORMAT}"`,
    );
  }
  if (meta[metadataKeys.version] !== ONNX_FORMAT_VERSION) {
    throw new CheckpointError(
      `${source} has graph format version ${meta[metadataKeys.version]}; this library reads version ${ONNX_FORMAT_VERSION}`,
    );
  }
  let config: ModelConfig;
  try {
    config = validateConfig(JSON.parse(meta[metadataKeys.config]) as ModelConfig);
  } catch (e) {
    throw new CheckpointError(
      `${source}: invalid "${metadataKeys.config}" metadata: ${e instanceof MatformerError ? e.message : 'not valid JSON'}`,
    );
  }
  const opset = (model.opsetImport ?? []).find((o) => !o.domain)?.version;
  return {
    bytes,
    config,
    opset: opset === undefined ? 0 : num(opset),
    inputs: values(model.graph.input),
    outputs: values(model.graph.output),
  };
}

/**
 * Checks that a file's graph has exactly the inputs/outputs a runtime feeds and reads, with
 * the static sizes it expects; throws CheckpointError naming the first mismatch.
 */
export function checkSignature(
  file: OnnxModelFile,
  expected: { inputs: OnnxValue[]; outputs: OnnxValue[] },
  source: string,
): void {
  for (const side of ['inputs', 'outputs'] as const) {
    const got = file[side];
    const want = expected[side];
    const names = (l: OnnxValue[]) => l.map((v) => v.name).join(', ');
    if (got.length !== want.length || got.some((v, i) => v.name !== want[i].name)) {
      throw new CheckpointError(
        `${source}: graph ${side} [${names(got)}] do not match the expected [${names(want)}]`,
      );
    }
    got.forEach((v, i) => {
      const w = want[i].shape;
      const bad =
        v.shape.length !== w.length ||
        v.shape.some((d, k) => typeof w[k] === 'number' && d !== w[k]);
      if (bad) {
        throw new CheckpointError(
          `${source}: ${side.slice(0, -1)} "${v.name}" has shape [${v.shape.join(', ')}], expected [${w.join(', ')}]`,
        );
      }
    });
  }
}
