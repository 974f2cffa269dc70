import {
  BLOCK_WEIGHT,
  SKIP,
  storedWidths,
  weightSpecs,
  type ModelConfig,
  type Widths,
} from '@matformer/core';
import {
  createSession,
  DataType,
  encodeGraph,
  GraphBuilder,
  type OrtOptions,
  type WeightFn,
} from '@matformer/core/onnx';
import type * as Ort from 'onnxruntime-node';
import { dependents, differentiate } from './autodiff';
import { LABELS, modelInput, modelLogits } from './families';
import { GraphError, type NodeLike } from './graph-error';
import { nonDifferentiable } from './vjp-rules';

/** Graph names of a training or scoring graph's inputs and outputs. */
export const io = {
  labels: LABELS,
  lambdas: 'lambdas',
  loss: (i: number) => `loss_${i}`,
  logits: (i: number) => `logits_${i}`,
  grad: (name: string) => `grad.${name}`,
};

/**
 * The weights of one nested submodel: layer l's FFN reads the first widths[l] hidden units of
 * each nested weight along its `nested` axis (a Slice of the parameter input, whose gradient
 * pads back with zeros).
 */
function nestedWeights(g: GraphBuilder, config: ModelConfig, widths: Widths): WeightFn {
  const stored = storedWidths(config);
  const specs = weightSpecs(config);
  widths.forEach((m, l) => {
    if (m === SKIP)
      throw new GraphError(`training graphs cannot skip layers (layer ${l} has width 0)`);
  });
  const sliced = new Map<string, string>();
  return (name) => {
    const axis = specs[name]?.nested;
    const layer = BLOCK_WEIGHT.exec(name);
    if (axis === undefined || !layer || widths[+layer[1]] === stored[+layer[1]]) return name;
    const m = widths[+layer[1]];
    if (!sliced.has(name))
      sliced.set(name, g.op('Slice', [name, g.i64([0]), g.i64([m]), g.i64([axis])])); // m along axis
    return sliced.get(name)!;
  };
}

/** Declares every parameter as a float input, in weightSpecs (checkpoint) order. */
function parameterInputs(g: GraphBuilder, config: ModelConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const [name, { shape }] of Object.entries(weightSpecs(config))) {
    g.input(name, DataType.FLOAT, shape);
    shapes.set(name, shape);
  }
  return shapes;
}

/**
 * Forward graph of every submodel on one batch: loss_i (mean cross-entropy of submodel i) and,
 * with `logits`, logits_i [rows, classes]. Shapes stay dynamic: it scores any batch size.
 */
export function buildScoreGraph(
  config: ModelConfig,
  submodels: Widths[],
  o: { logits?: boolean; fusedOps?: boolean } = {},
): Uint8Array {
  const g = new GraphBuilder(17, { contribOps: o.fusedOps ?? true, dedupe: true });
  parameterInputs(g, config);
  const spec = modelInput(config);
  const input = g.input(spec.name, spec.elemType, spec.shape);
  const labels = g.input(io.labels, DataType.INT64, ['targets']);
  submodels.forEach((widths, i) => {
    const logits = modelLogits(g, config, nestedWeights(g, config, widths), input);
    g.op(
      'SoftmaxCrossEntropyLoss',
      [logits, labels],
      { reduction: { string: 'mean' } },
      io.loss(i),
    );
    g.output(io.loss(i), DataType.FLOAT, []);
    if (o.logits) {
      g.op('Identity', [logits], {}, io.logits(i));
      g.output(io.logits(i), DataType.FLOAT, ['targets', 'classes']);
    }
  });
  return encodeGraph(g, { name: `matformer_${config.arch}_score`, producer: '@matformer/train' });
}

export interface TrainGraphSpec {
  config: ModelConfig;
  submodels: Widths[];
  /** Static shape of the model input (the batch), e.g. [B, T] or [B, S, S, Ch]. */
  inputShape: number[];
  /** Number of targets in a batch (B·T for a language model, B for images). */
  targets: number;
  /** onnxruntime's fused contrib ops where a layer has one (default true); false: standard ops only. */
  fusedOps?: boolean;
}

