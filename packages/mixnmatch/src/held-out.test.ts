import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MatLM, matlmConfig } from '@matformer/core';
import { EvaluationCache } from './evaluator';
import { searchAndReportHalves } from './held-out';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('searchAndReportHalves', () => {
  it('scores the two disjoint halves of the held-out tokens separately, through one cache', async () => {
    const model = MatLM.create(matlmConfig('tiny'), 0);
    const tokens = Array.from({ length: 200 }, (_, i) => (i * i * 13 + 7) % 32);
    const cache = await EvaluationCache.open();
    const h = searchAndReportHalves(model, tokens, cache, {
      windows: 4,
      seqLen: 8,
      modelId: 'm',
      name: 'val',
    });
    expect(h.search.dataId).toBe('val[0:100]/4x8');
    expect(h.report.dataId).toBe('val[100:200]/4x8');
    const w = [16, 64];
    const [a, b] = [await h.search.evaluate(w), await h.report.evaluate(w)];
    expect(a.loss).not.toBe(b.loss);
    expect(cache.size).toBe(2);
    h.dispose();
    model.dispose();
  });

  it('caps the windows at the distinct windows of each half, as eval does (issue #23)', async () => {
    const model = MatLM.create(matlmConfig('tiny'), 0);
    const tokens = Array.from({ length: 200 }, (_, i) => (i * i * 13 + 7) % 32);
    const cache = await EvaluationCache.open();
    const h = searchAndReportHalves(model, tokens, cache, {
      windows: 1_000_000, // scored every window: minutes per config
      seqLen: 8,
      modelId: 'm',
      name: 'val',
    });
    // 100 tokens per half hold ⌊99 / 8⌋ = 12 windows that do not overlap.
    expect(h.windows).toBe(12);
    expect(h.search.dataId).toBe('val[0:100]/12x8');
    expect(h.report.dataId).toBe('val[100:200]/12x8');
    h.dispose();
    model.dispose();
  });
});
