import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@matformer/core';
import { MODEL_FILE } from './model-store';
import {
  defaultTrainSettings,
  demoConfig,
  demoState,
  measureReport,
  prepare,
  type PipelineOptions,
} from './pipeline';
import type { DemoState } from './query';

/**
 * A pre-trained tiny MatViT (d 16, 2 layers, 7×7 patches, granularities 8/16/32/64; 34 KB),
 * so the tests need no training. Made by the demo's own CLI (≈ 1.5 min of CPU):
 *
 *   npx tsx --conditions=@matformer/source apps/retrieval-demo/src/cli.ts --preset tiny \
 *     --run-dir runs/fixture-tiny --steps 3000 --database 2000 --queries 100
 *   cp runs/fixture-tiny/model.safetensors apps/retrieval-demo/fixtures/tiny-mnist.safetensors
 *
 * Its 1-NN accuracy on those 100 held-out digits: 85–88% for every query encoder.
 */
export const TINY_FIXTURE = new URL('../fixtures/tiny-mnist.safetensors', import.meta.url);

/**
 * The demo's state around the tiny fixture: a 2,000-digit database and 100 held-out queries,
 * in hnswlib (default) or the store named (e.g. `pglite:<dir>`).
 */
export async function quickDemoState(store?: string): Promise<{
  state: DemoState;
  runDir: string;
  options: PipelineOptions;
}> {
  await selectBackend('wasm');
  const runDir = await mkdtemp(join(tmpdir(), 'retrieval-demo-'));
  await copyFile(TINY_FIXTURE, join(runDir, MODEL_FILE));
  const options: PipelineOptions = {
    runDir,
    settings: defaultTrainSettings(demoConfig({}, 'tiny')),
    databaseLimit: 2000,
    queryLimit: 100,
    k: 10,
    hnsw: {},
    reporter: null,
    store,
  };
  const p = await prepare(options);
  if (p.stored.trained) throw new Error('the tiny fixture was not loaded');
  const report = await measureReport(options, p);
  return { state: demoState(p, options.k, report), runDir, options };
}
