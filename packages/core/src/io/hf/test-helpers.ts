import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { storedWidths } from '../../config';
import { matgemmaConfig, type MatGemmaConfig } from '../../models/matgemma/config';
import { hfTensorSpecs } from '../../models/matgemma/hf';
import { Rng } from '../../rng';
import type { TensorEntry } from '../safetensors';

/** A fresh temp directory per test, removed afterwards. */
export function useTempDir(): () => string {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });
  return () => (dir = mkdtempSync(join(tmpdir(), 'hf-test-')));
}

/** Random F32 weights (names and shapes from the HF spec table) for a MatGemma config. */
export function randomEntries(
  config: MatGemmaConfig,
  seed = 1,
  widths = storedWidths(config),
): Record<string, TensorEntry> {
  const rng = new Rng(seed);
  const out: Record<string, TensorEntry> = {};
  for (const s of hfTensorSpecs(config, widths)) {
    const data = new Float32Array(s.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2 - 1;
    out[s.name] = { dtype: 'F32', shape: s.shape, data };
  }
  return out;
}

/** The tiny preset with per-layer widths and a skipped-layer history (an extracted model). */
export function extractedConfig(): MatGemmaConfig {
  return matgemmaConfig('tiny', {
    nLayers: 3,
    layerDFF: [16, 64, 32],
    sourceLayers: [0, 2, 3],
  });
}

export const bytesOf = (e: TensorEntry) =>
  new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength);
