import { describe, expect, it } from 'vitest';
import {
  createSession,
  DataType,
  encodeGraph,
  GraphBuilder,
  loadOrt,
  MS,
} from '@matformer/core/onnx';
import { Rng } from '@matformer/core';
import { differentiate, planGradients } from './autodiff';
import { GraphError } from './graph-error';
import { probeGraph } from './train-graph';
import { vjpRules } from './vjp-rules';

interface Operand {
  shape: number[];
  /** Values; default: seeded normal draws. */
  data?: number[];
  /** An int64 input (indices, labels): fed, never differentiated. */
  int?: boolean;
}

/**
 * Checks one op's gradient rule against central finite differences: builds
 * L = Σ op(inputs) ⊙ R for a fixed random R, differentiates it with the rule table and
 * compares every float input's gradient with (L(x + ε) − L(x − ε)) / 2ε, element by element.
 */
async function gradCheck(
  operands: Operand[],
  build: (g: GraphBuilder, inputs: string[]) => string,
): Promise<number> {
  const ort = await loadOrt();
  const rng = new Rng(11);
  const normal = () => rng.normal();
  const g = new GraphBuilder(17);
  const names = operands.map((o, i) =>
    g.input(`x${i}`, o.int ? DataType.INT64 : DataType.FLOAT, o.shape),
  );
  const values = operands.map((o) =>
    o.data ? [...o.data] : Array.from({ length: o.shape.reduce((a, b) => a * b, 1) }, normal),
  );
  const out = build(g, names);
  // Weighted by a fixed random R (shape found by a probe run), so every output element matters.
  const feeds = () =>
    Object.fromEntries(
      operands.map((o, i) => [
        names[i],
        o.int
          ? new ort.Tensor('int64', BigInt64Array.from(values[i], BigInt), o.shape)
          : new ort.Tensor('float32', Float32Array.from(values[i]), o.shape),
      ]),
    );
  const run = async (bytes: Uint8Array, outputs: string[]) => {
    const s = await createSession(bytes, 'gradcheck', { intraOpNumThreads: 1 });
    try {
      return await s.run(feeds(), outputs);
    } finally {
      await s.release();
    }
  };
  const outShape = [...(await run(probeGraph(g, [out]), [out]))[out].dims];
  const r = Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, normal);
  const loss = g.op(
    'ReduceSum',
    [g.op('Mul', [out, g.weight('R', Float32Array.from(r), outShape)])],
    { keepdims: { int: 0 } },
    'loss',
  );
  const wrt = names.filter((_, i) => !operands[i].int);
  const shapes = new Map(wrt.map((n) => [n, operands[names.indexOf(n)].shape]));
  const grads = await differentiate(g, loss, wrt, shapes, async (outputs) => {
    const res = await run(probeGraph(g, outputs), outputs);
    return new Map(outputs.map((o) => [o, [...res[o].dims]]));
  });
  g.output('loss', DataType.FLOAT, []);
  wrt.forEach((n) => {
    g.op('Identity', [grads[n]], {}, `d_${n}`);
    g.output(`d_${n}`, DataType.FLOAT, shapes.get(n)!);
  });
  const bytes = encodeGraph(g, { name: 'gradcheck', producer: 'test' });
  const analytic = await run(
    bytes,
    wrt.map((n) => `d_${n}`),
  );
  const lossAt = async () => ((await run(bytes, ['loss'])).loss.data as Float32Array)[0];

  let worst = 0;
  const eps = 1e-2;
  for (const n of wrt) {
    const k = names.indexOf(n);
    const a = analytic[`d_${n}`].data as Float32Array;
    const scale = Math.max(1, ...Array.from(a, Math.abs));
    for (let i = 0; i < values[k].length; i++) {
      const x = values[k][i];
      values[k][i] = x + eps;
      const up = await lossAt();
      values[k][i] = x - eps;
      const down = await lossAt();
      values[k][i] = x;
      worst = Math.max(worst, Math.abs((up - down) / (2 * eps) - a[i]) / scale);
    }
  }
  return worst;
}

const TOL = 5e-3; // float32 central differences with ε = 1e-2

