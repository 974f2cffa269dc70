import { describe, expect, it } from 'vitest';
import { runtimeQuery } from './runtime-query';

describe('runtimeQuery', () => {
  it('asks for WebGPU and the default threads unless the URL says otherwise', () => {
    expect(runtimeQuery('')).toEqual({ device: 'webgpu', numThreads: undefined });
    expect(runtimeQuery('?device=wasm&threads=1')).toEqual({ device: 'wasm', numThreads: 1 });
  });

  it('names a bad device or thread count', () => {
    expect(() => runtimeQuery('?device=cuda')).toThrow(
      '?device must be wasm or webgpu, got "cuda"',
    );
    expect(() => runtimeQuery('?threads=0')).toThrow(
      '?threads must be a whole number of at least 1, got "0"',
    );
    expect(() => runtimeQuery('?threads=two')).toThrow(/got "two"/);
  });
});
