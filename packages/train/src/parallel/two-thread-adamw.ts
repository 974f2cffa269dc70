import type { Worker } from 'node:worker_threads';
import type { AdamW } from '../adamw';
import { adamwUpdate, addSquares, ArrayAdamW, clipScale } from '../ort/array-adamw';
import { CTL, REMOTE_SQUARES, REQUEST, UPDATE_ARGS, type AdamWShare } from './adamw-share';
import { spawnWorker } from './spawn-worker';

/** How long a step waits for the worker before it gives up with an error. */
const WORKER_TIMEOUT_MS = 60_000;

/**
 * ArrayAdamW's clipped update on two threads: this one takes the first parameters, a worker the
 * last ones (about half of the values). Both run ArrayAdamW's own loop, so the weights and
 * moments are the same bit for bit; only the gradient norm sums in another order (~1e-16).
 * onnxruntime-node rejects tensors on SharedArrayBuffers, so the worker's gradients are copied
 * in and its parameters copied back each step (two memcpys of its half).
 */
export class TwoThreadAdamW {
  private constructor(
    readonly inner: ArrayAdamW,
    private readonly worker: Worker,
    private readonly ctl: Int32Array,
    private readonly args: Float64Array,
    private readonly local: string[],
    private readonly remote: { name: string; p: Float32Array; g: Float32Array }[],
  ) {
    worker.unref(); // it never keeps the process alive on its own
  }

  /** Moments and step count from `reference`; `params` are the buffers `clipAndStep` updates. */
  static start(
    reference: AdamW,
    ranks: Record<string, number>,
    params: Record<string, Float32Array>,
  ): TwoThreadAdamW {
    const inner = new ArrayAdamW(reference, ranks);
    const names = Object.keys(params);
    const split = halfway(names.map((n) => params[n].length));
    const layout: AdamWShare['layout'] = [];
    let floats = 0;
    for (const name of names.slice(split)) {
      layout.push({ name, offset: floats, size: params[name].length, decay: inner.decayOf(name) });
      floats += params[name].length;
    }
    const buffer = () => new SharedArrayBuffer(floats * 4);
    const share: AdamWShare = {
      control: new SharedArrayBuffer(3 * 4),
      args: new SharedArrayBuffer((UPDATE_ARGS.length + 1) * 8),
      params: buffer(),
      grads: buffer(),
      m: buffer(),
      v: buffer(),
      layout,
    };
    const remote = layout.map(({ name, offset, size }) => {
      const view = (buf: SharedArrayBuffer) => new Float32Array(buf, offset * 4, size);
      const [p, g, m, v] = [share.params, share.grads, share.m, share.v].map(view);
      p.set(params[name]);
      m.set(inner.m[name]);
      v.set(inner.v[name]);
      // The worker's moments live in shared memory; checkpoints read them through `inner`.
      inner.m[name] = m;
      inner.v[name] = v;
      return { name, p, g };
    });
    const worker = spawnWorker('adamw-worker', { workerData: share });
    return new TwoThreadAdamW(
      inner,
      worker,
      new Int32Array(share.control),
      new Float64Array(share.args),
      names.slice(0, split),
      remote,
    );
  }

  /** Clips the gradients to global norm `clip` (0 = off), updates `params` at rate lr; returns the norm. */
  clipAndStep(
    params: Record<string, Float32Array>,
    grads: Record<string, Float32Array>,
    lr: number,
    clip: number,
  ): number {
    for (const r of this.remote) r.g.set(grads[r.name]);
    const localSquares = this.together(REQUEST.norm, () => {
      let sum = 0;
      for (const name of this.local) sum = addSquares(grads[name], sum);
      return sum;
    });
    const norm = Math.sqrt(localSquares + this.args[REMOTE_SQUARES]);
    const a = this.inner.nextStep(lr, clipScale(norm, clip));
    UPDATE_ARGS.forEach((k, i) => (this.args[i] = a[k]));
    this.together(REQUEST.update, () => {
      for (const name of this.local)
        adamwUpdate(
          params[name],
          grads[name],
          this.inner.m[name],
          this.inner.v[name],
          a,
          this.inner.decayOf(name),
        );
    });
    for (const r of this.remote) params[r.name].set(r.p);
    return norm;
  }

  /** Writes moments and step count back into the tfjs AdamW (for its checkpoint). */
  copyTo(target: AdamW): void {
    this.inner.copyTo(target);
  }

  get t(): number {
    return this.inner.t;
  }

  async close(): Promise<void> {
    this.request(REQUEST.exit);
    await this.worker.terminate();
  }

  private request(kind: number): number {
    Atomics.store(this.ctl, CTL.kind, kind);
    const id = Atomics.add(this.ctl, CTL.request, 1) + 1;
    Atomics.notify(this.ctl, CTL.request);
    return id;
  }

  /** Asks the worker for `kind`, runs `here` meanwhile on this thread, then waits for the worker. */
  private together<T>(kind: number, here: () => T): T {
    const id = this.request(kind);
    const out = here();
    for (;;) {
      const done = Atomics.load(this.ctl, CTL.done);
      if (done === id) return out;
      if (Atomics.wait(this.ctl, CTL.done, done, WORKER_TIMEOUT_MS) === 'timed-out')
        throw new Error(
          `the AdamW worker thread did not answer within ${WORKER_TIMEOUT_MS / 1000} s`,
        );
    }
  }
}

/** The index that splits `sizes` into two runs of nearly equal sums (the second non-empty). */
function halfway(sizes: number[]): number {
  const total = sizes.reduce((a, b) => a + b, 0);
  let split = sizes.length;
  let held = 0;
  while (split > 1) {
    const next = held + sizes[split - 1];
    if (held > 0 && Math.abs(total / 2 - next) >= Math.abs(total / 2 - held)) break;
    held = next;
    split--;
  }
  return split;
}
