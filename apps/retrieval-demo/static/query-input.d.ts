// Types of query-input.js (plain JS, served to the page as is).

/** The encoder's input [size, size, 1] for one decoded RGBA image (the rules: query-input.js). */
export function queryPixels(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  size: number,
): Float32Array;

/** The embedding divided by its L2 norm (at least 1e-12). */
export function unitVector(v: ArrayLike<number> & Iterable<number>): Float32Array;
