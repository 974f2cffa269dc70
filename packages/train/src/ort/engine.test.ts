import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { rm } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { MatLM, MatViT, matvitConfig, resolveWidths, Rng, type Widths } from '@matformer/core';
import { AdamW } from '../adamw';
import { imageTask } from '../data/image-task';
import { subset } from '../data/image-dataset';
import { loadMnist } from '../data/mnist';
import { lmTask } from '../data/lm-task';
import { jointGradients } from '../joint-step';
import type { Task } from '../task';
import { relError, tinyGemmaTask, tinyLMTask } from '../test-fixtures';
import { Trainer } from '../trainer';
import { ArrayAdamW } from './array-adamw';
import { OrtGradientEngine } from './engine';
import type { XYBatch } from './families';
import { GraphError } from './graph-error';
import { buildTrainGraph } from './train-graph';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

function tinyViTTask(seed: number) {
  const mnist = loadMnist();
  const data = {
    train: subset(
      mnist,
      Array.from({ length: 256 }, (_, i) => i),
    ),
    test: subset(
      mnist,
      Array.from({ length: 64 }, (_, i) => 9000 + i),
    ),
  };
  const model = MatViT.create(matvitConfig('tiny', { patchSize: 7, pool: 'cls' }), seed);
  return { model, task: imageTask(model, data, { batchSize: 8, maxShift: 1 }) };
}

/** Every parameter's ORT gradient against tfjs autodiff, for one batch and submodel list. */
async function compareGradients(task: Task, submodels: Widths[], lambdas: number[]) {
  const batch = task.nextBatch(new Rng(3));
  const ref = jointGradients(task.model.params, (w) => task.loss(batch, w), submodels, lambdas);
  const engine = await OrtGradientEngine.create(task.model.config, task.model.params, {
    threads: 1,
  });
  const got = await engine.gradients(batch as XYBatch, submodels, lambdas);
  got.losses.forEach((l, i) => expect(l).toBeCloseTo(ref.losses[i], 5));
  let worst = 0;
  for (const [name, g] of Object.entries(ref.grads)) {
    const e = relError(g.dataSync(), got.grads[name]);
    expect(e, name).toBeLessThanOrEqual(1e-4);
    worst = Math.max(worst, e);
  }
  tf.dispose(Object.values(ref.grads));
  task.disposeBatch(batch);
  await engine.dispose();
  return worst;
}

describe('onnxruntime gradients equal tfjs autodiff', () => {
  const lmCases: [string, number[], number[]][] = [
    ['MatLM, all granularities, uniform λ', [8, 16, 32, 64], [1, 1, 1, 1]],
    ['MatLM, non-uniform λ', [8, 16, 32, 64], [0.5, 1, 2, 3]],
    ['MatLM, a sampled subset', [16, 64], [1, 2]],
  ];
  for (const [name, widths, lambdas] of lmCases) {
    it(name, async () => {
      const { model, task } = await tinyLMTask(2);
      const submodels = widths.map((m) => resolveWidths(model.config, m));
      await compareGradients(task, submodels, lambdas);
      task.dispose();
      model.dispose();
    });
  }

  it.each([
    ['uniform λ', [1, 1, 1, 1]],
    ['non-uniform λ', [3, 1, 1, 0.5]],
  ])('MatViT, all granularities, %s', async (_, lambdas) => {
    const { model, task } = tinyViTTask(4);
    const submodels = model.config.granularities.map((m) => resolveWidths(model.config, m));
    await compareGradients(task, submodels, lambdas);
    task.dispose();
    model.dispose();
  });

  it.each([
    ['Gemma style (GeGLU, 1 + w norms, √d scale, tied)', {}],
    [
      'Llama style (SwiGLU, untied, soft-capped, one kv head)',
      {
        activation: 'silu',
        normOffset: false,
        embedScale: false,
        tiedEmbeddings: false,
        finalSoftcap: 5,
        nKvHeads: 1,
      },
    ],
  ] as const)('MatGemma, %s, all granularities and a mix', async (_, overrides) => {
    const { model, task } = await tinyGemmaTask(5, overrides);
    // Norm weights and offsets away from their init, so their gradients are exercised off the identity.
    for (const [name, v] of Object.entries(model.params))
      if (name.includes('norm')) v.assign(tf.randomNormal(v.shape, 0.5, 0.3, 'float32', 9));
    const submodels = model.config.granularities.map((m) => resolveWidths(model.config, m));
    await compareGradients(task, [...submodels, [8, 64]], [1, 1, 1, 1, 2]);
    task.dispose();
    model.dispose();
  });

  it('a Mix’n’Match submodel (per-layer widths) too', async () => {
    const { model, task } = await tinyLMTask(3);
    await compareGradients(
      task,
      [
        [8, 64],
        [32, 16],
      ],
      [1, 1],
    );
    task.dispose();
    model.dispose();
  });
});

