import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveWidths, Rng, type AnyModel } from '@matformer/core';
import type { Task } from '../task';
import { relError, tinyGemmaTask, tinyLMTask } from '../test-fixtures';
import { Trainer } from '../trainer';
import { OrtGradientEngine } from './engine';
import type { XYBatch } from './families';

// The training graph with onnxruntime's fused ops against today's graph of standard ONNX ops
// (fusedOps: false): the same gradients, and the same loss curve.

beforeAll(async () => {
  await tf.setBackend('wasm');
});

/** Worst relative gradient difference (over parameters) and loss difference, fused vs standard. */
async function fusedAgainstStandard(model: AnyModel, task: Task) {
  const batch = task.nextBatch(new Rng(3)) as XYBatch;
  const submodels = model.config.granularities.map((m) => resolveWidths(model.config, m));
  const lambdas = submodels.map((_, i) => 1 + i);
  const run = async (fusedOps: boolean) => {
    const engine = await OrtGradientEngine.create(model.config, model.params, {
      threads: 1,
      fusedOps,
    });
    const { losses, grads } = await engine.gradients(batch, submodels, lambdas);
    const copy = Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, g.slice()]));
    await engine.dispose();
    return { losses, grads: copy };
  };
  const [fused, standard] = [await run(true), await run(false)];
  task.disposeBatch(batch);
  const worst = Object.keys(standard.grads).reduce(
    (w, n) => Math.max(w, relError(standard.grads[n], fused.grads[n])),
    0,
  );
  const lossDiff = Math.max(...fused.losses.map((l, i) => Math.abs(l - standard.losses[i])));
  return { worst, lossDiff };
}

describe('the fused training graph equals the standard-op graph', () => {
  it('MatLM: every gradient to 1e-6 (relative to its largest entry)', async () => {
    const { model, task } = await tinyLMTask(2);
    const { worst, lossDiff } = await fusedAgainstStandard(model, task);
    expect(worst).toBeLessThan(1e-6);
    expect(lossDiff).toBeLessThan(1e-6);
    task.dispose();
    model.dispose();
  });

  it('MatGemma (GeGLU): every gradient to 1e-6', async () => {
    const { model, task } = await tinyGemmaTask(5);
    const { worst, lossDiff } = await fusedAgainstStandard(model, task);
    expect(worst).toBeLessThan(1e-6);
    expect(lossDiff).toBeLessThan(1e-6);
    task.dispose();
    model.dispose();
  });

  it('the same 20-step loss curve under the Trainer', async () => {
    const opts = { steps: 20, lr: 1e-2, warmupSteps: 3, evalEvery: 0, checkpointEvery: 0 };
    const a = await tinyLMTask(8);
    const b = await tinyLMTask(8);
    const standard = new Trainer(a.task, opts, { engine: 'ort', fusedOps: false });
    const fused = new Trainer(b.task, opts, { engine: 'ort' });
    let first = 0;
    let last = 0;
    for (let i = 0; i < 20; i++) {
      const [ms, mf] = [await standard.trainStep(), await fused.trainStep()];
      for (const w of Object.keys(ms.losses))
        expect(Math.abs(mf.losses[+w] - ms.losses[+w]), `step ${i + 1}, width ${w}`).toBeLessThan(
          1e-5,
        );
      if (i === 0) first = mf.loss;
      last = mf.loss;
    }
    expect(last).toBeLessThan(first); // the curve being compared is a learning one
    await Promise.all([standard.dispose(), fused.dispose()]);
    for (const t of [a, b]) {
      t.task.dispose();
      t.model.dispose();
    }
  });
});
