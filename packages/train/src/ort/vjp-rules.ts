import { MS, type GraphBuilder } from '@matformer/core/onnx';
import { GraphError, type NodeLike } from './graph-error';

/** What a rule sees of one forward node while the backward pass is built. */
export interface VjpArgs {
  g: GraphBuilder;
  node: NodeLike;
  /** Gradient of the loss w.r.t. each output (undefined where none flows). */
  dy: (string | undefined)[];
  /** Whether input i needs a gradient (it lies on a path from a parameter to the loss). */
  needs: boolean[];
  /** Static shape of a forward value (every value on the differentiable path has one). */
  shape(value: string): number[];
  /** The values of a constant (an initializer), or undefined if the value is computed. */
  constant(value: string): number[] | undefined;
}

export interface VjpRule {
  /** Outputs the forward node must expose for the rule (e.g. LayerNormalization's mean, 1/σ). */
  outputs?: number;
  /** Gradient of each input (undefined where none is needed). */
  vjp(a: VjpArgs): (string | undefined)[];
}

type Attrs = NodeLike['attribute'];
const attr = (attrs: Attrs, name: string) => attrs.find((x) => x.name === name);
const int = (n: NodeLike, name: string, dflt: number) => attr(n.attribute, name)?.i ?? dflt;
const ints = (n: NodeLike, name: string) => attr(n.attribute, name)?.ints;
const str = (n: NodeLike, name: string) => {
  const s = attr(n.attribute, name)?.s;
  return s ? new TextDecoder().decode(s) : undefined;
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function unsupported(n: NodeLike, what: string): never {
  throw new GraphError(`no gradient rule for ${n.opType} with ${what} (node ${n.name})`);
}

/** GELU's u = x·(c₁ + c₂·x²) = 2·√(2/π)·(x + 0.044715·x³). */
const GELU_C1 = 2 * Math.sqrt(2 / Math.PI);
const GELU_C2 = GELU_C1 * 0.044715;

/** ReduceSum over `axes`, dropping them (opset ≥ 13: axes are an input). */
function reduceSum(g: GraphBuilder, x: string, axes: number[], keep = false): string {
  return g.op('ReduceSum', [x, g.i64(axes)], { keepdims: { int: keep ? 1 : 0 } });
}

/** ReduceMean keeping the reduced axes (axes are an attribute before opset 18, an input from it). */
function reduceMeanKeep(g: GraphBuilder, x: string, axes: number[]): string {
  return g.opset >= 18
    ? g.op('ReduceMean', [x, g.i64(axes)], { keepdims: { int: 1 } })
    : g.op('ReduceMean', [x], { axes: { ints: axes }, keepdims: { int: 1 } });
}

/**
 * The gradient of a value broadcast from shape `to` up to `from`: sum over the axes that
 * broadcasting added (leading ones) or stretched (size 1 in `to`), then restore `to`'s shape.
 */
export function unbroadcast(g: GraphBuilder, d: string, from: number[], to: number[]): string {
  const lead = from.length - to.length;
  const axes = [
    ...range(lead),
    ...to.flatMap((n, i) => (n === 1 && from[lead + i] !== 1 ? [lead + i] : [])),
  ];
  if (!axes.length) return d;
  const summed = reduceSum(g, d, axes);
  const kept = from.filter((_, i) => !axes.includes(i));
  return kept.join() === to.join() ? summed : g.op('Reshape', [summed, g.i64(to)]);
}

/** Transposes the last two axes of a value of rank r. */
function swapLast(g: GraphBuilder, x: string, r: number): string {
  const perm = [...range(r - 2), r - 1, r - 2];
  return g.op('Transpose', [x], { perm: { ints: perm } });
}

/** Zero-pads `d` back to `full` around the block [begin, begin + d's extent) on each axis. */
function padTo(g: GraphBuilder, d: string, begin: number[], dShape: number[], full: number[]) {
  const end = full.map((n, i) => n - begin[i] - dShape[i]);
  if ([...begin, ...end].every((p) => p === 0)) return d;
  return g.op('Pad', [d, g.i64([...begin, ...end])]);
}

/**
 * Vector–Jacobian products keyed by ONNX op type (opset 17 semantics): given the gradient of
 * a node's outputs, the gradient of each input that needs one. Each rule is checked against
 * finite differences in vjp-rules.test.ts.
 */
export const vjpRules: Record<string, VjpRule> = {
  Identity: { vjp: ({ dy }) => [dy[0]] },
  Add: {
    vjp: ({ g, node: n, dy: [d], needs, shape }) =>
      n.input.map((x, i) =>
        needs[i] ? unbroadcast(g, d!, shape(n.output[0]), shape(x)) : undefined,
      ),
  },
  Sum: {
    vjp: ({ g, node: n, dy: [d], needs, shape }) =>
      n.input.map((x, i) =>
        needs[i] ? unbroadcast(g, d!, shape(n.output[0]), shape(x)) : undefined,
      ),
  },
  Sub: {
    vjp: ({ g, node: n, dy: [d], needs, shape }) => {
      const out = shape(n.output[0]);
      return [
        needs[0] ? unbroadcast(g, d!, out, shape(n.input[0])) : undefined,
        needs[1] ? unbroadcast(g, g.op('Neg', [d!]), out, shape(n.input[1])) : undefined,
      ];
    },
  },
  Mul: {
    // d(a·b) = b·da + a·db
    vjp: ({ g, node: n, dy: [d], needs, shape }) => {
      const [a, b] = n.input;
      const out = shape(n.output[0]);
      return [
        needs[0] ? unbroadcast(g, g.op('Mul', [d!, b]), out, shape(a)) : undefined,
        needs[1] ? unbroadcast(g, g.op('Mul', [d!, a]), out, shape(b)) : undefined,
      ];
    },
  },
  Div: {
    // d(a/b) = da/b − (a/b)·db/b
    vjp: ({ g, node: n, dy: [d], needs, shape }) => {
      const [a, b] = n.input;
      const out = shape(n.output[0]);
      const dOverB = g.op('Div', [d!, b]);
      return [
        needs[0] ? unbroadcast(g, dOverB, out, shape(a)) : undefined,
        needs[1]
          ? unbroadcast(g, g.op('Neg', [g.op('Mul', [dOverB, n.output[0]])]), out, shape(b))
          : undefined,
      ];
    },
  },
  Neg: { vjp: ({ g, dy: [d] }) => [g.op('Neg', [d!])] },
  Sqrt: {
    // d√x = 1 / (2√x)
    vjp: ({ g, node: n, dy: [d] }) => [
      g.op('Div', [g.op('Mul', [d!, g.f32([0.5], [])]), n.output[0]]),
    ],
  },
  Sigmoid: {
    // dσ = σ·(1 − σ)
    vjp: ({ g, node: n, dy: [d] }) => {
      const y = n.output[0];
      return [g.op('Mul', [d!, g.op('Mul', [y, g.op('Sub', [g.f32([1], []), y])])])];
    },
  },
  Tanh: {
    // d tanh = 1 − tanh²
    vjp: ({ g, node: n, dy: [d] }) => {
      const y = n.output[0];
      return [g.op('Mul', [d!, g.op('Sub', [g.f32([1], []), g.op('Mul', [y, y])])])];
    },
  },
  FastGelu: {
    // onnxruntime's fused tanh GELU (com.microsoft), y = gelu(x + bias). With 0.5·(1 + tanh z) =
    // σ(2z): y = x·σ(u), u = x·(c₁ + c₂·x²), so dy/dx = σ(u) + y·(1 − σ(u))·(c₁ + 3c₂·x²). The
    // kernel keeps no intermediates, so σ(u) is recomputed from x: 12 passes over [N, m], against
    // some 23 for the spelled-out GELU's forward and chain-rule backward.
    vjp: ({ g, node: n, dy: [d], needs, shape }) => {
      if (n.domain !== MS) unsupported(n, `domain ${n.domain ?? '(standard)'}`);
      const [input, bias] = n.input;
      const x = bias ? g.op('Add', [input, bias]) : input;
      const y = n.output[0];
      const x2 = g.op('Mul', [x, x]);
      const u = g.op('Mul', [
        x,
        g.op('Add', [g.op('Mul', [x2, g.f32([GELU_C2], [])]), g.f32([GELU_C1], [])]),
      ]);
      const s = g.op('Sigmoid', [u]);
      const du = g.op('Add', [g.op('Mul', [x2, g.f32([3 * GELU_C2], [])]), g.f32([GELU_C1], [])]); // du/dx
      const r = g.op('Sub', [y, g.op('Mul', [y, s])]); // y·(1 − σ)
      const dx = g.op('Mul', [d!, g.op('Add', [s, g.op('Mul', [r, du])])]);
      return [
        needs[0] ? dx : undefined,
        bias && needs[1] ? unbroadcast(g, dx, shape(y), shape(bias)) : undefined,
      ];
    },
  },
  Softmax: {
    // dx = y · (dy − Σ_axis dy·y)
    vjp: ({ g, node: n, dy: [d] }) => {
      const y = n.output[0];
      const axis = int(n, 'axis', -1);
      const dot = reduceSum(g, g.op('Mul', [d!, y]), [axis], true);
      return [g.op('Mul', [y, g.op('Sub', [d!, dot])])];
    },
  },
  Reshape: {
    vjp: ({ g, node: n, dy: [d], shape }) => [g.op('Reshape', [d!, g.i64(shape(n.input[0]))])],
  },
  Transpose: {
    vjp: ({ g, node: n, dy: [d], shape }) => {
      const r = shape(n.input[0]).length;
      const perm = ints(n, 'perm') ?? range(r).reverse();
      const inverse = range(r).map((i) => perm.indexOf(i));
      return [g.op('Transpose', [d!], { perm: { ints: inverse } })];
    },
  },
  MatMul: {
    // Y = A·B (batched over leading axes): dA = dY·Bᵀ, dB = Aᵀ·dY.
    vjp: ({ g, node: n, dy: [d], needs, shape }) => {
      const [a, b] = n.input;
      const [ra, rb] = [shape(a).length, shape(b).length];
      if (ra < 2 || rb < 2) unsupported(n, 'a rank-1 operand');
      const out = shape(n.output[0]);
      const full = (x: string) => [...out.slice(0, -2), ...shape(x).slice(-2)];
      return [
        needs[0]
          ? unbroadcast(g, g.op('MatMul', [d!, swapLast(g, b, rb)]), full(a), shape(a))
          : undefined,
        needs[1]
          ? unbroadcast(g, g.op('MatMul', [swapLast(g, a, ra), d!]), full(b), shape(b))
          : undefined,
      ];
    },
  },
  Gemm: {
    // Y = A·op(B) + C with op(B) = B or Bᵀ; the transposes stay flags, never copies.
    vjp: ({ g, node: n, dy: [d], needs, shape }) => {
      if (int(n, 'transA', 0) !== 0) unsupported(n, 'transA=1');
      const alpha = attr(n.attribute, 'alpha')?.f ?? 1;
      const beta = attr(n.attribute, 'beta')?.f ?? 1;
      if (alpha !== 1 || beta !== 1) unsupported(n, 'alpha or beta ≠ 1');
      const transB = int(n, 'transB', 0) === 1;
      const [a, b, c] = n.input;
      const t = { int: 1 };
      return [
        // dA = dY·op(B)ᵀ
        needs[0] ? g.op('Gemm', [d!, b], transB ? {} : { transB: t }) : undefined,
        // dB = Aᵀ·dY, or (Aᵀ·dY)ᵀ = dYᵀ·A when B is stored transposed
        needs[1] ? g.op('Gemm', transB ? [d!, a] : [a, d!], { transA: t }) : undefined,
        c && needs[2] ? unbroadcast(g, d!, shape(n.output[0]), shape(c)) : undefined,
      ];
    },
  },
  LayerNormalization: {
    // Uses the node's saved mean and 1/σ (outputs 1 and 2); x̂ = (x − μ)/σ, g = dy·γ:
    // dx = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ dy·x̂, dβ = Σ dy over the leading axes.
    outputs: 3,
    vjp: ({ g, node: n, dy: [d], needs, shape }) => {
      const [x, scale, bias] = n.input;
      const r = shape(x).length;
      const axis = int(n, 'axis', -1);
      if (axis !== -1 && axis !== r - 1) unsupported(n, `axis=${axis} (only the last axis)`);
      const [, mean, invStd] = n.output;
      const xhat = g.op('Mul', [g.op('Sub', [x, mean]), invStd]);
      const lead = range(r - 1);
      let dx: string | undefined;
      if (needs[0]) {
        const gx = g.op('Mul', [d!, scale]);
        const centred = g.op('Sub', [gx, reduceMeanKeep(g, gx, [-1])]);
        const proj = g.op('Mul', [xhat, reduceMeanKeep(g, g.op('Mul', [gx, xhat]), [-1])]);
        dx = g.op('Mul', [invStd, g.op('Sub', [centred, proj])]);
      }
      return [
        dx,
        needs[1] ? reduceSum(g, g.op('Mul', [d!, xhat]), lead) : undefined,
        bias && needs[2] ? reduceSum(g, d!, lead) : undefined,
      ];
    },
  },
  Gather: {
    vjp: ({ g, node: n, dy: [d], shape, constant }) => {
      const [x, indices] = n.input;
      const xs = shape(x);
      const axis = (int(n, 'axis', 0) + xs.length) % xs.length;
      const idx = constant(indices);
      const scalarIdx = g.initializers.find((t) => t.name === indices)?.dims.length === 0;
      if (idx && scalarIdx) {
        // One slice taken out: put it back in place, zeros elsewhere.
        const i = (idx[0] + xs[axis]) % xs[axis];
        const slab = g.op('Unsqueeze', [d!, g.i64([axis])]);
        const begin = xs.map((_, k) => (k === axis ? i : 0));
        const slabShape = xs.map((s, k) => (k === axis ? 1 : s));
        return [padTo(g, slab, begin, slabShape, xs)];
      }
      if (axis !== 0) unsupported(n, `axis=${axis} and non-constant indices`);
      // Rows picked (possibly repeatedly, as tokens are): scatter-add them into zeros.
      const zeros = g.op('ConstantOfShape', [g.i64(xs)]);
      const where = g.op('Unsqueeze', [indices, g.i64([-1])]);
      return [g.op('ScatterND', [zeros, where, d!], { reduction: { string: 'add' } })];
    },
  },
  Concat: {
    vjp: ({ g, node: n, dy: [d], needs, shape }) => {
      const out = shape(n.output[0]);
      const axis = (int(n, 'axis', 0) + out.length) % out.length;
      let offset = 0;
      return n.input.map((x, i) => {
        const size = shape(x)[axis];
        const start = offset;
        offset += size;
        if (!needs[i]) return undefined;
        return g.op('Slice', [d!, g.i64([start]), g.i64([start + size]), g.i64([axis])]);
      });
    },
  },
  Slice: {
    vjp: ({ g, node: n, dy: [d], shape, constant }) => {
      const [x, startsV, endsV, axesV, stepsV] = n.input;
      const xs = shape(x);
      const starts = constant(startsV);
      const ends = constant(endsV);
      const axes = axesV ? constant(axesV) : range(starts?.length ?? 0);
      const steps = stepsV ? constant(stepsV) : undefined;
      if (!starts || !ends || !axes) unsupported(n, 'computed starts, ends or axes');
      if (steps?.some((s) => s !== 1)) unsupported(n, 'steps ≠ 1');
      const begin = xs.map(() => 0);
      axes.forEach((a, k) => {
        const ax = (a + xs.length) % xs.length;
        const s = starts[k] < 0 ? starts[k] + xs[ax] : starts[k];
        begin[ax] = Math.min(Math.max(s, 0), xs[ax]);
      });
      return [padTo(g, d!, begin, shape(n.output[0]), xs)];
    },
  },
  Split: {
    // The pieces' gradients side by side again; a piece no gradient reached contributes zeros.
    vjp: ({ g, node: n, dy, shape, constant }) => {
      const xs = shape(n.input[0]);
      const axis = (int(n, 'axis', 0) + xs.length) % xs.length;
      const sizes = n.input[1]
        ? constant(n.input[1])
        : n.output.map(() => xs[axis] / n.output.length);
      if (!sizes || sizes.some((k) => !Number.isInteger(k)))
        unsupported(n, 'computed or uneven sizes');
      const zeros = (i: number) =>
        g.op('ConstantOfShape', [g.i64(xs.map((d, a) => (a === axis ? sizes[i] : d)))]);
      const parts = n.output.map((_, i) => dy[i] ?? zeros(i));
      return [parts.length > 1 ? g.op('Concat', parts, { axis: { int: axis } }) : parts[0]];
    },
  },
  Squeeze: {
    vjp: ({ g, node: n, dy: [d], shape }) => [g.op('Reshape', [d!, g.i64(shape(n.input[0]))])],
  },
  Unsqueeze: {
    vjp: ({ g, node: n, dy: [d], shape }) => [g.op('Reshape', [d!, g.i64(shape(n.input[0]))])],
  },
  Expand: {
    vjp: ({ g, node: n, dy: [d], shape }) => [
      unbroadcast(g, d!, shape(n.output[0]), shape(n.input[0])),
    ],
  },
  ReduceSum: {
    // Every reduced element gets the gradient of its sum (opset 13: axes are an input).
    vjp: ({ g, node: n, dy: [d], shape, constant }) => {
      const xs = shape(n.input[0]);
      const given = n.input[1] ? constant(n.input[1]) : [];
      if (!given) unsupported(n, 'computed axes');
      const axes = given.length ? given.map((a) => (a + xs.length) % xs.length) : range(xs.length);
      const kept = int(n, 'keepdims', 1)
        ? d!
        : g.op('Reshape', [d!, g.i64(xs.map((s, i) => (axes.includes(i) ? 1 : s)))]);
      return [g.op('Expand', [kept, g.i64(xs)]), undefined];
    },
  },
  ReduceMean: {
    vjp: ({ g, node: n, dy: [d], shape, constant }) => {
      const xs = shape(n.input[0]);
      const axesList = (ints(n, 'axes') ?? (n.input[1] ? constant(n.input[1]) : undefined))?.map(
        (a) => (a + xs.length) % xs.length,
      );
      if (!axesList) unsupported(n, 'reduction over every axis');
      const count = axesList.reduce((p, a) => p * xs[a], 1);
      const kept = int(n, 'keepdims', 1) ? d! : g.op('Unsqueeze', [d!, g.i64(axesList)]);
      return [g.op('Expand', [g.op('Mul', [kept, g.f32([1 / count], [])]), g.i64(xs)])];
    },
  },
  SoftmaxCrossEntropyLoss: {
    // Mean over N rows of −log softmax(logits)[label]: dlogits = (softmax − onehot(label))·dy/N.
    outputs: 2,
    vjp: ({ g, node: n, dy: [d], shape }) => {
      if (n.input.length > 2) unsupported(n, 'class weights');
      if ((str(n, 'reduction') ?? 'mean') !== 'mean') unsupported(n, 'reduction ≠ mean');
      if (attr(n.attribute, 'ignore_index')) unsupported(n, 'ignore_index');
      const [logits, labels] = n.input;
      const [N, K] = shape(logits);
      if (shape(logits).length !== 2) unsupported(n, 'logits of rank ≠ 2');
      const onehot = g.op('OneHot', [labels, g.i64([K], []), g.f32([0, 1])]); // [N, K]
      const diff = g.op('Sub', [g.op('Exp', [n.output[1]]), onehot]);
      return [g.op('Mul', [diff, g.op('Mul', [d!, g.f32([1 / N], [])])]), undefined];
    },
  },
};

/** Ops whose outputs carry no gradient (shapes, comparisons, index arithmetic). */
export const nonDifferentiable = new Set([
  'Shape',
  'Size',
  'Range',
  'Greater',
  'Less',
  'Equal',
  'ArgMax',
  'ConstantOfShape',
  'OneHot',
]);