describe('ArrayAdamW', () => {
  it('gives the tfjs AdamW’s parameters from the same gradients (clipped or not)', () => {
    const rng = new Rng(5);
    const shapes: Record<string, number[]> = { w: [3, 4], b: [4] };
    const vars = Object.fromEntries(
      Object.entries(shapes).map(([n, s]) => [
        n,
        tf.variable(tf.randomNormal(s, 0, 1, 'float32', 7)),
      ]),
    );
    const ref = new AdamW(vars, { weightDecay: 0.1 });
    const arrays = new ArrayAdamW(ref, { w: 2, b: 1 });
    const params = Object.fromEntries(
      Object.entries(vars).map(([n, v]) => [n, Float32Array.from(v.dataSync())]),
    );
    for (let step = 0; step < 10; step++) {
      const grads = Object.fromEntries(
        Object.entries(shapes).map(([n, s]) => [
          n,
          Float32Array.from({ length: s.reduce((a, b) => a * b) }, () => rng.normal()),
        ]),
      );
      const scale = step % 2 ? 0.5 : 1;
      const lr = 1e-2 * (1 + step);
      const scaled = Object.fromEntries(
        Object.entries(grads).map(([n, g]) => [
          n,
          tf.tensor(
            g.map((x) => x * scale),
            shapes[n],
          ),
        ]),
      );
      ref.step(scaled, lr);
      tf.dispose(Object.values(scaled));
      arrays.step(params, grads, lr, scale);
    }
    for (const [n, v] of Object.entries(vars)) {
      const diff = Math.max(...Array.from(v.dataSync(), (x, i) => Math.abs(x - params[n][i])));
      expect(diff, n).toBeLessThan(1e-6);
    }
    expect(arrays.t).toBe(10);
    ref.dispose();
    tf.dispose(Object.values(vars));
  });
});

