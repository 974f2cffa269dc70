import { MatViT, matvitConfig, selectBackend } from '@matformer/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { encoderForBudget, pickEncoder, queryEncoders } from './adaptive';

const config = matvitConfig('tiny'); // 2 layers, granularities [8, 16, 32, 64]

describe('adaptive query encoders', () => {
  const encoders = queryEncoders(config, { 'mix-8-64': [8, 64] });

  it('lists every granularity and each mix, by FLOPs ascending, with costs', () => {
    expect(encoders.map((e) => e.name)).toEqual([
      'uniform-8',
      'uniform-16',
      'uniform-32',
      'mix-8-64', // 8 + 64 hidden units in total, more than 32 + 32
      'uniform-64',
    ]);
    expect(encoders.at(-1)!.flopsRatio).toBe(1);
    expect(encoders[0].flopsRatio).toBeLessThan(1);
    expect(encoders[0].params).toBeLessThan(encoders.at(-1)!.params);
    expect(() => queryEncoders(config, { bad: [8, 5] })).toThrow(/widths\[1\] = 5 is out of range/);
    expect(() => queryEncoders(config, { 'uniform-8': [8, 8] })).toThrow(
      /two query encoders are named "uniform-8"/,
    );
  });

  it('picks by name, "full", uniform width or per-layer widths', () => {
    expect(pickEncoder(encoders, 'mix-8-64').widths).toEqual([8, 64]);
    expect(pickEncoder(encoders, 'full').name).toBe('uniform-64');
    expect(pickEncoder(encoders, 16).name).toBe('uniform-16');
    expect(pickEncoder(encoders, [8, 64]).name).toBe('mix-8-64');
    expect(() => pickEncoder(encoders, 'huge')).toThrow(
      /unknown query encoder "huge"; allowed: full, uniform-8 \[8, 8\]/,
    );
    expect(() => pickEncoder(encoders, [64, 8])).toThrow(/unknown query encoder \[64,8\]/);
  });

  describe('latency budget (measured here)', () => {
    let model: MatViT;
    const sample = new Float32Array(2 * 28 * 28).fill(0.5);
    beforeAll(async () => {
      await selectBackend('wasm');
      model = MatViT.create(config, 0);
    });

    it('a generous budget buys the full encoder; every candidate was measured', async () => {
      const r = await encoderForBudget(model, encoders, 1e6, sample, { warmup: 1, repeats: 3 });
      expect(r.encoder.name).toBe('uniform-64');
      expect(r.measured.map((m) => m.name)).toEqual(encoders.map((e) => e.name));
      expect(r.measured.every((m) => m.ms > 0)).toBe(true);
    });

    it('an impossible budget fails clearly', async () => {
      await expect(
        encoderForBudget(model, encoders, 1e-9, sample, { warmup: 0, repeats: 1 }),
      ).rejects.toThrow(/no query encoder meets 1e-9 ms per query here; the fastest, .*, took/);
      await expect(encoderForBudget(model, encoders, -1, sample)).rejects.toThrow(
        /budgetMs must be a positive number/,
      );
    });
  });
});
