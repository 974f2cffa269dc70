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
import { differentiate } from './autodiff';
import { LABELS, modelInput, modelLogits } from './families';
import { GraphError } from './graph-error';

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
  const g = new GraphBuilder(17, { contribOps: o.fusedOps ?? true });
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
  const g = new GraphBuilder(17, { contribOps: spec.fusedOps ?? true });
  const shapes = parameterInputs(g, config);
  const inputSpec = modelInput(config);
  const input = g.input(inputSpec.name, inputSpec.elemType, spec.inputShape);
  const labels = g.input(io.labels, DataType.INT64, [spec.targets]);
  const lambdas = g.input(io.lambdas, DataType.FLOAT, [submodels.length]);
  const params = [...shapes.keys()];
  // Submodel by submodel, forward then backward, as the official MatLM loop does: the nodes stay
  // in that order, so onnxruntime frees one submodel's activations before the next forward
  // (peak memory of one submodel's graph, not g of them). Gradients add up at the end.
  const perSubmodel: Record<string, string>[] = [];
  for (const [i, widths] of submodels.entries()) {
    const weighted = g.scope(`submodel_${i}`, () => {
      const logits = modelLogits(g, config, nestedWeights(g, config, widths), input);
      const loss = g.op(
        'SoftmaxCrossEntropyLoss',
        [logits, labels],
        { reduction: { string: 'mean' } },
        io.loss(i),
      ); // []
      const lambda = g.op('Gather', [lambdas, g.i64([i], [])], { axis: { int: 0 } }); // []
      return g.op('Mul', [loss, lambda]); // λ_i · L_i
    });
    perSubmodel.push(
      await differentiate(g, weighted, params, shapes, (outputs) =>
        probe(probeGraph(g, outputs), outputs),
      ),
    );
  }
  const grads = Object.fromEntries(
    params.map((p) => {
      const parts = perSubmodel.map((d) => d[p]);
      return [p, parts.length > 1 ? g.op('Sum', parts) : parts[0]];
    }),
  );
  submodels.forEach((_, i) => g.output(io.loss(i), DataType.FLOAT, []));
  for (const p of params) {
    g.op('Identity', [grads[p]], {}, io.grad(p));
    g.output(io.grad(p), DataType.FLOAT, shapes.get(p)!);
  }
  return encodeGraph(g, { name: `matformer_${config.arch}_train`, producer: '@matformer/train' });
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
