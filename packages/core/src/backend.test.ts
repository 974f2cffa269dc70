import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { describeBackend, selectBackend } from './backend';
import { ConfigError } from './errors';

describe('selectBackend', () => {
  afterEach(() => {
    delete process.env.MATFORMER_BACKEND;
  });

  it('falls back from native tensorflow to wasm when tfjs-node is not installed, and says why', async () => {
    const choice = await selectBackend();
    expect(choice.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.skipped[0].name).toBe('tensorflow');
    expect(choice.skipped[0].reason).toMatch(
      /@tensorflow\/tfjs-node-gpu not installed; @tensorflow\/tfjs-node not installed/,
    );
    expect(describeBackend(choice)).toMatch(/^wasm; skipped tensorflow:/);
  });

  it('honours an explicit choice and the MATFORMER_BACKEND variable', async () => {
    expect((await selectBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    process.env.MATFORMER_BACKEND = 'wasm';
    expect((await selectBackend()).name).toBe('wasm');
  });

  it('fails clearly for an unknown or unavailable backend', async () => {
    await expect(selectBackend('webgpu' as 'cpu')).rejects.toThrow(
      /unknown backend "webgpu"; allowed: tensorflow, wasm, cpu/,
    );
    await expect(selectBackend('tensorflow')).rejects.toThrow(ConfigError);
    await expect(selectBackend('tensorflow')).rejects.toThrow(/forced "tensorflow".*not installed/);
  });
});