/**
 * The joint training graph: inputs are the parameters, a batch and λ [k]; outputs are each
 * submodel's loss (loss_i) and the gradient of Σ λ_i·loss_i w.r.t. every parameter
 * (grad.<name>). The forward part is the family's own forward graph, the backward part is
 * derived from it by `appendBackward`. Static shapes, read off one run of the forward part
 * (`probe` feeds a batch of the right shape), let the backward pass sum out broadcasts.
 */
export async function buildTrainGraph(
  spec: TrainGraphSpec,
  probe: (bytes: Uint8Array, outputs: string[]) => Promise<Map<string, number[]>>,
): Promise<Uint8Array> {
  const { config, submodels } = spec;
  const g = new GraphBuilder(17, { contribOps: spec.fusedOps ?? true, dedupe: true });
  const shapes = parameterInputs(g, config);
  const inputSpec = modelInput(config);
  const input = g.input(inputSpec.name, inputSpec.elemType, spec.inputShape);
  const labels = g.input(io.labels, DataType.INT64, [spec.targets]);
  const lambdas = g.input(io.lambdas, DataType.FLOAT, [submodels.length]);
  const params = [...shapes.keys()];
  // Every submodel's forward pass. Identical nodes are built once (dedupe), so the submodels
  // share whatever comes before their first nested layer (the embedding and the first
  // attention): computed once, and differentiated once below.
  const losses = submodels.map((widths, i) =>
    g.scope(`submodel_${i}`, () => {
      const logits = modelLogits(g, config, nestedWeights(g, config, widths), input);
      const loss = g.op(
        'SoftmaxCrossEntropyLoss',
        [logits, labels],
        { reduction: { string: 'mean' } },
        io.loss(i),
      ); // []
      const lambda = g.op('Gather', [lambdas, g.i64([i], [])], { axis: { int: 0 } }); // []
      return g.op('Mul', [loss, lambda]); // λ_i · L_i
    }),
  );
  g.o.dedupe = false; // the backward nodes must stay in their own section of the order below
  const { shared, own } = partition(g.nodes, losses);
  const fromParams = dependents(g.nodes, params);
  const probeFn = (outputs: string[]) => probe(probeGraph(g, outputs), outputs);
  // Submodel by submodel, its own forward then its backward down to the shared part, as the
  // official MatLM loop does: in that node order onnxruntime frees one submodel's activations
  // before the next forward (peak memory of one submodel's graph, not g of them).
  const sections: NodeLike[][] = [g.nodes.filter((n) => shared.has(n))];
  const parts: Record<string, string>[] = [];
  const boundaryGrads = new Map<string, string[]>();
  for (const [i, loss] of losses.entries()) {
    const boundary = boundaryOf(own[i], shared, fromParams);
    const before = g.nodes.length;
    const grads = await differentiate(g, loss, [...params, ...boundary], shapes, probeFn, {
      cut: shared,
      reachedOnly: true,
    });
    sections.push([...own[i], ...g.nodes.slice(before)]);
    parts.push(grads);
    for (const b of boundary)
      if (grads[b]) boundaryGrads.set(b, [...(boundaryGrads.get(b) ?? []), grads[b]]);
  }
  if (boundaryGrads.size) {
    // The shared part's backward, once, from the sum of the submodels' gradients at its edge.
    const before = g.nodes.length;
    const seeds = new Map(
      [...boundaryGrads].map(([b, d]) => [b, d.length > 1 ? g.op('Sum', d) : d[0]]),
    );
    parts.push(
      await differentiate(g, [...seeds.keys()], params, shapes, probeFn, {
        seeds,
        reachedOnly: true,
      }),
    );
    sections.push(g.nodes.slice(before));
  }
  const tailStart = g.nodes.length;
  const grads = Object.fromEntries(
    params.map((p) => {
      const d = parts.flatMap((part) => (part[p] ? [part[p]] : []));
      if (!d.length) return [p, g.op('ConstantOfShape', [g.i64(shapes.get(p)!)])];
      return [p, d.length > 1 ? g.op('Sum', d) : d[0]];
    }),
  );
  submodels.forEach((_, i) => g.output(io.loss(i), DataType.FLOAT, []));
  for (const p of params) {
    g.op('Identity', [grads[p]], {}, io.grad(p));
    g.output(io.grad(p), DataType.FLOAT, shapes.get(p)!);
  }
  // The final order; forward nodes no loss reads (e.g. the logits' [B, T, V] shape) are dropped.
  g.nodes.splice(0, g.nodes.length, ...sections.flat(), ...g.nodes.slice(tailStart));
  return encodeGraph(g, { name: `matformer_${config.arch}_train`, producer: '@matformer/train' });
}