describe('gradient rules against finite differences', () => {
  const cases: Record<string, [Operand[], (g: GraphBuilder, x: string[]) => string]> = {
    Identity: [[{ shape: [3] }], (g, [a]) => g.op('Identity', [a])],
    'Add (broadcast [2,3] + [3])': [[{ shape: [2, 3] }, { shape: [3] }], (g, x) => g.op('Add', x)],
    'Sum (3 inputs)': [
      [{ shape: [2, 2] }, { shape: [2, 2] }, { shape: [1, 2] }],
      (g, x) => g.op('Sum', x),
    ],
    'Sub (broadcast [2,1] from [2,3])': [
      [{ shape: [2, 3] }, { shape: [2, 1] }],
      (g, x) => g.op('Sub', x),
    ],
    'Mul (broadcast, size-1 axis)': [
      [{ shape: [2, 3, 2] }, { shape: [3, 1] }],
      (g, x) => g.op('Mul', x),
    ],
    'Mul (same input twice)': [[{ shape: [4] }], (g, [a]) => g.op('Mul', [a, a])],
    Neg: [[{ shape: [3] }], (g, [a]) => g.op('Neg', [a])],
    'Div (broadcast [2,3] / [2,1], both need gradients)': [
      [{ shape: [2, 3] }, { shape: [2, 1], data: [1.5, -2] }],
      (g, x) => g.op('Div', x),
    ],
    Sqrt: [[{ shape: [4], data: [0.5, 1, 2, 3] }], (g, [a]) => g.op('Sqrt', [a])],
    Sigmoid: [[{ shape: [5] }], (g, [a]) => g.op('Sigmoid', [a])],
    Tanh: [[{ shape: [5] }], (g, [a]) => g.op('Tanh', [a])],
    'FastGelu (contrib, [3,4] from −3 to 3)': [
      [{ shape: [3, 4], data: Array.from({ length: 12 }, (_, i) => -3 + (6 * i) / 11) }],
      (g, [a]) => g.opN('FastGelu', [a], {}, { domain: MS })[0],
    ],
    'FastGelu (contrib, with bias [4])': [
      [{ shape: [3, 4] }, { shape: [4] }],
      (g, x) => g.opN('FastGelu', x, {}, { domain: MS })[0],
    ],
    'Softmax (last axis)': [
      [{ shape: [2, 4] }],
      (g, [a]) => g.op('Softmax', [a], { axis: { int: -1 } }),
    ],
    Reshape: [[{ shape: [2, 6] }], (g, [a]) => g.op('Reshape', [a, g.i64([3, -1])])],
    'Split (3 equal parts, one unused)': [
      [{ shape: [3, 2, 2] }],
      (g, [a]) => {
        const [p, , r] = g.opN('Split', [a], { axis: { int: 0 } }, { count: 3 });
        return g.op('Mul', [p, r]);
      },
    ],
    Squeeze: [[{ shape: [1, 3] }], (g, [a]) => g.op('Squeeze', [a, g.i64([0])])],
    Unsqueeze: [[{ shape: [3] }], (g, [a]) => g.op('Unsqueeze', [a, g.i64([1])])],
    Transpose: [
      [{ shape: [2, 3, 2] }],
      (g, [a]) => g.op('Transpose', [a], { perm: { ints: [2, 0, 1] } }),
    ],
    'MatMul (batched 4-D)': [
      [{ shape: [2, 1, 2, 3] }, { shape: [2, 1, 3, 2] }],
      (g, x) => g.op('MatMul', x),
    ],
    'Gemm (bias)': [
      [{ shape: [3, 2] }, { shape: [2, 4] }, { shape: [4] }],
      (g, x) => g.op('Gemm', x),
    ],
    'Gemm (transB, no bias)': [
      [{ shape: [3, 2] }, { shape: [4, 2] }],
      (g, x) => g.op('Gemm', x, { transB: { int: 1 } }),
    ],
    LayerNormalization: [
      [{ shape: [3, 4] }, { shape: [4] }, { shape: [4] }],
      (g, x) => g.op('LayerNormalization', x, { axis: { int: -1 }, epsilon: { float: 1e-5 } }),
    ],
    'Gather (rows, repeated indices)': [
      [{ shape: [4, 3] }, { shape: [2, 3], data: [1, 3, 1, 0, 1, 2], int: true }],
      (g, x) => g.op('Gather', x, { axis: { int: 0 } }),
    ],
    'Gather (constant scalar index, axis 1)': [
      [{ shape: [2, 3, 2] }],
      (g, [a]) => g.op('Gather', [a, g.i64([2], [])], { axis: { int: 1 } }),
    ],
    Concat: [
      [{ shape: [2, 1, 2] }, { shape: [2, 3, 2] }],
      (g, x) => g.op('Concat', x, { axis: { int: 1 } }),
    ],
    'Slice (a prefix, as nested widths take)': [
      [{ shape: [5, 2] }],
      (g, [a]) => g.op('Slice', [a, g.i64([0]), g.i64([3]), g.i64([0])]),
    ],
    'Expand ([3] → [2,1,3])': [[{ shape: [3] }], (g, [a]) => g.op('Expand', [a, g.i64([2, 1, 3])])],
    'ReduceSum (axes 0 and 2, keepdims 1)': [
      [{ shape: [2, 3, 2] }],
      (g, [a]) => g.op('ReduceSum', [a, g.i64([0, 2])], { keepdims: { int: 1 } }),
    ],
    'ReduceMean (axis 1, keepdims 0)': [
      [{ shape: [2, 3, 2] }],
      (g, [a]) => g.op('ReduceMean', [a], { axes: { ints: [1] }, keepdims: { int: 0 } }),
    ],
    SoftmaxCrossEntropyLoss: [
      [{ shape: [4, 5] }, { shape: [4], data: [0, 4, 2, 4], int: true }],
      (g, x) => g.op('SoftmaxCrossEntropyLoss', x, { reduction: { string: 'mean' } }),
    ],
  };

  it('covers every rule in the table', () => {
    const tested = new Set(Object.keys(cases).map((c) => c.split(' ')[0]));
    expect([...Object.keys(vjpRules)].filter((op) => !tested.has(op))).toEqual([]);
  });

  for (const [name, [operands, build]] of Object.entries(cases)) {
    it(name, async () => {
      expect(await gradCheck(operands, build)).toBeLessThan(TOL);
    });
  }
});

describe('graphs without a gradient', () => {
  it('names the op that has no rule, before anything runs', () => {
    const g = new GraphBuilder(17);
    const x = g.input('x', DataType.FLOAT, [3]);
    const y = g.op('Erf', [x]);
    const loss = g.op('ReduceSum', [y], { keepdims: { int: 0 } });
    expect(() => planGradients(g, loss, ['x'])).toThrow(GraphError);
    expect(() => planGradients(g, loss, ['x'])).toThrow(/no gradient rule for ONNX op Erf/);
  });

  it('says when the loss does not depend on the parameters', () => {
    const g = new GraphBuilder(17);
    g.input('x', DataType.FLOAT, [3]);
    const loss = g.f32([1], []);
    expect(() => planGradients(g, loss, ['x'])).toThrow(/does not depend on any parameter/);
  });
});
