import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, readSafetensorsFile } from './safetensors';
import { SafetensorsReader, writeSafetensorsStream } from './safetensors-stream';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const fresh = () => (dir = mkdtempSync(join(tmpdir(), 'st-stream-')));

describe('streaming safetensors', () => {
  it('writes tensor by tensor the same bytes encodeSafetensors writes for the same order', async () => {
    fresh();
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const b = new Uint16Array([0x3c00, 0xc000]);
    const path = join(dir, 'x.safetensors');
    await writeSafetensorsStream(
      path,
      [
        { name: 'a', dtype: 'F32', shape: [2, 3] },
        { name: 'b', dtype: 'F16', shape: [2] },
      ],
      { format: 'pt' },
      (t) => new Uint8Array(t.name === 'a' ? a.buffer : b.buffer),
    );
    const expected = encodeSafetensors(
      { a: { dtype: 'F32', shape: [2, 3], data: a }, b: { dtype: 'F16', shape: [2], data: b } },
      { format: 'pt' },
    );
    const { readFileSync } = await import('node:fs');
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(expected))).toBe(true);
    expect(readdirSync(dir)).toEqual(['x.safetensors']);
  });

  it('reads one tensor, or a range of its elements, without reading the rest', async () => {
    fresh();
    const path = join(dir, 'x.safetensors');
    const m = new Float32Array(12).map((_, i) => i); // [4, 3]
    writeFileSync(
      path,
      encodeSafetensors(
        {
          m: { dtype: 'F32', shape: [4, 3], data: m },
          z: { dtype: 'U8', shape: [1], data: new Uint8Array([7]) },
        },
        { k: 'v' },
      ),
    );
    const r = await SafetensorsReader.open(path);
    try {
      expect(r.metadata).toEqual({ k: 'v' });
      expect(r.span('m')).toMatchObject({ dtype: 'F32', shape: [4, 3] });
      expect([...new Float32Array((await r.read('m', 0, 6)).buffer)]).toEqual([0, 1, 2, 3, 4, 5]);
      expect([...(await r.read('z'))]).toEqual([7]);
      await expect(r.read('m', 6, 13)).rejects.toThrow(
        /element range \[6, 13\) is outside tensor "m" \(12 elements\)/,
      );
      expect(() => r.span('q')).toThrow(`${path}: no tensor "q"`);
    } finally {
      await r.close();
    }
    expect(decodeSafetensors((await import('node:fs')).readFileSync(path)).tensors.m.shape).toEqual(
      [4, 3],
    );
  });

  it('names the file when it is missing or truncated, and leaves no temp file when a body fails', async () => {
    fresh();
    const path = join(dir, 'x.safetensors');
    await expect(SafetensorsReader.open(path)).rejects.toThrow(
      `cannot read safetensors file ${path}: file does not exist`,
    );
    writeFileSync(
      path,
      encodeSafetensors({ m: { dtype: 'F32', shape: [4], data: new Float32Array(4) } }),
    );
    truncateSync(path, 30);
    await expect(SafetensorsReader.open(path)).rejects.toThrow(
      /header length \d+ is larger than the file/,
    );
    await expect(readSafetensorsFile(path)).rejects.toThrow(
      /header length \d+ is larger than the file/,
    );
    rmSync(path);
    await expect(
      writeSafetensorsStream(
        path,
        [{ name: 'a', dtype: 'F32', shape: [2] }],
        {},
        () => new Uint8Array(4),
      ),
    ).rejects.toThrow(/tensor "a" \[2\] F32 needs 8 bytes, got 4/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
