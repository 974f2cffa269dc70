// How a query becomes what the search sees: the one definition that the server (upload.ts, for
// uploaded images) and the page (app.js, for the encoder that runs in the browser) both follow,
// so an image gives the same embedding whichever side computes it. Plain JS (the page has no
// build step); query-input.d.ts beside it gives the server its types.

/**
 * The encoder's input for one decoded image, by these rules:
 *
 * 1. The image is 8-bit RGBA as stored in the file (no colour management, no EXIF rotation);
 *    alpha is ignored.
 * 2. It is resized to size×size, bilinear, with pixel centres aligned: output pixel x samples
 *    source x' = (x + 0.5)·(width / size) − 0.5, clamped to the image (the training loader's
 *    resize, so uploads look like the digits the model was trained on).
 * 3. Gray = (0.299·R + 0.587·G + 0.114·B) / 255 (ITU-R BT.601 luma), in [0, 1].
 * 4. If the mean gray is over 0.5 (a dark digit on a light ground), every value v becomes 1 − v:
 *    MNIST digits are light on dark.
 *
 * Returns [size, size, 1] floats, row-major: MatViT's pixel_values for one image.
 */
export function queryPixels(rgba, width, height, size) {
  if (!(width >= 1 && height >= 1) || rgba.length !== width * height * 4)
    throw new Error(
      `queryPixels: expected ${width}×${height}×4 RGBA bytes, got ${rgba.length} values`,
    );
  const out = new Float32Array(size * size);
  const sx = width / size;
  const sy = height / size;
  // Byte c of pixel (x, y), clamped at the right and bottom edges.
  const at = (x, y, c) => rgba[(Math.min(height - 1, y) * width + Math.min(width - 1, x)) * 4 + c];
  for (let y = 0; y < size; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.floor(fy);
    const wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.floor(fx);
      const wx = fx - x0;
      const channel = (c) => {
        const top = at(x0, y0, c) * (1 - wx) + at(x0 + 1, y0, c) * wx;
        const bottom = at(x0, y0 + 1, c) * (1 - wx) + at(x0 + 1, y0 + 1, c) * wx;
        return top * (1 - wy) + bottom * wy;
      };
      out[y * size + x] = (0.299 * channel(0) + 0.587 * channel(1) + 0.114 * channel(2)) / 255;
    }
  }
  let sum = 0;
  for (const v of out) sum += v;
  if (sum / out.length > 0.5) for (let i = 0; i < out.length; i++) out[i] = 1 - out[i];
  return out;
}

/**
 * The query embedding the index is searched with: the encoder's pooled output divided by its
 * L2 norm (at least 1e-12, so an all-zero output stays finite), as the database rows are.
 */
export function unitVector(v) {
  let sq = 0;
  for (const x of v) sq += x * x;
  const norm = Math.max(Math.sqrt(sq), 1e-12);
  return Float32Array.from(v, (x) => x / norm);
}
