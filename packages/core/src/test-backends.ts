import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

/** The backends every core test runs on: the default (wasm) and the reference (cpu). */
export const testBackends = ['wasm', 'cpu'] as const;

export async function useBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} unavailable`);
  await tf.ready();
}

/** Largest absolute elementwise difference of two same-shape tensors. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}
