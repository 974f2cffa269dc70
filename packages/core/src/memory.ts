import * as tf from '@tensorflow/tfjs';

/**
 * Runs `step` `warmup` times, then `steps` more times, and returns how many tensors each
 * measured step left behind. A leak-free step returns all zeros; tests assert exactly that.
 */
export async function tensorGrowth(
  step: () => unknown,
  { warmup = 2, steps = 5 } = {},
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await step();
  const growth: number[] = [];
  for (let i = 0; i < steps; i++) {
    const before = tf.memory().numTensors;
    await step();
    growth.push(tf.memory().numTensors - before);
  }
  return growth;
}
