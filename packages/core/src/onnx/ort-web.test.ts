import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../errors';
import { readFile, writeFileAtomic } from '../io/files.web';
import { configureOrtWeb } from './ort.web';

// The browser twins' checks that need no browser (the rest runs in Chromium:
// packages/train/src/web-test/ort-web.test.ts).
describe('onnxruntime-web settings', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('refuses an unknown device, naming the choices', () => {
    expect(() => configureOrtWeb({ device: 'cuda' as 'wasm' })).toThrow(ConfigError);
    expect(() => configureOrtWeb({ device: 'cuda' as 'wasm' })).toThrow(/wasm.*webgpu/);
  });

  it('refuses threads on a page that is not cross-origin isolated, saying which headers', () => {
    vi.stubGlobal('navigator', { hardwareConcurrency: 4 }); // a 4-core page, not isolated
    expect(() => configureOrtWeb({ numThreads: 2 })).toThrow(
      /Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/,
    );
    expect(() => configureOrtWeb({ numThreads: 5 })).toThrow(
      /numThreads must be an integer from 1 to 4/,
    );
    expect(() => configureOrtWeb({ numThreads: 1 })).not.toThrow();
  });
});

describe('file access in a browser', () => {
  it('refuses paths with an error that says to pass bytes', async () => {
    await expect(readFile('model.safetensors')).rejects.toThrow(
      /cannot read "model\.safetensors": a browser has no file system; pass the bytes/,
    );
    await expect(writeFileAtomic('out.onnx', new Uint8Array(1))).rejects.toThrow(
      /cannot write "out\.onnx"/,
    );
  });
});
