import { describe, expect, it } from 'vitest';
import { checkSettings, configOf, trainOptionsOf, type TrainSettings } from './settings';

const base: TrainSettings = {
  arch: 'matlm',
  preset: 'mini',
  steps: 200,
  batchSize: 8,
  lr: 0.004,
  seed: 0,
  evalEvery: 50,
};

describe('page settings', () => {
  it("build lm-trainer's byte-level config, growing the context to a longer window", () => {
    const c = configOf(base);
    expect([c.arch, c.vocabSize, c.dModel, c.nLayers, c.maxSeqLen]).toEqual([
      'matlm',
      256,
      128,
      4,
      128,
    ]);
    expect(configOf({ ...base, seqLen: 256 }).maxSeqLen).toBe(256);
    expect(configOf({ ...base, arch: 'matgemma', preset: 'tiny' }).arch).toBe('matgemma');
  });

  it("warm up for the CLI's 40 steps, or a fifth of a shorter run", () => {
    expect(trainOptionsOf(base)).toMatchObject({ steps: 200, warmupSteps: 40, seed: 0 });
    expect(trainOptionsOf({ ...base, steps: 24 }).warmupSteps).toBe(4);
  });

  it('name the first bad field', () => {
    expect(checkSettings(base)).toBe(base);
    expect(() => checkSettings({ ...base, steps: 0 })).toThrow(
      'steps must be a whole number from 1',
    );
    expect(() => checkSettings({ ...base, batchSize: 2.5 })).toThrow(
      'batch must be a whole number',
    );
    expect(() => checkSettings({ ...base, lr: 0 })).toThrow(
      'learning rate must be in (0, 1], got 0',
    );
    expect(() => checkSettings({ ...base, preset: 'large' as never })).toThrow(
      'preset must be one of tiny, mini, got "large"',
    );
    expect(() => checkSettings({ ...base, seed: -1 })).toThrow(
      'seed must be a whole number from 0',
    );
  });
});
