import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, CheckpointError, tensorGrowth, loadModel, MatLM, Rng } from '@matformer/core';
import { jointGradients, TrainingError } from './joint-step';
import { Trainer } from './trainer';
import { resolveEngine } from './engine-choice';
import { evaluateOn } from './ort/evaluate-ort';
import { availableParallelism } from 'node:os';
import { readMetrics, runPath } from './run-dir';
import { lmTask } from './data/lm-task';
import { tinyLMTask } from './test-fixtures';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('Trainer on a tiny MatLM', () => {
  it("brings every granularity's held-out loss down within a few dozen steps", async () => {
    const { model, task } = await tinyLMTask(1);
    const trainer = new Trainer(task, {
      steps: 40,
      lr: 1e-2,
      warmupSteps: 5,
      evalEvery: 0,
      checkpointEvery: 0,
    });
    const before = await trainer.evaluate();
    const after = await trainer.run();
    for (const [i, row] of after.rows.entries()) {
      expect(row.loss, `width ${row.name}`).toBeLessThan(before.rows[i].loss - 1.0);
    }
    // Uniform bytes would cost ln 256 = 5.55 nats; the nested submodels all beat it by far.
    expect(Math.max(...after.rows.map((r) => r.loss))).toBeLessThan(3.5);
    await trainer.dispose();
    task.dispose();
    model.dispose();
  });

  it("optimises Σ λ_i L_i: the reported loss and the gradients equal the weighted sum of each submodel's", async () => {
    const { model, task } = await tinyLMTask(2);
    const batch = task.nextBatch(new Rng(3));
    const submodels = [
      [8, 8],
      [16, 16],
      [64, 64],
    ];
    const lambdas = [0.5, 1, 2];
    const { grads, losses } = jointGradients(
      model.params,
      (w) => task.loss(batch, w),
      submodels,
      lambdas,
    );
    // Each L_i on its own equals a plain forward at those widths.
    submodels.forEach((w, i) =>
      expect(losses[i]).toBeCloseTo(
        tf.tidy(() => task.loss(batch, w).dataSync()[0]),
        5,
      ),
    );
    // The accumulated gradient equals the gradient of the explicit weighted sum.
    const vars = model.variables;
    const ref = tf.variableGrads(
      () => tf.addN(submodels.map((w, i) => task.loss(batch, w).mul(lambdas[i]))) as tf.Scalar,
      vars,
    );
    for (const [name, v] of Object.entries(model.params)) {
      const diff = tf.tidy(() => grads[name].sub(ref.grads[v.name]).abs().max().dataSync()[0]);
      expect(diff, name).toBeLessThan(1e-5);
    }
    tf.dispose([...Object.values(grads), ...Object.values(ref.grads), ref.value, batch.x, batch.y]);
    task.dispose();
    model.dispose();
  });

  it('reports the weighted joint loss and samples a subset of granularities when asked', async () => {
    const { model, task } = await tinyLMTask(4);
    const trainer = new Trainer(task, { steps: 5, granularitiesPerStep: 2, lambdas: [1, 2, 3, 4] });
    const m = await trainer.trainStep();
    const widths = Object.keys(m.losses).map(Number);
    expect(widths).toHaveLength(2);
    const weight = (w: number) => [8, 16, 32, 64].indexOf(w) + 1;
    expect(m.loss).toBeCloseTo(
      widths.reduce((s, w) => s + weight(w) * m.losses[w], 0),
      6,
    );
    await trainer.dispose();
    task.dispose();
    model.dispose();
  });

  // Bit-exact on one thread and on two: a loaded model keeps a fresh one's weight order, so
  // the global gradient norm adds up in the same order (a sorted order once cost ~1e-8).
  it.each([false, true])(
    'resuming from a checkpoint gives the parameters of an uninterrupted run (parallel: %s)',
    async (parallel) => {
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
      const straight = new Trainer(a.task, opts, { parallel });
      await straight.run();

      const b = await tinyLMTask(5);
      const first = new Trainer(b.task, { ...opts, steps: 8 }, { runDir: b.dir, parallel });
      for (let i = 0; i < 4; i++) await first.trainStep();
      await first.save();
      // Steps after the checkpoint are lost when the process dies: simulate by dropping the trainer.
      await first.trainStep();
      await first.dispose();
      b.task.dispose();
      b.model.dispose();

      const resumed = await Trainer.resume(
        b.dir,
        (model) => lmTask(model as MatLM, b.corpus, { batchSize: 8, seqLen: 32, evalWindows: 16 }),
        { parallel },
      );
      expect(resumed.step).toBe(4);
      await resumed.run();
      for (const [name, v] of Object.entries(a.model.params)) {
        const got = resumed.task.model.params[name].dataSync();
        const want = v.dataSync();
        expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), name).toBe(true);
      }
      // The run directory has the final weights, loadable on their own.
      const final = await loadModel(runPath(b.dir, 'checkpoint'));
      expect(final.config).toEqual(a.model.config);
      final.dispose();
      await Promise.all([straight, resumed].map((t) => t.dispose()));
      [a.task, resumed.task].forEach((t) => t.dispose());
      [a.model, resumed.task.model].forEach((m) => m.dispose());
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  it('writes config, JSONL metrics and checkpoints to the run directory, and no temp files', async () => {
    const { model, task, dir } = await tinyLMTask(6);
    const trainer = new Trainer(
      task,
      { steps: 6, evalEvery: 3, checkpointEvery: 3 },
      { runDir: dir },
    );
    await trainer.run();
    const files = await readdir(dir);
    expect(files.sort()).toEqual([
      'checkpoint.safetensors',
      'config.json',
      'fixture.txt',
      'metrics.jsonl',
    ]);
    const metrics = await readMetrics(dir);
    expect(metrics.filter((m) => m.type === 'step')).toHaveLength(6);
    expect(metrics.filter((m) => m.type === 'eval').map((m) => m.step)).toEqual([3, 6]);
    const config = JSON.parse(await readFile(runPath(dir, 'config'), 'utf8'));
    expect(config.model.arch).toBe('matlm');
    expect(config.data.kind).toBe('text');
    await trainer.dispose();
    task.dispose();
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('splitting batches across two threads gives the same update as one thread', async () => {
    const one = await tinyLMTask(11);
    const two = await tinyLMTask(11);
    const a = new Trainer(one.task, { steps: 3, granularitiesPerStep: 'all' }, { parallel: false });
    const b = new Trainer(two.task, { steps: 3, granularitiesPerStep: 'all' }, { parallel: true });
    expect([a.isParallel, b.isParallel]).toEqual([false, true]);
    for (let i = 0; i < 3; i++) {
      const [ma, mb] = [await a.trainStep(), await b.trainStep()];
      for (const w of Object.keys(ma.losses))
        expect(mb.losses[Number(w)]).toBeCloseTo(ma.losses[Number(w)], 4);
    }
    for (const [name, v] of Object.entries(one.model.params)) {
      const diff = tf.tidy(() => v.sub(two.model.params[name]).abs().max().dataSync()[0]);
      expect(diff, name).toBeLessThan(1e-4);
    }
    await Promise.all([a.dispose(), b.dispose()]);
    [one, two].forEach((f) => {
      f.task.dispose();
      f.model.dispose();
    });
  });

  it('trains on one-row batches with two threads asked for (the step stays on one thread)', async () => {
    const { model, task } = await tinyLMTask(12, 1);
    const trainer = new Trainer(task, { steps: 2 }, { parallel: true });
    const m = await trainer.trainStep();
    expect(Object.values(m.losses).every(Number.isFinite)).toBe(true);
    await trainer.dispose();
    task.dispose();
    model.dispose();
  });

  it('keeps the tensor count flat over training steps and evaluations', async () => {
    const { model, task } = await tinyLMTask(7);
    const trainer = new Trainer(task, { steps: 100 });
    const growth = await tensorGrowth(
      async () => {
        await trainer.trainStep();
        await trainer.evaluate();
      },
      { warmup: 2, steps: 4 },
    );
    expect(growth).toEqual([0, 0, 0, 0]);
    await trainer.dispose();
    task.dispose();
    model.dispose();
  });

  it('stops on a NaN loss before updating anything', async () => {
    const { model, task } = await tinyLMTask(8);
    const trainer = new Trainer(task, { steps: 10 });
    model.params['ln_f.weight'].assign(tf.fill([16], NaN));
    const snapshot = model.params['tok_emb'].dataSync().slice();
    const before = tf.memory().numTensors;
    await expect(trainer.trainStep()).rejects.toThrow(TrainingError);
    await expect(trainer.trainStep()).rejects.toThrow(
      /loss of submodel widths \[8, 8\] is NaN; stopping before the update/,
    );
    expect(model.params['tok_emb'].dataSync()).toEqual(snapshot);
    expect(tf.memory().numTensors).toBe(before);
    await trainer.dispose();
    task.dispose();
    model.dispose();
  });

  it('rejects bad options, a corrupt checkpoint and a missing run clearly', async () => {
    const { model, task, dir } = await tinyLMTask(9);
    expect(() => new Trainer(task, { steps: 0 })).toThrow(
      /train option steps must be a positive integer, got 0/,
    );
    expect(() => new Trainer(task, { granularitiesPerStep: 5 })).toThrow(
      /granularities must be "all" or an integer in \[1, 4\], got 5/,
    );
    expect(() => new Trainer(task, { lambdas: [1, 2] })).toThrow(
      /lambdas must be 4 positive weights/,
    );
    expect(() => new Trainer(task, { lr: -1 })).toThrow(ConfigError);
    const make = (m: MatLM | unknown) =>
      lmTask(
        m as MatLM,
        { name: 'x', train: new Uint8Array(100), val: new Uint8Array(100) },
        { batchSize: 2, seqLen: 8 },
      );
    await expect(Trainer.resume(dir, make)).rejects.toThrow(
      /checkpoint.safetensors does not exist/,
    );
    const trainer = new Trainer(task, { steps: 1 }, { runDir: dir });
    await trainer.run();
    const bytes = await readFile(runPath(dir, 'checkpoint'));
    await writeFile(runPath(dir, 'checkpoint'), bytes.subarray(0, bytes.length / 2));
    await expect(Trainer.resume(dir, make)).rejects.toThrow(CheckpointError);
    await trainer.dispose();
    task.dispose();
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('validates threads, engine and device, naming the option and the allowed values (issue #23)', async () => {
    const { model, task } = await tinyLMTask(12);
    const cores = availableParallelism();
    for (const threads of [100000, -1, NaN, 1.5, 0])
      expect(() => new Trainer(task, {}, { engine: 'ort', threads })).toThrow(
        `threads must be an integer from 1 to ${cores} (the cores this process may use), got ${threads}`,
      );
    expect(() => new Trainer(task, {}, { engine: 'foo' as never })).toThrow(
      'engine must be one of "tfjs", "ort", got "foo"',
    );
    expect(() => new Trainer(task, {}, { engine: 'ort', device: 'gpu' as never })).toThrow(
      'device must be one of "cpu", "cuda", got "gpu"',
    );
    expect(() => new Trainer(task, {}, { engine: 'tfjs', device: 'cuda' })).toThrow(
      'device "cuda" needs engine "ort"',
    );
    await expect(resolveEngine('foo' as never)).rejects.toThrow(
      'engine must be one of "auto", "ort", "tfjs", got "foo"',
    );
    expect(await resolveEngine('tfjs')).toBe('tfjs');
    await expect(evaluateOn('gpu' as never, task, [64])).rejects.toThrow(
      'engine must be one of "tfjs", "ort", got "gpu"',
    );
    expect(() => new Trainer(task, {}, { engine: 'ort', threads: 1 })).not.toThrow();
    task.dispose();
    model.dispose();
  });

  it('resume --steps keeps the original schedule: the rate goes on at its final value, never jumps (issue #23)', async () => {
    const { model, task, dir, corpus } = await tinyLMTask(13);
    const opts = { steps: 6, lr: 1e-2, warmupSteps: 2, evalEvery: 0, checkpointEvery: 0 };
    const lrs: number[] = [];
    const reporter = { onStep: (m: { lr: number }) => void lrs.push(m.lr) };
    const first = new Trainer(task, opts, { runDir: dir, reporter });
    await first.run();
    await first.dispose();
    task.dispose();
    model.dispose();
    const make = (m: unknown) =>
      lmTask(m as MatLM, corpus, { batchSize: 8, seqLen: 32, evalWindows: 16 });
    // Nothing to train: refused, naming the step the run is at.
    await expect(Trainer.resume(dir, make, { steps: 4 })).rejects.toThrow(
      `steps 4: the run in ${dir} is already at step 6, so nothing would be trained; give more than 6 steps to extend it`,
    );
    const more = await Trainer.resume(dir, make, { steps: 10, reporter });
    expect(more.options.scheduleSteps).toBe(6);
    await more.run();
    expect(lrs).toHaveLength(10);
    // Steps 7–10 train at the rate the original run ended with (the cosine does not restart).
    for (const lr of lrs.slice(6)) expect(lr).toBe(lrs[5]);
    // After the warmup the rate only decreases, across the resume too.
    for (let i = 2; i < lrs.length; i++) expect(lrs[i]).toBeLessThanOrEqual(lrs[i - 1] + 1e-15);
    // A second extension keeps the same schedule (stored in the checkpoint).
    const again = await Trainer.resume(dir, make, { steps: 12 });
    expect(again.options.scheduleSteps).toBe(6);
    expect(again.lrAt(11)).toBe(lrs[5]);
    for (const t of [more, again]) {
      await t.dispose();
      t.task.dispose();
      t.task.model.dispose();
    }
    await rm(dir, { recursive: true, force: true });
  });
});
