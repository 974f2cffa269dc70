import type { ModelConfig, Widths } from '@matformer/core';

/** Messages between the trainer and a gradient worker. Tensors travel as shared memory. */
export interface InitMessage {
  type: 'init';
  config: ModelConfig;
  backend: string;
  /** Parameter names in order, with their offsets into the shared parameter/gradient buffers. */
  layout: { name: string; offset: number; size: number }[];
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

export interface StepMessage {
  type: 'step';
  x: { data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' };
  y: { data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' };
  submodels: Widths[];
  lambdas: number[];
}

export type ToWorker = InitMessage | StepMessage | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; losses: number[] }
  | { type: 'error'; message: string; name: string };
