import { workerData } from 'node:worker_threads';
import { adamwUpdate, addSquares, type UpdateArgs } from '../ort/array-adamw';
import { CTL, REMOTE_SQUARES, REQUEST, UPDATE_ARGS, type AdamWShare } from './adamw-share';

// The second thread of TwoThreadAdamW: it waits on shared memory (no message queue: a step is
// two round trips of microseconds), sums its gradients' squares, then updates its parameters.
const share = workerData as AdamWShare;
const ctl = new Int32Array(share.control);
const args = new Float64Array(share.args);
const view = (buf: SharedArrayBuffer, offset: number, size: number) =>
  new Float32Array(buf, offset * 4, size);
const params = share.layout.map(({ offset, size, decay }) => ({
  p: view(share.params, offset, size),
  g: view(share.grads, offset, size),
  m: view(share.m, offset, size),
  v: view(share.v, offset, size),
  decay,
}));

let seen = 0;
for (;;) {
  Atomics.wait(ctl, CTL.request, seen);
  seen = Atomics.load(ctl, CTL.request);
  const kind = Atomics.load(ctl, CTL.kind);
  if (kind === REQUEST.exit) break;
  if (kind === REQUEST.norm) {
    let sum = 0;
    for (const { g } of params) sum = addSquares(g, sum);
    args[REMOTE_SQUARES] = sum;
  } else {
    const a = Object.fromEntries(UPDATE_ARGS.map((k, i) => [k, args[i]])) as unknown as UpdateArgs;
    for (const { p, g, m, v, decay } of params) adamwUpdate(p, g, m, v, a, decay);
  }
  Atomics.store(ctl, CTL.done, seen);
  Atomics.notify(ctl, CTL.done);
}
