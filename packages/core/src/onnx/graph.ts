import {
  AttributeType,
  DataType,
  ModelProto,
  type ModelMsg,
  type AttributeMsg,
  type NodeMsg,
  type TensorMsg,
  type ValueInfoMsg,
} from './schema';

/** An attribute value, tagged with its ONNX type (a JS number alone cannot tell int from float). */
export type Attr = { int: number } | { float: number } | { ints: number[] } | { string: string };

/** A static size or the name of a dynamic axis ("batch", "seq", ...). */
export type Dim = number | string;

function attribute(name: string, a: Attr): AttributeMsg {
  if ('int' in a) return { name, type: AttributeType.INT, i: a.int };
  if ('float' in a) return { name, type: AttributeType.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: AttributeType.INTS, ints: a.ints };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.string) };
}

/** What makes two nodes compute the same values. */
function nodeKey(
  opType: string,
  inputs: string[],
  attrs: Record<string, Attr>,
  o: { count?: number; domain?: string },
): string {
  return JSON.stringify([o.domain ?? '', opType, inputs, attrs, o.count ?? 1]);
}

function valueInfo(name: string, elemType: number, shape: Dim[]): ValueInfoMsg {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a float32 array (the layout TensorProto.raw_data requires); a copy. */
function f32Bytes(data: Float32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(data.slice().buffer);
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/**
 * Builds an ONNX graph node by node in topological order. Value names are unique and
 * readable (`blocks.0/attn/MatMul_12`), so a graph viewer shows where each op comes from.
 */
export class GraphBuilder {
  readonly nodes: NodeMsg[] = [];
  readonly initializers: TensorMsg[] = [];
  readonly inputs: ValueInfoMsg[] = [];
  readonly outputs: ValueInfoMsg[] = [];
  private counter = 0;
  private prefix = '';
  private readonly consts = new Map<string, string>();
  /** Outputs of each node by its nodeKey (with `dedupe`). */
  private readonly built = new Map<string, string[]>();

  /**
   * `contribOps`: the graph may use onnxruntime's fused contrib ops (com.microsoft, e.g. FastGelu)
   * where a layer has one. For graphs only onnxruntime runs (training, scoring); exported files
   * stay standard ONNX, and onnxruntime fuses those itself at load time.
   */
  /**
   * `dedupe`: a node identical to an earlier one (same op, inputs and attributes, outputs not
   * named) is not added again; the earlier outputs are returned. Every op here is a pure
   * function, so a graph that builds several models over shared weights computes their common
   * part once (the training graph's submodels share everything before the first nested layer).
   */
  constructor(
    readonly opset: number,
    readonly o: { contribOps?: boolean; dedupe?: boolean } = {},
  ) {}

  /** Runs `fn` with node names prefixed by `scope` (e.g. "blocks.3/attn"). */
  scope<T>(scope: string, fn: () => T): T {
    const saved = this.prefix;
    this.prefix = saved ? `${saved}/${scope}` : scope;
    try {
      return fn();
    } finally {
      this.prefix = saved;
    }
  }

  /**
   * Adds one node and returns its outputs' names. `outputs` names them explicitly (graph
   * outputs such as "logits"); otherwise `count` fresh names are made. `domain` names an
   * operator set other than the standard one (e.g. 'com.microsoft' for onnxruntime's contrib
   * ops; the file must then import it: `encodeGraph(g, { domains })`). An empty input name
   * leaves an optional input out.
   */
  opN(
    opType: string,
    inputs: string[],
    attrs: Record<string, Attr> = {},
    o: { outputs?: string[]; count?: number; domain?: string } = {},
  ): string[] {
    const key = this.o.dedupe && !o.outputs ? nodeKey(opType, inputs, attrs, o) : undefined;
    const seen = key && this.built.get(key);
    if (seen) return seen;
    const name = `${this.prefix ? `${this.prefix}/` : ''}${opType}_${this.counter++}`;
    const output =
      o.outputs ?? Array.from({ length: o.count ?? 1 }, (_, i) => (i ? `${name}:${i}` : name));
    this.nodes.push({
      name,
      opType,
      input: inputs,
      output,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      ...(o.domain ? { domain: o.domain } : {}),
    });
    if (key) this.built.set(key, output);
    return output;
  }

  /** Adds a single-output node; `output` names it explicitly. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    return this.opN(opType, inputs, attrs, output ? { outputs: [output] } : {})[0];
  }

  /** A float32 weight stored in the file under its checkpoint name. */
  weight(name: string, data: Float32Array, dims: number[]): string {
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: f32Bytes(data) });
    return name;
  }

  /** A float32 constant (deduplicated by value). `dims` [] makes a scalar. */
  f32(values: number[], dims: number[] = [values.length]): string {
    return this.constant('f32', values, dims, () => ({
      dataType: DataType.FLOAT,
      rawData: f32Bytes(Float32Array.from(values)),
    }));
  }

  /** An int64 constant (shapes, axes, indices; deduplicated by value). `dims` [] makes a scalar. */
  i64(values: number[], dims: number[] = [values.length]): string {
    return this.constant('i64', values, dims, () => ({
      dataType: DataType.INT64,
      int64Data: values,
    }));
  }

  private constant(
    kind: string,
    values: number[],
    dims: number[],
    make: () => Pick<TensorMsg, 'dataType' | 'rawData' | 'int64Data'>,
  ): string {
    const key = `${kind}[${dims.join(',')}]:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `const_${kind}_${this.consts.size}`;
      this.initializers.push({ name, dims, ...make() });
      this.consts.set(key, name);
    }
    return name;
  }

  input(name: string, elemType: number, shape: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  output(name: string, elemType: number, shape: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, shape));
  }
}

export interface EncodeOptions {
  name: string;
  producer: string;
  doc?: string;
  /** ONNX IR version (8 goes with opset 17, 9 with opset 20). */
  irVersion?: number;
  /** String metadata stored in the model (metadata_props). */
  metadata?: Record<string, string>;
  /**
   * Extra operator domains the graph uses, e.g. { 'com.microsoft': 1 }; a domain a node names
   * and this leaves out is imported at version 1.
   */
  domains?: Record<string, number>;
}

/** The operator domains a graph imports: those given, and version 1 of any other a node uses. */
function domainsOf(nodes: NodeMsg[], given: Record<string, number> = {}): Record<string, number> {
  const used = nodes.flatMap((n) => (n.domain && !(n.domain in given) ? [n.domain] : []));
  return { ...given, ...Object.fromEntries(used.map((d) => [d, 1])) };
}

/** The ModelProto bytes of a built graph. */
export function encodeGraph(
  g: Pick<GraphBuilder, 'opset' | 'nodes' | 'initializers' | 'inputs' | 'outputs'>,
  o: EncodeOptions,
): Uint8Array {
  const msg: ModelMsg = {
    irVersion: o.irVersion ?? (g.opset >= 20 ? 9 : 8),
    producerName: o.producer,
    docString: o.doc ?? '',
    opsetImport: [
      { domain: '', version: g.opset },
      ...Object.entries(domainsOf(g.nodes, o.domains)).map(([domain, version]) => ({
        domain,
        version,
      })),
    ],
    metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: o.name,
      node: g.nodes,
      initializer: g.initializers,
      input: g.inputs,
      output: g.outputs,
    },
  };
  return ModelProto.encode(msg as never).finish();
}
