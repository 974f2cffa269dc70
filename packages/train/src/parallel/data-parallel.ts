import * as tf from '@tensorflow/tfjs';
import type { Worker } from 'node:worker_threads';
import { getBackend } from '@tensorflow/tfjs';
import { jointGradients, TrainingError, type JointGradients } from '../joint-step';
import type { AnyModel, Widths } from '@matformer/core';
import type { FromWorker, StepMessage } from './protocol';
import { spawnWorker } from './spawn-worker';

/** A batch whose loss is model.loss(x, y, widths), so its rows can be split across threads. */
export interface SplittableBatch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/**
 * Data parallelism over two threads: tfjs-wasm runs single-threaded under Node, so a second
 * tfjs instance in a worker computes the joint gradients of half of each batch while this
 * thread computes the other half. Weights go to the worker and gradients come back through
 * shared memory; the optimizer stays here, so the update is the same as for the whole batch
 * (up to float summation order).
 */
export class DataParallelGradients {
  private pending?: { resolve: (m: FromWorker) => void; reject: (e: Error) => void };

  private constructor(
    private readonly model: AnyModel,
    private readonly worker: Worker,
    private readonly layout: { name: string; offset: number; size: number }[],
    private readonly params: Float32Array,
    private readonly grads: Float32Array,
  ) {
    worker.on('message', (m: FromWorker) => this.pending?.resolve(m));
    worker.on('error', (e) => this.pending?.reject(e));
    worker.unref(); // idle, it never keeps the process alive on its own
  }

  static async start(model: AnyModel): Promise<DataParallelGradients> {
    let offset = 0;
    const layout = Object.entries(model.params).map(([name, v]) => {
      const entry = { name, offset, size: v.size };
      offset += v.size;
      return entry;
    });
    const paramsBuf = new SharedArrayBuffer(offset * 4);
    const gradsBuf = new SharedArrayBuffer(offset * 4);
    const worker = spawnWorker('grad-worker');
    const dp = new DataParallelGradients(
      model,
      worker,
      layout,
      new Float32Array(paramsBuf),
      new Float32Array(gradsBuf),
    );
    await dp.request(
      {
        type: 'init',
        config: model.config,
        backend: getBackend(),
        layout,
        params: paramsBuf,
        grads: gradsBuf,
      },
      'ready',
    );
    return dp;
  }

  private request(msg: unknown, expect: FromWorker['type']): Promise<FromWorker> {
    this.worker.ref(); // keep the process alive while an answer is due
    return new Promise<FromWorker>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(msg);
    }).then((m) => {
      this.pending = undefined;
      this.worker.unref();
      if (m.type === 'error')
        throw m.name === 'TrainingError'
          ? new TrainingError(m.message)
          : new Error(`gradient worker: ${m.message}`);
      if (m.type !== expect)
        throw new Error(`gradient worker answered "${m.type}", expected "${expect}"`);
      return m;
    });
  }

  /** Joint gradients of the whole batch: rows [0, n1) here, [n1, B) on the worker, averaged by row count. */
  async jointGradients(
    batch: SplittableBatch,
    submodels: Widths[],
    lambdas: number[],
  ): Promise<JointGradients> {
    const B = batch.x.shape[0];
    const n1 = Math.ceil(B / 2);
    const n2 = B - n1;
    for (const { name, offset } of this.layout)
      this.params.set(this.model.params[name].dataSync() as Float32Array, offset);
    const rows = (t: tf.Tensor, start: number, n: number) => tf.slice(t, start, n);
    const [x1, y1, x2, y2] = [
      rows(batch.x, 0, n1),
      rows(batch.y, 0, n1),
      rows(batch.x, n1, n2),
      rows(batch.y, n1, n2),
    ];
    const wire = (t: tf.Tensor) => ({
      data: t.dataSync() as Float32Array | Int32Array,
      shape: t.shape,
      dtype: t.dtype as 'float32' | 'int32',
    });
    const step: StepMessage = { type: 'step', x: wire(x2), y: wire(y2), submodels, lambdas };
    const remote = this.request(step, 'done');
    let local: JointGradients;
    try {
      const loss = (w: Widths) =>
        (this.model.loss as (a: tf.Tensor, b: tf.Tensor, w: Widths) => tf.Scalar)(x1, y1, w);
      local = jointGradients(this.model.params, loss, submodels, lambdas);
    } catch (e) {
      await remote.catch(() => undefined);
      throw e;
    } finally {
      tf.dispose([x1, y1, x2, y2]);
    }
    let done: Extract<FromWorker, { type: 'done' }>;
    try {
      done = (await remote) as typeof done;
    } catch (e) {
      tf.dispose(Object.values(local.grads));
      throw e;
    }
    const grads: Record<string, tf.Tensor> = {};
    for (const { name, offset, size } of this.layout) {
      grads[name] = tf.tidy(() =>
        local.grads[name]
          .mul(n1 / B)
          .add(
            tf
              .tensor(this.grads.subarray(offset, offset + size), local.grads[name].shape)
              .mul(n2 / B),
          ),
      );
    }
    tf.dispose(Object.values(local.grads));
    return { grads, losses: local.losses.map((l, i) => (l * n1 + done.losses[i] * n2) / B) };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
