import { describe, expect, it } from 'vitest';
import { grayToPng } from './png';
import { pngHeader, PngStructureError } from '@matformer/train';
import { crc32, heavyPng, interlacedPng, pngChunk, pngWithSecondIhdr } from './test-images';

describe('pngHeader', () => {
  it('builds test chunks with the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const png = grayToPng(new Float32Array(4), 2, 2); // pngjs checks every CRC on read
    expect(pngChunk('IHDR', png.subarray(16, 29))).toEqual(png.subarray(8, 33));
  });

  it('reads the one IHDR of a valid PNG after walking every chunk', () => {
    expect(pngHeader(grayToPng(new Float32Array(12), 4, 3))).toEqual({
      format: 'PNG',
      width: 4,
      height: 3,
      bitDepth: 8,
      interlaced: false,
    });
    expect(pngHeader(heavyPng(64))).toMatchObject({ width: 64, height: 64, bitDepth: 16 });
    expect(pngHeader(interlacedPng())).toMatchObject({ width: 2, height: 2, interlaced: true });
    expect(pngHeader(Buffer.from('GIF89a........'))).toBeUndefined();
  });

  it('refuses a second IHDR, which the decoder would size its canvas from', () => {
    const bomb = pngWithSecondIhdr(16384, 16384);
    expect(bomb.length).toBeLessThan(110);
    // pngjs sizes its canvas (the allocation to prevent) from the last IHDR it meets: its
    // 'metadata' event reports 1000×1000 for pngWithSecondIhdr(1000, 1000). Its decode then
    // fails or not depending on uninitialised memory, from a stream with no error listener,
    // so it is not run here.
    expect(() => pngHeader(bomb)).toThrow(
      new PngStructureError(
        'a second IHDR chunk at byte 33 claiming 16384×16384; a PNG has exactly one',
      ),
    );
  });

  it('refuses a layout the decoder cannot follow: chunks past the end, no IHDR first', () => {
    const png = grayToPng(new Float32Array(784), 28, 28);
    expect(() => pngHeader(png.subarray(0, 60))).toThrow(
      /^the "IDAT" chunk at byte 33 declares \d+ bytes, past the end of the 60-byte file$/,
    );
    expect(() => pngHeader(png.subarray(0, png.length - 12))).toThrow(/^no IEND chunk/);
    const noIhdr = Buffer.concat([png.subarray(0, 8), png.subarray(33)]);
    expect(() => pngHeader(noIhdr)).toThrow('the first chunk is "IDAT", not IHDR');
  });
});
