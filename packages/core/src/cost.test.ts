import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { matlmConfig, matvitConfig } from './config';
import { costTable, flopsPerImage, flopsPerToken, paramCount } from './cost';
import { extract } from './extract';
import { MatLM } from './models/matlm';
import { MatViT } from './models/matvit';
import { useBackend } from './test-backends';

const cases: (number | number[])[] = [8, 16, 32, 64, [8, 64], [64, 16]];

describe('cost model', () => {
  beforeAll(() => useBackend('cpu'));

  it.each(cases)('MatLM param count at widths %j equals the weights extract() stores', (widths) => {
    const model = MatLM.create(matlmConfig('tiny'));
    const dense = extract(model, widths);
    expect(paramCount(model.config, widths)).toBe(dense.storedParamCount);
    expect(paramCount(dense.config)).toBe(dense.storedParamCount);
    model.dispose();
    dense.dispose();
  });

  it.each(cases)(
    'MatViT param count at widths %j equals the weights extract() stores',
    (widths) => {
      const model = MatViT.create(matvitConfig('tiny'));
      const dense = extract(model, widths);
      expect(paramCount(model.config, widths)).toBe(dense.storedParamCount);
      model.dispose();
      dense.dispose();
    },
  );

  it('the full model count equals every stored weight', () => {
    const model = MatLM.create(matlmConfig('small'));
    expect(paramCount(model.config)).toBe(model.storedParamCount);
    expect(tf.memory().numTensors).toBeGreaterThan(0);
    model.dispose();
  });

  it('counts FLOPs per token by hand for the tiny LM', () => {
    const c = matlmConfig('tiny'); // C=16, V=32, T=16
    const C = 16;
    const layer = (m: number) => 2 * 3 * C * C + 2 * C * C + 4 * C * 16 + 4 * C * m;
    expect(flopsPerToken(c, [8, 64])).toBe(layer(8) + layer(64) + 2 * C * 32);
    expect(flopsPerToken(c, 64, { context: 1 })).toBe(
      2 * (2 * 4 * C * C + 4 * C + 4 * C * 64) + 2 * C * 32,
    );
  });

  it('counts FLOPs per image for the tiny ViT', () => {
    const c = matvitConfig('tiny'); // 16 patches of 49 pixels, C=16, 10 classes
    const perToken = flopsPerToken(c, 16);
    expect(flopsPerImage(c, 16)).toBe(2 * 16 * 49 * 16 + 17 * perToken + 2 * 16 * 10);
  });

  it('costs grow with width and the table lists every granularity then the mixes', () => {
    const rows = costTable(matlmConfig('small'), { 'grow with depth': [128, 256, 512, 1024] });
    expect(rows.map((r) => r.name)).toEqual([
      'uniform 128',
      'uniform 256',
      'uniform 512',
      'uniform 1024',
      'grow with depth',
    ]);
    for (let i = 1; i < 4; i++) expect(rows[i].flops).toBeGreaterThan(rows[i - 1].flops);
    expect(rows[3].flopsRatio).toBe(1);
    expect(rows[4].flops).toBeGreaterThan(rows[0].flops);
    expect(rows[4].flops).toBeLessThan(rows[3].flops);
  });
});
