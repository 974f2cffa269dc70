import jpeg from 'jpeg-js';
import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from './image-decode';

describe('decodeImage maxPixels', () => {
  it('refuses a canvas over the cap before decoding it, for PNG (16-bit too) and JPEG', () => {
    const png = new PNG({ width: 64, height: 32, bitDepth: 16, colorType: 6 } as never);
    png.data = Buffer.alloc(64 * 32 * 8, 9);
    const png16 = PNG.sync.write(png, { bitDepth: 16, colorType: 6, inputHasAlpha: true } as never);
    expect(decodeImage(png16, 'a.png', 2048).width).toBe(64);
    expect(() => decodeImage(png16, 'a.png', 2047)).toThrow(
      'a.png: unreadable PNG (64×32 is over the limit of 2047 pixels)',
    );
    const jpg = jpeg.encode({ width: 40, height: 30, data: Buffer.alloc(40 * 30 * 4, 90) }, 80);
    expect(decodeImage(jpg.data, 'b.jpg', 1200).height).toBe(30);
    expect(() => decodeImage(jpg.data, 'b.jpg', 1199)).toThrow(
      /b\.jpg: unreadable JPEG \(maxResolutionInMP limit exceeded/,
    );
  });
});

describe('decodeImage reads every PNG chunk header', () => {
  /** A chunk: length, type, data, CRC-32 over type and data. */
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };

  it('refuses a second IHDR (the decoder would size its canvas from it), naming it, before inflating', () => {
    const small = new PNG({ width: 2, height: 2 });
    small.data = Buffer.alloc(16, 200);
    const bytes = PNG.sync.write(small); // signature, IHDR (33 bytes in), IDAT, IEND
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(16384, 0);
    ihdr.writeUInt32BE(16384, 4);
    ihdr.set([8, 6, 0, 0, 0], 8);
    const bomb = Buffer.concat([bytes.subarray(0, 33), chunk('IHDR', ihdr), bytes.subarray(33)]);
    expect(decodeImage(bytes, 'ok.png', 4).width).toBe(2);
    expect(() => decodeImage(bomb, 'bomb.png', 1e6)).toThrow(
      'bomb.png: unreadable PNG (a second IHDR chunk at byte 33 claiming 16384×16384; a PNG has exactly one)',
    );
  });
});
