import { describe, expect, it } from 'vitest';
import { readImageHeader } from '@matformer/train';
import { grayToPng } from './png';
import { jpegClaiming } from './test-images';

describe('readImageHeader', () => {
  it('reads a PNG IHDR and a JPEG frame header without decoding', () => {
    expect(readImageHeader(grayToPng(new Float32Array(12), 4, 3))).toEqual({
      format: 'PNG',
      width: 4,
      height: 3,
      bitDepth: 8,
      interlaced: false,
    });
    expect(readImageHeader(jpegClaiming(40, 24))).toEqual({
      format: 'JPEG',
      width: 40,
      height: 24,
      bitDepth: 8,
    });
  });

  it('sees the canvas a 600-byte JPEG bomb claims', () => {
    const bomb = jpegClaiming(7000, 7000);
    expect(bomb.length).toBeLessThan(700);
    expect(readImageHeader(bomb)).toMatchObject({ format: 'JPEG', width: 7000, height: 7000 });
  });

  it('returns undefined for other bytes and for a JPEG cut before its frame header', () => {
    expect(readImageHeader(Buffer.from('GIF89a........'))).toBeUndefined();
    expect(readImageHeader(jpegClaiming(8, 8).subarray(0, 30))).toBeUndefined();
    expect(readImageHeader(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeUndefined();
  });
});
