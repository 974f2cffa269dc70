import { toTensorData } from '@matformer/train';
import { describe, expect, it } from 'vitest';
import { queryPixels, unitVector } from '../static/query-input.js';

/** A deterministic RGBA image with colour, so the luma weights matter. */
function rgbaImage(width: number, height: number, seed: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  let s = seed;
  for (let i = 0; i < rgba.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    rgba[i] = i % 4 === 3 ? 255 : (s >>> 16) & 255;
  }
  return rgba;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('the query input rules (static/query-input.js)', () => {
  it.each([
    [28, 28],
    [56, 56],
    [13, 40],
    [101, 7],
    [1, 1],
  ])(
    'resize and luma equal the training loader (toTensorData) at %i×%i → 28×28',
    (width, height) => {
      const rgba = rgbaImage(width, height, width * 31 + height);
      const loader = toTensorData({ width, height, rgba }, 28, 1);
      const mean = loader.reduce((a, v) => a + v, 0) / loader.length;
      const expected = mean > 0.5 ? loader.map((v) => 1 - v) : loader;
      expect(maxDiff(queryPixels(rgba, width, height, 28), expected)).toBeLessThan(1e-6);
    },
  );

  it('keeps a light-on-dark digit and inverts a dark-on-light one', () => {
    // A 4×4 white bar on black, and the same drawing black on white.
    const light = new Uint8Array(4 * 4 * 4).fill(0);
    const dark = new Uint8Array(4 * 4 * 4).fill(255);
    for (let y = 0; y < 4; y++) {
      for (const c of [0, 1, 2]) {
        light[(y * 4 + 1) * 4 + c] = 255;
        dark[(y * 4 + 1) * 4 + c] = 0;
      }
      light[(y * 4 + 1) * 4 + 3] = 255;
    }
    const a = queryPixels(light, 4, 4, 4);
    const b = queryPixels(dark, 4, 4, 4);
    expect(Array.from(a)).toEqual([0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('ignores alpha and refuses a buffer of the wrong size', () => {
    const opaque = rgbaImage(5, 5, 3);
    const clear = opaque.map((v, i) => (i % 4 === 3 ? 0 : v));
    expect(Array.from(queryPixels(clear, 5, 5, 28))).toEqual(
      Array.from(queryPixels(opaque, 5, 5, 28)),
    );
    expect(() => queryPixels(new Uint8Array(10), 5, 5, 28)).toThrow(
      'queryPixels: expected 5×5×4 RGBA bytes, got 10 values',
    );
  });

  it('unitVector divides by the L2 norm and keeps zero finite', () => {
    expect(Array.from(unitVector([3, 4]))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(unitVector([0, 0]))).toEqual([0, 0]);
  });
});
