import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { grayToPng } from './png';

/** An 8×8 gray baseline JPEG (jpeg-js, quality 50): 611 bytes. */
const SMALL_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERX' +
    'RTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2MBERISGBUYLxoaL2NCOEJjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj' +
    'Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY//AABEIAAgACAMBEQACEQEDEQH/xAGiAAABBQEBAQEBAQAAAAAAAAAAAQID' +
    'BAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYX' +
    'GBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqi' +
    'o6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEB' +
    'AQAAAAAAAAECAwQFBgcICQoLEQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIygQgUQpGhscEJIzNS' +
    '8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeI' +
    'iYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fr/' +
    '2gAMAwEAAhEDEQA/ACgD/9k=',
  'base64',
);

/**
 * A small JPEG whose frame header claims width×height (a decompression bomb): the 8×8 image
 * with its SOF dimensions rewritten. A decoder that trusts the header allocates the canvas.
 */
export function jpegClaiming(width: number, height: number): Buffer {
  const buf = Buffer.from(SMALL_JPEG);
  for (let i = 2; i + 9 < buf.length;) {
    const marker = buf[i + 1];
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      buf.writeUInt16BE(height, i + 5);
      buf.writeUInt16BE(width, i + 7);
      return buf;
    }
    i += 2 + buf.readUInt16BE(i + 2);
  }
  throw new Error('no frame header');
}

/** A PNG whose IHDR claims width×height at this bit depth (only the header is valid). */
export function pngClaiming(width: number, height: number, bitDepth = 8): Buffer {
  const buf = grayToPng(new Float32Array(4), 2, 2);
  buf.writeUInt32BE(width, 16);
  buf.writeUInt32BE(height, 20);
  buf[24] = bitDepth;
  return buf;
}

/**
 * A real size×size 16-bit RGBA PNG of one color: a few KB that cost ~0.13 s to decode at
 * 1024² (the most an upload may cost under the pixel cap).
 */
export function heavyPng(size: number): Buffer {
  const png = new PNG({ width: size, height: size, bitDepth: 16, colorType: 6 } as never);
  png.data = Buffer.alloc(size * size * 8, 0x40);
  return PNG.sync.write(png, { bitDepth: 16, colorType: 6, inputHasAlpha: true } as never);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** The CRC-32 of PNG chunks (ISO 3309; node:zlib's crc32 is not in Node 20). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, and the CRC of type + data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** IHDR data: width, height, bit depth, color type (0 gray), and interlace (0 none, 1 Adam7). */
export function ihdrData(width: number, height: number, interlace = 0): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = 8; // bit depth
  d[9] = 0; // gray
  d[12] = interlace;
  return d;
}

/**
 * A valid 2×2 gray PNG with a second IHDR (correct CRCs) claiming width×height right after the
 * first: ~100 bytes. pngjs sizes its buffers from the last IHDR it reads, the header check
 * that reads only the first one sees 2×2.
 */
export function pngWithSecondIhdr(width: number, height: number): Buffer {
  const valid = grayToPng(new Float32Array(4), 2, 2);
  const afterFirstIhdr = 8 + 25;
  return Buffer.concat([
    valid.subarray(0, afterFirstIhdr),
    pngChunk('IHDR', ihdrData(width, height)),
    valid.subarray(afterFirstIhdr),
  ]);
}

/** A valid 2×2 gray Adam7-interlaced PNG (pngjs inflates interlaced data with no size limit). */
export function interlacedPng(): Buffer {
  // Passes 1, 6 and 7 of a 2×2 image: 1, 1 and 2 pixels, each row led by its filter byte.
  const raw = Buffer.from([0, 200, 0, 200, 0, 200, 200]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdrData(2, 2, 1)),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}
