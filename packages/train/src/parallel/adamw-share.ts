// The shared memory between TwoThreadAdamW and its worker (adamw-worker.ts).

/** Int32 control words: the request counter, its kind, and the last request done. */
export const CTL = { request: 0, kind: 1, done: 2 } as const;
export const REQUEST = { norm: 1, update: 2, exit: 3 } as const;
/** Float64 slots: the update's scalars in this order, then the worker's Σ g². */
export const UPDATE_ARGS = ['beta1', 'beta2', 'eps', 'lr', 'scale', 'bc1', 'bc2'] as const;
export const REMOTE_SQUARES = UPDATE_ARGS.length;

/** What the worker is started with: its parameters' places in four shared float32 buffers. */
export interface AdamWShare {
  control: SharedArrayBuffer;
  args: SharedArrayBuffer;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  m: SharedArrayBuffer;
  v: SharedArrayBuffer;
  /** Offsets and sizes in floats; decay: the parameter's weight decay (0 for vectors). */
  layout: { name: string; offset: number; size: number; decay: number }[];
}
