import jpeg from 'jpeg-js';
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
