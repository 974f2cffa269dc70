import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { extract, matlmConfig, MatLM, paramCount } from '@matformer/core';
import {
  cheapestConfig,
  createSpace,
  enumerateSpace,
  largestConfig,
  spaceSize,
  uniformConfigs,
} from './space';

describe('search space', () => {
  const config = matlmConfig('tiny', { nLayers: 4 });
  beforeAll(() => tf.setBackend('cpu'));

  it.each([0, 1, 2, 3])('counts and enumerates the same configs with maxSkips %i', (maxSkips) => {
    const space = createSpace(config, { maxSkips });
    const all = [...enumerateSpace(space)];
    expect(all).toHaveLength(spaceSize(space));
    expect(new Set(all.map((w) => w.join(','))).size).toBe(all.length);
    for (const w of all) expect(w.filter((m) => m === 0).length).toBeLessThanOrEqual(maxSkips);
  });

  it('the cheapest config skips as allowed and costs least; the largest is the full model', () => {
    const space = createSpace(config, { maxSkips: 2 });
    const cheapest = cheapestConfig(space);
    expect(cheapest).toEqual([8, 8, 0, 0]);
    const least = Math.min(...[...enumerateSpace(space)].map((w) => paramCount(config, w)));
    expect(paramCount(config, cheapest)).toBe(least);
    expect(largestConfig(space)).toEqual([64, 64, 64, 64]);
    expect(uniformConfigs(space)).toEqual([8, 16, 32, 64].map((m) => [m, m, m, m]));
  });

  it('only lets the chosen layers be skipped, and checks maxSkips', () => {
    const space = createSpace(config, { maxSkips: 1, skippable: [2] });
    expect(space.options.map((o) => o[0])).toEqual([8, 8, 0, 8]);
    expect(() => createSpace(config, { maxSkips: 4 })).toThrow(
      /maxSkips must be an integer in \[0, 3\]/,
    );
    expect(() => createSpace(config, { maxSkips: 1, skippable: [7] })).toThrow(/skippable layer 7/);
  });

  it("an extracted model's space offers each layer only the widths it stores", () => {
    const model = MatLM.create(config);
    const dense = extract(model, [16, 64, 8, 32]);
    expect(createSpace(dense.config).options).toEqual([[8, 16], [8, 16, 32, 64], [8], [8, 16, 32]]);
    model.dispose();
    dense.dispose();
  });
});
