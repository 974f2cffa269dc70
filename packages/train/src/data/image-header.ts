import { pngHeader } from './png-header';

/** What an image file says about its canvas, read from its header before anything is decoded. */
export interface ImageHeader {
  format: 'PNG' | 'JPEG';
  width: number;
  height: number;
  /** Bits per sample (PNG: 1–16; JPEG: the frame's precision, 8 or 12). */
  bitDepth: number;
  /** PNG only: Adam7 interlacing. */
  interlaced?: boolean;
}

/**
 * Width and height from a JPEG's first frame header (SOF0–SOF15, except DHT, JPG and DAC,
 * which share the range): walk the marker segments from SOI, each with a 2-byte length,
 * until the frame header. Returns undefined when there is none before the first scan.
 */
function jpegHeader(b: Uint8Array, view: DataView): ImageHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // a scan or the end, no frame yet
    const length = view.getUint16(i + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isFrame) {
      if (i + 9 > b.length || length < 8) return undefined;
      return {
        format: 'JPEG',
        bitDepth: b[i + 4],
        height: view.getUint16(i + 5),
        width: view.getUint16(i + 7),
      };
    }
    i += 2 + length;
  }
  return undefined;
}

/**
 * The header of a PNG or JPEG, or undefined when the bytes are neither (or a JPEG is cut before
 * its frame header). A PNG with a broken chunk layout throws PngStructureError (png-header.ts).
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return pngHeader(bytes) ?? jpegHeader(bytes, view);
}
