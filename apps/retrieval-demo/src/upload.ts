import { MatformerError } from '@matformer/core';
import { decodeImage } from '@matformer/train';
import { PngStructureError, readImageHeader, type ImageHeader } from '@matformer/train';
import { queryPixels } from '../static/query-input.js';

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
/** Decoded size caps: a small file can still claim a huge canvas (a decompression bomb). */
export const MAX_SIDE = 4096;
/**
 * One megapixel, for every format: a digit needs far less, and it bounds the decode to
 * ~0.25 s here (a 2048² JPEG costs 0.7 s, a 16-bit 2048² PNG 0.9 s).
 */
export const MAX_PIXELS = 1024 * 1024;

const fmt = (n: number) => n.toLocaleString('en-US');

/** The upload's header; a PNG whose chunk layout is broken is a 400 that says where. */
function headerOf(bytes: Uint8Array): ImageHeader | undefined {
  try {
    return readImageHeader(bytes);
  } catch (e) {
    if (!(e instanceof PngStructureError)) throw e;
    throw new UploadError(400, `the uploaded image: unreadable PNG (${e.message})`);
  }
}

/**
 * The cheap checks of an upload, on the bytes and the header only (declared type, size, real
 * format, canvas size): everything a request can be refused for before any decoding.
 */
export function checkUpload(
  bytes: Uint8Array,
  contentType: string | undefined,
  maxBytes = DEFAULT_MAX_UPLOAD_BYTES,
): ImageHeader {
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
  const h = headerOf(bytes);
  if (!h) {
    const looksJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
    const looksPng = bytes[0] === 0x89 && bytes[1] === 0x50;
    throw new UploadError(
      400,
      looksJpeg || looksPng
        ? `the uploaded image: unreadable ${looksPng ? 'PNG' : 'JPEG'} (no image header before the data)`
        : 'the uploaded image: not a PNG or JPEG image',
    );
  }
  if (h.interlaced)
    throw new UploadError(
      415,
      'the uploaded PNG is interlaced (Adam7), which the decoder inflates without a size limit; save it without interlacing',
    );
  if (h.width < 1 || h.height < 1)
    throw new UploadError(
      400,
      `the uploaded ${h.format} claims an empty ${h.width}×${h.height} canvas`,
    );
  if (h.width > MAX_SIDE || h.height > MAX_SIDE)
    throw new UploadError(
      413,
      `the uploaded ${h.format} is ${h.width}×${h.height}; the limit is ${MAX_SIDE}×${MAX_SIDE}`,
    );
  if (h.width * h.height > MAX_PIXELS)
    throw new UploadError(
      413,
      `the uploaded ${h.format} is ${h.width}×${h.height} = ${fmt(h.width * h.height)} pixels; the limit is ${fmt(MAX_PIXELS)} (e.g. 1024×1024)`,
    );
  return h;
}

/**
 * Checks an uploaded query image (see {@link checkUpload}), decodes it and turns it into what
 * the model takes by the rules of static/query-input.js: size×size gray values in [0, 1], light
 * digit on dark ground (a dark-on-light drawing is inverted, since MNIST digits are white on
 * black). The decode is the expensive part: the server runs this off its request thread
 * (decode-pool.ts).
 */
export function uploadToPixels(
  bytes: Uint8Array,
  contentType: string | undefined,
  size: number,
  maxBytes = DEFAULT_MAX_UPLOAD_BYTES,
): Float32Array {
  checkUpload(bytes, contentType, maxBytes);
  let img;
  try {
    // The cap again inside the decoder: the header read above is not the decoder's own parse
    // (checkUpload refused a second IHDR, so the first one is the canvas the decoder sizes).
    img = decodeImage(bytes, 'the uploaded image', MAX_PIXELS);
  } catch (e) {
    throw new UploadError(400, (e as Error).message);
  }
  if (img.width < 1 || img.height < 1 || img.width * img.height > MAX_PIXELS)
    throw new UploadError(
      413,
      `the uploaded image is ${img.width}×${img.height}; allowed 1…${fmt(MAX_PIXELS)} pixels`,
    );
  // The page's in-browser encoder applies the same rules to the same decoded bytes.
  return queryPixels(img.rgba, img.width, img.height, size); // [size, size, 1]
}