/** The producer of each value. */
function producers(nodes: NodeLike[]): Map<string, NodeLike> {
  return new Map(nodes.flatMap((n) => n.output.map((o) => [o, n] as const)));
}

/**
 * Splits forward nodes by the losses that read them: `shared` by two or more, `own[i]` by
 * loss i alone (in graph order).
 */
function partition(
  nodes: NodeLike[],
  losses: string[],
): { shared: Set<NodeLike>; own: NodeLike[][] } {
  const producer = producers(nodes);
  const readers = new Map<NodeLike, number>();
  const ancestors = losses.map((loss) => {
    const seen = new Set<NodeLike>();
    const stack = [loss];
    while (stack.length) {
      const n = producer.get(stack.pop()!);
      if (!n || seen.has(n)) continue;
      seen.add(n);
      stack.push(...n.input);
    }
    seen.forEach((n) => readers.set(n, (readers.get(n) ?? 0) + 1));
    return seen;
  });
  const shared = new Set(nodes.filter((n) => (readers.get(n) ?? 0) > 1));
  return { shared, own: ancestors.map((a) => nodes.filter((n) => a.has(n) && !shared.has(n))) };
}

/** The shared values a submodel's own nodes read, and whose gradient matters (they depend on a parameter). */
function boundaryOf(own: NodeLike[], shared: Set<NodeLike>, fromParams: Set<string>): string[] {
  const sharedValues = new Set([...shared].flatMap((n) => n.output));
  const read = own.flatMap((n) => (nonDifferentiable.has(n.opType) ? [] : n.input));
  return [...new Set(read.filter((v) => sharedValues.has(v) && fromParams.has(v)))];
}

/** The graph so far with `outputs` (float values of any shape) as its outputs, for a probe run. */
export function probeGraph(g: GraphBuilder, outputs: string[]): Uint8Array {
  // Only the nodes the outputs depend on: earlier submodels' passes need not run again.
  const wanted = new Set(outputs);
  const nodes: GraphBuilder['nodes'] = [];
  for (const n of [...g.nodes].reverse()) {
    if (!n.output.some((o) => wanted.has(o))) continue;
    nodes.unshift(n);
    n.input.forEach((i) => wanted.add(i));
  }
  const untyped = (name: string) =>
    ({
      name,
      type: { tensorType: { elemType: DataType.FLOAT } },
    }) as GraphBuilder['outputs'][number];
  return encodeGraph(
    { ...g, nodes, outputs: outputs.map(untyped) },
    { name: 'probe', producer: '@matformer/train' },
  );
}

/** Runs a probe graph once on `feeds` (a batch of shape `batchShape`) and returns the shape of each requested output. */
export async function probeShapes(
  bytes: Uint8Array,
  outputs: string[],
  feeds: Record<string, Ort.Tensor>,
  opts: OrtOptions,
  batchShape: readonly number[],
): Promise<Map<string, number[]>> {
  let session: Ort.InferenceSession | undefined;
  try {
    session = await createSession(bytes, 'the training graph (shape probe)', opts);
    const out = await session.run(feeds, outputs);
    return new Map(outputs.map((o) => [o, [...out[o].dims]]));
  } catch (e) {
    throw new GraphError(
      `the training graph cannot be built for a batch of shape [${batchShape.join(', ')}]: ${(e as Error).message.split('\n')[0]}`,
    );
  } finally {
    await session?.release();
  }
}
