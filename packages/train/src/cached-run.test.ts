import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MatLM, matlmConfig, type AnyModel } from '@matformer/core';
import { canonicalJson, loadOrTrain, RUN_SPEC_FILE } from './cached-run';
import { lmTask } from './data/lm-task';
import { runPath } from './run-dir';
import { tinyLMTask } from './test-fixtures';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const asLM = (m: AnyModel) => {
  if (!(m instanceof MatLM)) throw new Error('not a MatLM');
  return m;
};

describe('loadOrTrain', () => {
  it('trains once, then reuses the saved model while the spec is the same, and retrains when it changes', async () => {
    const { corpus, dir } = await tinyLMTask();
    const runDir = join(dir, 'run');
    const config = matlmConfig('tiny', { vocabSize: 256, maxSeqLen: 32 });
    const opts = (steps: number) => ({
      dir: runDir,
      create: () => MatLM.create(config, 0),
      makeTask: (m: MatLM) => lmTask(m, corpus, { batchSize: 4, seqLen: 32, evalWindows: 4 }),
      train: { steps, evalEvery: 0, checkpointEvery: 0 },
      accept: asLM,
      spec: { config, steps },
    });
    const first = await loadOrTrain(opts(2));
    expect(first.status).toBe('trained');
    expect(existsSync(runPath(runDir, 'model'))).toBe(true);
    expect(existsSync(join(runDir, RUN_SPEC_FILE))).toBe(true);
    const again = await loadOrTrain(opts(2));
    expect(again.status).toBe('reused');
    expect(again.model.params['tok_emb'].dataSync()).toEqual(
      first.model.params['tok_emb'].dataSync(),
    );
    const changed = await loadOrTrain(opts(3));
    expect(changed.status).toBe('trained');
    for (const r of [first, again, changed]) r.model.dispose();
  });

  it('refuses a model the caller does not accept, with the caller’s error', async () => {
    const { corpus, dir, model } = await tinyLMTask();
    const opts = {
      dir,
      create: () => model,
      makeTask: (m: MatLM) => lmTask(m, corpus, { batchSize: 4, seqLen: 32, evalWindows: 4 }),
      train: { steps: 1, evalEvery: 0, checkpointEvery: 0 },
      accept: asLM,
    };
    await loadOrTrain(opts);
    await writeFile(join(dir, 'note.txt'), 'kept');
    await expect(
      loadOrTrain({
        ...opts,
        accept: () => {
          throw new Error('wrong model');
        },
      }),
    ).rejects.toThrow('wrong model');
    model.dispose();
  });

  it('compares specs by content, not key order', () => {
    expect(canonicalJson({ a: 1, b: { c: 2, d: 3 } })).toBe(
      canonicalJson({ b: { d: 3, c: 2 }, a: 1 }),
    );
  });
});
