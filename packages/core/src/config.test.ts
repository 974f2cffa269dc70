import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors';
import { matlmConfig, matvitConfig, resolveWidths, type MatLMConfig } from './config';
import { validateConfig } from './models/registry';

describe('ModelConfig', () => {
  it('presets are valid and use the paper granularities dFF/8..dFF', () => {
    const c = matlmConfig('small');
    expect(c.granularities).toEqual([128, 256, 512, 1024]);
    expect(matvitConfig('tiny').granularities).toEqual([8, 16, 32, 64]);
  });

  it.each([
    [{ dModel: 0 }, /dModel must be a positive integer/],
    [{ nHeads: 3 }, /dModel \(16\) must be divisible by config.nHeads \(3\)/],
    [{ granularities: [8, 8, 64] }, /strictly ascending/],
    [{ granularities: [8, 16] }, /must end with dFF \(64\)/],
    [{ vocabSize: 1.5 }, /vocabSize must be a positive integer/],
    [{ layerDFF: [64] }, /one width per layer \(2\)/],
    [{ layerDFF: [64, 50] }, /layerDFF\[1\] = 50 is not one of the granularities/],
  ])('rejects %j with a clear error', (override, message) => {
    expect(() => matlmConfig('tiny', override as Partial<MatLMConfig>)).toThrow(ConfigError);
    expect(() => matlmConfig('tiny', override as Partial<MatLMConfig>)).toThrow(message);
  });

  it('rejects unknown presets and archs by name', () => {
    expect(() => matlmConfig('huge' as 'tiny')).toThrow(
      /unknown MatLM preset "huge"; allowed: tiny, mini, small, base/,
    );
    expect(() =>
      validateConfig({ ...matlmConfig('tiny'), arch: 'gpt' } as unknown as MatLMConfig),
    ).toThrow(/arch must be "matlm" or "matvit"/);
    expect(() => matvitConfig('tiny', { patchSize: 5 })).toThrow(
      /imageSize \(28\) must be divisible by config.patchSize \(5\)/,
    );
  });

  it("resolves widths: default full, a number for uniform, a list for Mix'n'Match", () => {
    const c = matlmConfig('tiny');
    expect(resolveWidths(c)).toEqual([64, 64]);
    expect(resolveWidths(c, 16)).toEqual([16, 16]);
    expect(resolveWidths(c, [8, 32])).toEqual([8, 32]);
    expect(() => resolveWidths(c, [8])).toThrow(/one FFN width per layer \(2\)/);
    expect(() => resolveWidths(c, 100)).toThrow(
      /widths\[0\] = 100 is out of range; layer 0 allows \[8, 16, 32, 64\]/,
    );
    expect(() => resolveWidths({ ...c, layerDFF: [16, 64] }, [32, 32])).toThrow(
      /layer 0 allows \[8, 16\]/,
    );
  });
});
