import * as tf from '@tensorflow/tfjs';
import { parentPort } from 'node:worker_threads';
import { createModel, selectBackend, type AnyModel } from '@matformer/core';
import { jointGradients } from '../joint-step';
import type { FromWorker, InitMessage, ToWorker } from './protocol';

// A second tfjs instance on its own thread: it computes the joint gradients of its share of
// each batch with the weights the trainer last wrote into shared memory.
let model: AnyModel;
let init: InitMessage;
let paramView: Float32Array;
let gradView: Float32Array;

const port = parentPort!;
const reply = (m: FromWorker) => port.postMessage(m);

port.on('message', async (msg: ToWorker) => {
  try {
    if (msg.type === 'init') {
      init = msg;
      await selectBackend(msg.backend as never);
      model = createModel(msg.config);
      paramView = new Float32Array(msg.params);
      gradView = new Float32Array(msg.grads);
      reply({ type: 'ready' });
    } else if (msg.type === 'step') {
      for (const { name, offset, size } of init.layout) {
        const value = tf.tensor(
          paramView.subarray(offset, offset + size),
          model.params[name].shape,
        );
        model.params[name].assign(value);
        value.dispose();
      }
      const x = tf.tensor(msg.x.data, msg.x.shape, msg.x.dtype);
      const y = tf.tensor(msg.y.data, msg.y.shape, msg.y.dtype);
      const loss = (w: number[]) =>
        (model.loss as (a: tf.Tensor, b: tf.Tensor, w: number[]) => tf.Scalar)(x, y, w);
      const { grads, losses } = jointGradients(model.params, loss, msg.submodels, msg.lambdas);
      for (const { name, offset } of init.layout)
        gradView.set(grads[name].dataSync() as Float32Array, offset);
      tf.dispose([x, y, ...Object.values(grads)]);
      reply({ type: 'done', losses });
    } else if (msg.type === 'close') {
      model?.dispose();
      port.close();
    }
  } catch (e) {
    reply({ type: 'error', message: (e as Error).message, name: (e as Error).name });
  }
});
