import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { MatLM, matlmConfig, resolveWidths, Rng } from '@matformer/core';
import { graphNodes, loadOrt } from '@matformer/core/onnx';
import { batchFeeds } from './families';
import { buildTrainGraph, io, probeShapes } from './train-graph';

/** The joint training graph of a tiny MatLM over `widths` (one submodel per entry). */
async function trainGraph(widths: number[]) {
  const ort = await loadOrt();
  const config = matlmConfig('tiny', { vocabSize: 32, maxSeqLen: 8 });
  const model = MatLM.create(config, 1);
  const rng = new Rng(1);
  const ids = Array.from({ length: 2 * 8 }, () => rng.int(32));
  const batch = { x: tf.tensor(ids, [2, 8], 'int32'), y: tf.tensor(ids, [2, 8], 'int32') };
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    ...batchFeeds(ort, config, batch),
    [io.lambdas]: new ort.Tensor('float32', new Float32Array(widths.length).fill(1), [
      widths.length,
    ]),
  };
  for (const [name, p] of Object.entries(model.params))
    feeds[name] = new ort.Tensor('float32', Float32Array.from(p.dataSync()), p.shape);
  const bytes = await buildTrainGraph(
    {
      config,
      submodels: widths.map((m) => resolveWidths(config, m)),
      inputShape: [2, 8],
      targets: 16,
    },
    (probe, outputs) => probeShapes(probe, outputs, feeds, {}, [2, 8]),
  );
  model.dispose();
  tf.dispose([batch.x, batch.y]);
  return graphNodes(bytes);
}

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const readers = (nodes: { opType: string; input: string[] }[], weight: string) =>
  nodes.filter((n) => n.opType === 'Gemm' && n.input.includes(weight)).length;

describe('the joint training graph', () => {
  it('computes the part before the first nested FFN once for all submodels, forward and backward', async () => {
    const one = await trainGraph([64]);
    const four = await trainGraph([8, 16, 32, 64]);
    // Layer 0's qkv weight: read by its forward Gemm and by the Gemm of the input's gradient.
    expect(readers(one, 'blocks.0.attn.qkv.weight')).toBe(2);
    expect(readers(four, 'blocks.0.attn.qkv.weight')).toBe(2);
    // Layer 1 comes after a nested FFN: every submodel runs its own.
    expect(readers(four, 'blocks.1.attn.qkv.weight')).toBe(
      4 * readers(one, 'blocks.1.attn.qkv.weight'),
    );
  });

  it('keeps each submodel’s forward next to its backward (file order)', async () => {
    const nodes = await trainGraph([8, 16, 32, 64]);
    const first = (prefix: string) => nodes.findIndex((n) => n.name.startsWith(prefix));
    const gradAfter = (i: number) =>
      nodes.findIndex((n, k) => k > first(`submodel_${i}/`) && n.name.startsWith('grad/'));
    for (let i = 0; i < 3; i++) expect(gradAfter(i)).toBeLessThan(first(`submodel_${i + 1}/`));
  });
});
