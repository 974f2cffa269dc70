import { afterEach, describe, expect, it } from 'vitest';
import { DecodePool } from './decode-pool';
import { grayToPng } from './png';
import { heavyPng } from './test-images';

const job = (bytes: Uint8Array) => ({ bytes, contentType: 'image/png', size: 28, maxBytes: 1e6 });

describe('DecodePool', () => {
  let pool: DecodePool | undefined;
  afterEach(() => pool?.close());

  it('decodes on a worker and reports upload errors with their status', async () => {
    pool = new DecodePool();
    const pixels = await pool.decode(job(grayToPng(new Float32Array(784).fill(0.25), 28, 28)));
    expect(pixels).toHaveLength(784);
    expect(pixels[0]).toBeCloseTo(0.25, 2);
    await expect(pool.decode(job(Buffer.from('not an image')))).rejects.toMatchObject({
      status: 400,
      message: 'the uploaded image: not a PNG or JPEG image',
    });
  });

  it('bounds the queue (503) and abandons a decode over its time limit', async () => {
    pool = new DecodePool({ maxQueue: 1, timeoutMs: 20_000 });
    const heavy = heavyPng(1024);
    const [a, b, c] = [pool.decode(job(heavy)), pool.decode(job(heavy)), pool.decode(job(heavy))];
    await expect(c).rejects.toMatchObject({
      status: 503,
      message: 'too many uploads are waiting to be decoded; try again shortly',
    });
    await Promise.all([a, b]);
    await pool.close();

    // ~0.13 s to decode a 1024² 16-bit PNG; a 28×28 one takes about a millisecond.
    pool = new DecodePool({ timeoutMs: 40 });
    await expect(pool.decode(job(heavy))).rejects.toMatchObject({
      status: 413,
      message: 'the uploaded image took over 40 ms to decode',
    });
    // A fresh worker takes the next upload.
    const small = grayToPng(new Float32Array(784), 28, 28);
    expect(await pool.decode(job(small))).toHaveLength(784);
  }, 30_000);
});
