import { ConfigError } from '@matformer/core';

/** Images as one float array in [0, 1], NHWC, with integer labels. */
export interface ImageDataset {
  name: string;
  images: Float32Array; // [N, H, W, C]
  labels: Int32Array; // [N]
  height: number;
  width: number;
  channels: number;
  /** Class names; label i names classes[i]. */
  classes: string[];
}

export function datasetSize(d: ImageDataset): number {
  return d.labels.length;
}

/** Checks that array sizes and labels agree with the declared geometry. */
export function validateDataset(d: ImageDataset): ImageDataset {
  const n = d.labels.length;
  if (n === 0) throw new ConfigError(`image dataset "${d.name}" is empty`);
  if (d.images.length !== n * d.height * d.width * d.channels) {
    throw new ConfigError(
      `image dataset "${d.name}": ${d.images.length} pixel values do not fit ${n} images of ${d.height}×${d.width}×${d.channels}`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (!(d.labels[i] >= 0 && d.labels[i] < d.classes.length))
      throw new ConfigError(
        `image dataset "${d.name}": label ${d.labels[i]} of image ${i} is outside [0, ${d.classes.length})`,
      );
  }
  return d;
}

/** The examples at `indices`, as a new dataset. */
export function subset(d: ImageDataset, indices: number[], name = d.name): ImageDataset {
  const px = d.height * d.width * d.channels;
  const images = new Float32Array(indices.length * px);
  const labels = new Int32Array(indices.length);
  indices.forEach((src, i) => {
    images.set(d.images.subarray(src * px, (src + 1) * px), i * px);
    labels[i] = d.labels[src];
  });
  return { ...d, name, images, labels };
}

/**
 * Deterministic, class-stratified split: within each class, every k-th example
 * (k = round(1/testFraction)) goes to the test set, so both splits keep the class balance
 * whatever order the data comes in (MNIST here cycles 0,1,…,9).
 */
export function splitDataset(
  d: ImageDataset,
  testFraction: number,
): { train: ImageDataset; test: ImageDataset } {
  if (!(testFraction > 0 && testFraction < 1))
    throw new ConfigError(`testFraction must be in (0, 1), got ${testFraction}`);
  const k = Math.max(2, Math.round(1 / testFraction));
  const seen = new Map<number, number>();
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < d.labels.length; i++) {
    const n = seen.get(d.labels[i]) ?? 0;
    seen.set(d.labels[i], n + 1);
    (n % k === k - 1 ? test : train).push(i);
  }
  return { train: subset(d, train, `${d.name}/train`), test: subset(d, test, `${d.name}/test`) };
}
