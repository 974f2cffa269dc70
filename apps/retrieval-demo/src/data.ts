import { datasetSize, loadMnist, subset, type ImageDataset } from '@matformer/train';

export interface DigitSplits {
  /** The database: every train digit, embedded once by the full encoder. */
  train: ImageDataset;
  /** Held-out queries, never trained on. */
  test: ImageDataset;
}

/**
 * The 10,000 MNIST digits shipped in the `mnist` package, split 90/10: of every 100 consecutive
 * digits the last 10 are held out. `loadMnist` interleaves the classes 0,1,…,9,0,1,…, so these
 * blocks of ten hold one digit of each class and both splits stay class-balanced. (Kept as is
 * so cached demo runs stay valid; `splitDataset` is now class-stratified too.)
 * `limit` keeps the first n of each split (tests, quick runs).
 */
export function loadDigits(limit: { train?: number; test?: number } = {}): DigitSplits {
  const all = loadMnist();
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < datasetSize(all); i++) (i % 100 >= 90 ? test : train).push(i);
  const cut = (ids: number[], n?: number) => (n === undefined ? ids : ids.slice(0, n));
  return {
    train: subset(all, cut(train, limit.train), 'mnist/train'),
    test: subset(all, cut(test, limit.test), 'mnist/test'),
  };
}

/** Pixels of image i: [H, W, C] floats in [0, 1]. */
export function imageAt(d: ImageDataset, i: number): Float32Array {
  const px = d.height * d.width * d.channels;
  return d.images.subarray(i * px, (i + 1) * px);
}
