import { MatformerError } from '@matformer/core';
import { decodeImage, toTensorData } from '@matformer/train';

/** A rejected upload, with the HTTP status that says why. */
export class UploadError extends MatformerError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const ALLOWED_TYPES = ['image/png', 'image/jpeg'];
export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024;
/** Decoded size cap: a small file can still claim a huge canvas (a decompression bomb). */
export const MAX_SIDE = 4096;

/** Width and height from a PNG's IHDR chunk, read before anything is decompressed. */
function pngSize(bytes: Uint8Array): [number, number] | undefined {
  if (bytes.length < 24 || bytes[0] !== 0x89 || bytes[1] !== 0x50) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [view.getUint32(16), view.getUint32(20)];
}

/**
 * Checks an uploaded query image (declared type, size, real format, pixel size) and turns it
 * into what the model takes: size×size gray values in [0, 1], light digit on dark ground (a
 * dark-on-light drawing is inverted, since MNIST digits are white on black).
 */
export function uploadToPixels(
  bytes: Uint8Array,
  contentType: string | undefined,
  size: number,
  maxBytes = DEFAULT_MAX_UPLOAD_BYTES,
): Float32Array {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (!ALLOWED_TYPES.includes(type))
    throw new UploadError(
      415,
      `upload Content-Type must be ${ALLOWED_TYPES.join(' or ')}, got ${JSON.stringify(contentType ?? '')}`,
    );
  if (bytes.length === 0) throw new UploadError(400, 'the uploaded image is empty');
  if (bytes.length > maxBytes)
    throw new UploadError(
      413,
      `the uploaded image is ${bytes.length} bytes; the limit is ${maxBytes}`,
    );
  const dims = pngSize(bytes);
  if (dims && (dims[0] > MAX_SIDE || dims[1] > MAX_SIDE))
    throw new UploadError(
      413,
      `the uploaded PNG is ${dims[0]}×${dims[1]}; the limit is ${MAX_SIDE}×${MAX_SIDE}`,
    );
  let img;
  try {
    img = decodeImage(bytes, 'the uploaded image');
  } catch (e) {
    throw new UploadError(400, (e as Error).message);
  }
  if (img.width < 1 || img.height < 1 || img.width > MAX_SIDE || img.height > MAX_SIDE)
    throw new UploadError(
      413,
      `the uploaded image is ${img.width}×${img.height}; allowed 1…${MAX_SIDE} per side`,
    );
  const pixels = toTensorData(img, size, 1); // [size, size, 1]
  const mean = pixels.reduce((s, v) => s + v, 0) / pixels.length;
  if (mean > 0.5) for (let i = 0; i < pixels.length; i++) pixels[i] = 1 - pixels[i];
  return pixels;
}