describe('Trainer on the onnxruntime engine', () => {
  it('follows the tfjs engine’s 20-step loss curve from the same weights and batches', async () => {
    const opts = { steps: 20, lr: 1e-2, warmupSteps: 3, evalEvery: 0, checkpointEvery: 0 };
    const a = await tinyLMTask(8);
    const b = await tinyLMTask(8);
    const reference = new Trainer(a.task, opts, { parallel: false });
    const fast = new Trainer(b.task, opts, { engine: 'ort' });
    for (let i = 0; i < 20; i++) {
      const [ma, mb] = [await reference.trainStep(), await fast.trainStep()];
      for (const w of Object.keys(ma.losses))
        expect(Math.abs(mb.losses[+w] - ma.losses[+w]), `step ${i + 1}, width ${w}`).toBeLessThan(
          2e-3,
        );
    }
    // Evaluation on the engine equals tfjs evaluation of the synced weights.
    const rows = (await fast.evaluate()).rows;
    await fast.syncModel();
    const tfjsRows = (await reference.evaluate()).rows;
    rows.forEach((r, i) => expect(r.loss).toBeCloseTo(tfjsRows[i].loss, 2));
    await Promise.all([reference.dispose(), fast.dispose()]);
    [a, b].forEach((f) => {
      f.task.dispose();
      f.model.dispose();
    });
  });

  it('evaluates what tfjs evaluates for the same weights (loss and accuracy)', async () => {
    const { model, task } = tinyViTTask(6);
    const trainer = new Trainer(task, { steps: 5, lr: 1e-2, evalEvery: 0 }, { engine: 'ort' });
    for (let i = 0; i < 5; i++) await trainer.trainStep();
    const ort = (await trainer.evaluate()).rows;
    await trainer.syncModel();
    const reference = new Trainer(task, {}, { engine: 'tfjs' });
    const tfjsRows = (await reference.evaluate()).rows;
    ort.forEach((r, i) => {
      expect(r.loss).toBeCloseTo(tfjsRows[i].loss, 4);
      // A near-tie may flip one of the 64 predictions between the two engines' float orders.
      expect(Math.abs(r.accuracy! - tfjsRows[i].accuracy!)).toBeLessThanOrEqual(1 / 64);
    });
    await Promise.all([trainer.dispose(), reference.dispose()]);
    task.dispose();
    model.dispose();
  });

  it('resumes bit-exactly from a checkpoint, with sampled granularities', async () => {
    const opts = {
      steps: 8,
      lr: 5e-3,
      warmupSteps: 2,
      granularitiesPerStep: 2,
      evalEvery: 0,
      checkpointEvery: 4,
      seed: 9,
    } as const;
    const a = await tinyLMTask(5);
    const straight = new Trainer(a.task, opts, { engine: 'ort' });
    await straight.run();

    const b = await tinyLMTask(5);
    const first = new Trainer(b.task, opts, { runDir: b.dir, engine: 'ort' });
    for (let i = 0; i < 4; i++) await first.trainStep();
    await first.save();
    await first.trainStep(); // lost: the process dies before the next checkpoint
    await first.dispose();
    b.task.dispose();
    b.model.dispose();

    const resumed = await Trainer.resume(
      b.dir,
      (model) => lmTask(model as MatLM, b.corpus, { batchSize: 8, seqLen: 32, evalWindows: 16 }),
      { engine: 'ort' },
    );
    expect(resumed.step).toBe(4);
    await resumed.run();
    for (const [name, v] of Object.entries(a.model.params)) {
      const got = resumed.task.model.params[name].dataSync();
      const want = v.dataSync();
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), name).toBe(true);
    }
    await Promise.all([straight, resumed].map((t) => t.dispose()));
    [a.task, resumed.task].forEach((t) => t.dispose());
    [a.model, resumed.task.model].forEach((m) => m.dispose());
    await rm(b.dir, { recursive: true, force: true });
  });

  it('a run trained on one engine resumes on the other', async () => {
    const opts = { steps: 4, lr: 5e-3, evalEvery: 0, checkpointEvery: 2, seed: 1 };
    const b = await tinyLMTask(12);
    const first = new Trainer(b.task, opts, { runDir: b.dir, engine: 'tfjs', parallel: false });
    for (let i = 0; i < 2; i++) await first.trainStep();
    await first.save();
    const reference = [await first.trainStep(), await first.trainStep()];
    await first.dispose();
    const resumed = await Trainer.resume(
      b.dir,
      (model) => lmTask(model as MatLM, b.corpus, { batchSize: 8, seqLen: 32, evalWindows: 16 }),
      { engine: 'ort' },
    );
    for (const want of reference) {
      const got = await resumed.trainStep();
      for (const w of Object.keys(want.losses))
        expect(Math.abs(got.losses[+w] - want.losses[+w])).toBeLessThan(1e-4);
    }
    await resumed.dispose();
    resumed.task.dispose();
    resumed.task.model.dispose();
    b.task.dispose();
    b.model.dispose();
    await rm(b.dir, { recursive: true, force: true });
  });

  it('keeps memory flat over 200 steps (RSS and tfjs tensors)', async () => {
    const { model, task } = await tinyLMTask(13);
    const trainer = new Trainer(task, { steps: 400, evalEvery: 0 }, { engine: 'ort' });
    for (let i = 0; i < 20; i++) await trainer.trainStep(); // warm-up: graphs, arenas, JIT
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const tensors0 = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) await trainer.trainStep();
    global.gc?.();
    const grownMB = (process.memoryUsage().rss - rss0) / 2 ** 20;
    expect(tf.memory().numTensors).toBe(tensors0);
    expect(grownMB).toBeLessThan(20);
    await trainer.dispose();
    task.dispose();
    model.dispose();
  });
});

describe('graphs that cannot be built fail before training starts', () => {
  it('a batch whose targets do not fit the logits', async () => {
    const { model } = await tinyLMTask(1);
    const engine = await OrtGradientEngine.create(model.config, model.params);
    const submodels = [resolveWidths(model.config, 64)];
    const batch = {
      x: tf.zeros([2, 8], 'int32'),
      y: tf.zeros([2, 5], 'int32'), // 10 targets for 16 positions
    };
    await expect(engine.prepare(batch, submodels)).rejects.toThrow(GraphError);
    await expect(engine.prepare(batch, submodels)).rejects.toThrow(
      /training graph cannot be built for a batch of shape \[2, 8\]/,
    );
    tf.dispose([batch.x, batch.y]);
    await engine.dispose();
    model.dispose();
  });

  it('a model whose weights do not match its config', async () => {
    const { model, task } = await tinyLMTask(1);
    const wrong = { ...model.params, 'ln_f.weight': tf.variable(tf.ones([3])) };
    await expect(OrtGradientEngine.create(model.config, wrong)).rejects.toThrow(
      /weight "ln_f.weight" has 3 values; the config needs \[16\]/,
    );
    const trainer = new Trainer(task, { steps: 2 }, { engine: 'ort' });
    await expect(trainer.prepare()).resolves.toBeUndefined(); // a sound model prepares fine
    await trainer.dispose();
    wrong['ln_f.weight'].dispose();
    task.dispose();
    model.dispose();
  });

  it('skipped layers are refused by the training graph', async () => {
    const { model } = await tinyLMTask(1);
    await expect(
      buildTrainGraph(
        { config: model.config, submodels: [[0, 64]], inputShape: [1, 4], targets: 4 },
        async () => new Map(),
      ),
    ).rejects.toThrow(/cannot skip layers \(layer 0 has width 0\)/);
    model.dispose();
  });
});
