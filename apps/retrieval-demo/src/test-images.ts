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
