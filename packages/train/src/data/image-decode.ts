import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ConfigError } from '@matformer/core';
import { isPng, pngHeader } from './png-header';

/** A decoded image: RGBA bytes, row-major. */
export interface RawImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/**
 * Decodes PNG or JPEG bytes (sniffed from the magic number, not the file name). `maxPixels`
 * caps the decoded canvas: a PNG's chunk headers are walked before inflating (a second IHDR is
 * refused), and jpeg-js stops at its frame header, so a small file claiming a huge canvas
 * costs nothing.
 */
export function decodeImage(bytes: Uint8Array, source = 'image', maxPixels = Infinity): RawImage {
  const png = isPng(bytes);
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (png) {
      // Every chunk header is read (pngjs sizes its canvas from the last IHDR it meets).
      const { width: w, height: h } = pngHeader(bytes)!;
      if (w * h > maxPixels) throw new Error(`${w}×${h} is over the limit of ${maxPixels} pixels`);
      const img = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: img.width, height: img.height, rgba: new Uint8Array(img.data) };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxMemoryUsageInMB: 256,
        ...(Number.isFinite(maxPixels) ? { maxResolutionInMP: maxPixels / 1e6 } : {}),
      });
      return { width: img.width, height: img.height, rgba: img.data };
    }
  } catch (e) {
    throw new ConfigError(
      `${source}: unreadable ${png ? 'PNG' : 'JPEG'} (${(e as Error).message})`,
    );
  }
  throw new ConfigError(`${source}: not a PNG or JPEG image`);
}

/**
 * Resizes (bilinear) to size×size and converts to `channels` (1 = luminance, 3 = RGB),
 * values in [0, 1], HWC order.
 */
export function toTensorData(img: RawImage, size: number, channels: 1 | 3): Float32Array {
  const out = new Float32Array(size * size * channels);
  const sx = img.width / size;
  const sy = img.height / size;
  const px = (x: number, y: number, c: number) =>
    img.rgba[(Math.min(img.height - 1, y) * img.width + Math.min(img.width - 1, x)) * 4 + c];
  for (let y = 0; y < size; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.floor(fy);
    const wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.floor(fx);
      const wx = fx - x0;
      const sample = (c: number) =>
        (px(x0, y0, c) * (1 - wx) + px(x0 + 1, y0, c) * wx) * (1 - wy) +
        (px(x0, y0 + 1, c) * (1 - wx) + px(x0 + 1, y0 + 1, c) * wx) * wy;
      const [r, g, b] = [sample(0), sample(1), sample(2)];
      const o = (y * size + x) * channels;
      if (channels === 1) out[o] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
      else [out[o], out[o + 1], out[o + 2]] = [r / 255, g / 255, b / 255];
    }
  }
  return out;
}
