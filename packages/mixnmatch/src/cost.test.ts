import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatLM } from '@matformer/core';
import { decodeLatency, latencyCost } from './cost';
import { tinyModel } from './test-fixtures';

describe('measured latency', () => {
  let model: MatLM;
  beforeAll(async () => {
    model = await tinyModel();
  });
  afterAll(() => model.dispose());

  it('times a decode step on the runtime (median of repeats) and measures each config once', async () => {
    const cost = latencyCost(decodeLatency(model, { repeats: 5, warmup: 1, context: 4 }));
    const a = await cost.of([8, 8, 8, 8]);
    const b = await cost.of([8, 8, 8, 8]);
    await cost.of([64, 0, 64, 64]);
    expect(a).toBeGreaterThan(0);
    expect(b).toBe(a);
    expect(cost.measured).toBe(2);
  });
});
