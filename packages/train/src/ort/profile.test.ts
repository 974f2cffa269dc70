import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSession, DataType, encodeGraph, GraphBuilder, loadOrt } from '@matformer/core/onnx';
import { tempDir } from '../test-fixtures';
import { summarizeOrtProfile } from './profile';

describe('summarizeOrtProfile', () => {
  it('reads a real onnxruntime trace: kernel time by op, matmuls by shape', async () => {
    const ort = await loadOrt();
    const g = new GraphBuilder(17);
    const a = g.input('a', DataType.FLOAT, [64, 32]);
    const b = g.input('b', DataType.FLOAT, [48, 32]);
    const y = g.op('Gemm', [a, b], { transB: { int: 1 } }); // [64, 48]
    g.op('Relu', [g.op('MatMul', [y, g.op('Transpose', [y])])], {}, 'out'); // [64, 64]
    g.output('out', DataType.FLOAT, [64, 64]);
    const dir = await tempDir('matformer-profile-');
    const prefix = join(dir, 'trace');
    const s = await createSession(encodeGraph(g, { name: 'p', producer: 'test' }), 'p', {
      profileFilePrefix: prefix,
      graphOptimizationLevel: 'disabled',
    });
    const feeds = {
      a: new ort.Tensor('float32', new Float32Array(64 * 32).fill(1), [64, 32]),
      b: new ort.Tensor('float32', new Float32Array(48 * 32).fill(1), [48, 32]),
    };
    for (let i = 0; i < 3; i++) await s.run(feeds);
    s.endProfiling();
    await s.release();
    const [file] = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    const trace = await readFile(join(dir, file), 'utf8');
    const summary = summarizeOrtProfile(JSON.parse(trace));
    await rm(dir, { recursive: true });

    expect(summary.runs).toBe(3);
    expect(summary.ops.map((o) => o.op).sort()).toEqual(['Gemm', 'MatMul', 'Relu', 'Transpose']);
    expect(summary.ops.reduce((t, o) => t + o.share, 0)).toBeCloseTo(1, 6);
    const shapes = Object.fromEntries(summary.matmuls.map((m) => [m.op, m]));
    expect(shapes.Gemm).toMatchObject({ shape: '64×32·32×48', count: 1 });
    expect(shapes.MatMul).toMatchObject({ shape: '64×48·48×64', count: 1 });
    expect(shapes.Gemm.gflops).toBeGreaterThan(0);
    expect(summarizeOrtProfile(JSON.parse(trace), { skipRuns: 1 }).runs).toBe(2);
  });
});
