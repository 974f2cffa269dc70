import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IndexFileError, RetrievalError } from './errors';
import { exactSearch } from './exact-search';
import { HnswIndex } from './hnsw-index';
import { hnswGraphDim, readIndexFile, writeIndexFile } from './index-file';
import { recallAtK } from './metrics';
import { randomUnitVectors, tempDir } from './test-fixtures';

const dim = 64;

describe('HnswIndex', () => {
  it('finds ≥ 95% of the exact top-10 on 5k random unit vectors (dim 64)', () => {
    const db = randomUnitVectors(5000, dim, 1);
    const queries = randomUnitVectors(200, dim, 2);
    const index = HnswIndex.build(db, {
      space: 'cosine',
      dim,
      M: 16,
      efConstruction: 200,
      ef: 128,
    });
    expect(index.count).toBe(5000);
    const approx = index.queryBatch(queries, 10);
    const exact = exactSearch(db, queries, 10, { space: 'cosine', dim });
    const recall = recallAtK(approx, exact, 10);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    // Same distance definition as the exact search: the top hit agrees to float precision.
    for (let q = 0; q < 200; q++)
      if (approx.ids[q * 10] === exact.ids[q * 10])
        expect(approx.distances[q * 10]).toBeCloseTo(exact.distances[q * 10], 5);
  });

  it('l2 space: distances are squared Euclidean, as in exact search', () => {
    const db = randomUnitVectors(300, 8, 3);
    const queries = randomUnitVectors(20, 8, 4);
    const index = HnswIndex.build(db, { space: 'l2', dim: 8, ef: 300 });
    const approx = index.queryBatch(queries, 5);
    const exact = exactSearch(db, queries, 5, { space: 'l2', dim: 8 });
    expect(Array.from(approx.ids)).toEqual(Array.from(exact.ids));
    for (let i = 0; i < approx.distances.length; i++)
      expect(approx.distances[i]).toBeCloseTo(exact.distances[i], 5);
  });

  it('save/load round trip returns identical results, labels and parameters', async () => {
    const db = randomUnitVectors(1000, dim, 5);
    const labels = Array.from({ length: 1000 }, (_, i) => i % 10);
    const queries = randomUnitVectors(50, dim, 6);
    const index = HnswIndex.build(db, {
      space: 'cosine',
      dim,
      M: 12,
      efConstruction: 100,
      ef: 40,
      labels,
    });
    const path = join(await tempDir(), 'sub', 'db.mfhnsw');
    await index.save(path);
    const loaded = await HnswIndex.load(path, { dim, space: 'cosine' });
    expect([
      loaded.count,
      loaded.dim,
      loaded.space,
      loaded.M,
      loaded.efConstruction,
      loaded.ef,
    ]).toEqual([1000, dim, 'cosine', 12, 100, 40]);
    const a = index.queryBatch(queries, 10);
    const b = loaded.queryBatch(queries, 10);
    expect(Array.from(b.ids)).toEqual(Array.from(a.ids));
    expect(Array.from(b.distances)).toEqual(Array.from(a.distances));
    expect(Array.from(loaded.labels()!)).toEqual(labels);
    expect(loaded.query(queries.subarray(0, dim), 3).labels).toEqual(
      index.query(queries.subarray(0, dim), 3).labels,
    );
    // A loaded index keeps growing like a fresh one.
    loaded.add(randomUnitVectors(10, dim, 7), Array(10).fill(3));
    expect(loaded.count).toBe(1010);
    expect(loaded.label(1005)).toBe(3);
  });

  it('rejects a corrupt, truncated or foreign file, and a wrong dimension, with clear errors', async () => {
    const dir = await tempDir();
    const path = join(dir, 'db.mfhnsw');
    await HnswIndex.build(randomUnitVectors(200, dim, 8), { space: 'cosine', dim }).save(path);
    const good = await readFile(path);

    await expect(HnswIndex.load(path, { dim: 32 })).rejects.toThrow(
      /holds 64-dimensional vectors; expected 32/,
    );
    await expect(HnswIndex.load(path, { space: 'l2' })).rejects.toThrow(/uses the "cosine" space/);

    const truncated = join(dir, 'truncated.mfhnsw');
    await writeFile(truncated, good.subarray(0, good.length - 100));
    await expect(HnswIndex.load(truncated)).rejects.toThrow(/truncated index file/);

    const flipped = Buffer.from(good);
    flipped[flipped.length - 500] ^= 0xff;
    const corrupt = join(dir, 'corrupt.mfhnsw');
    await writeFile(corrupt, flipped);
    await expect(HnswIndex.load(corrupt)).rejects.toThrow(/checksum mismatch/);

    // An edited header (dim 64 → 32, same length) must not reach hnswlib's loader.
    const edited = join(dir, 'edited.mfhnsw');
    await writeFile(
      edited,
      Buffer.from(good.toString('latin1').replace('"dim":64', '"dim":32'), 'latin1'),
    );
    await expect(HnswIndex.load(edited)).rejects.toThrow(/checksum mismatch/);

    const foreign = join(dir, 'foreign.bin');
    await writeFile(foreign, 'hello, not an index');
    await expect(HnswIndex.load(foreign)).rejects.toThrow(/not a MatFormer hnsw index file/);
    await expect(HnswIndex.load(join(dir, 'missing.mfhnsw'))).rejects.toThrow(IndexFileError);
    await expect(HnswIndex.load(join(dir, 'missing.mfhnsw'))).rejects.toThrow(
      /cannot read index file/,
    );
  });

  it('refuses a forged header whose dimension differs from the graph (checksum recomputed)', async () => {
    const dir = await tempDir();
    const path = join(dir, 'db.mfhnsw');
    await HnswIndex.build(randomUnitVectors(50, 4, 9), { space: 'l2', dim: 4 }).save(path);
    const { header, payload, labels } = await readIndexFile(path);
    for (const forged of [100_000, 2]) {
      const out = join(dir, `forged-${forged}.mfhnsw`);
      await writeIndexFile(out, { ...header, dim: forged }, payload, labels);
      await expect(HnswIndex.load(out)).rejects.toThrow(
        `${out}: the header says ${forged}-dimensional vectors, the hnswlib graph holds 4-dimensional ones (corrupt or forged header)`,
      );
    }
    expect(hnswGraphDim(payload)).toBe(4);
    expect(hnswGraphDim(payload.subarray(0, 20))).toBeUndefined();
  });

  it('rejects a query vector holding NaN or ±Infinity, like a vector on add', () => {
    const index = HnswIndex.build(randomUnitVectors(20, 4, 10), { space: 'cosine', dim: 4 });
    for (const bad of [NaN, Infinity, -Infinity])
      expect(() => index.query([0.5, bad, 0.5, 0.5], 3)).toThrow(
        `query vector has a non-finite value (${bad}) at position 1`,
      );
    expect(() => index.queryBatch(new Float32Array([1, 0, 0, 0, 0, NaN, 0, 0]), 1)).toThrow(
      /non-finite value \(NaN\) at position 1/,
    );
  });

  it('clamps k to the count and raises ef to k', () => {
    const index = new HnswIndex({ space: 'cosine', dim: 4, ef: 2 });
    expect(index.query([1, 0, 0, 0], 5)).toEqual({ ids: [], distances: [] });
    index.add(new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]));
    const r = index.query([1, 0.1, 0, 0], 50);
    expect(r.ids).toHaveLength(3);
    expect(r.ids[0]).toBe(0);
    expect(index.queryBatch(new Float32Array([1, 0, 0, 0, 0, 0, 1, 0]), 10).k).toBe(3);
    expect(index.ef).toBe(2); // the raise is per query
  });

  it('grows its capacity on add and keeps every point findable', () => {
    const index = new HnswIndex({ space: 'l2', dim: 16, capacity: 4 });
    const data = randomUnitVectors(300, 16, 9);
    for (let i = 0; i < 300; i += 50) index.add(data.subarray(i * 16, (i + 50) * 16));
    expect(index.count).toBe(300);
    expect(index.capacity).toBeGreaterThanOrEqual(300);
    index.ef = 100;
    for (let i = 0; i < 300; i += 37)
      expect(index.query(data.subarray(i * 16, (i + 1) * 16), 1).ids[0]).toBe(i);
  });

  it('rejects bad input naming it', () => {
    expect(() => new HnswIndex({ space: 'dot' as never, dim: 4 })).toThrow(
      /space must be one of "cosine", "l2"/,
    );
    expect(() => new HnswIndex({ space: 'l2', dim: 0 })).toThrow(/dim must be a positive integer/);
    expect(() => new HnswIndex({ space: 'l2', dim: 4, M: 0 })).toThrow(
      /M must be a positive integer/,
    );
    const index = new HnswIndex({ space: 'l2', dim: 4 });
    expect(() => index.add(new Float32Array(6))).toThrow(
      /not a whole number of 4-dimensional rows/,
    );
    expect(() => index.add(new Float32Array([0, 0, NaN, 0]))).toThrow(/non-finite value/);
    index.add(new Float32Array(8), [1, 2]);
    expect(() => index.add(new Float32Array(4))).toThrow(/pass labels/);
    expect(() => index.query([1, 2, 3], 1)).toThrow(
      /query vector has 3 values; this index holds 4-dimensional/,
    );
    expect(() => index.query([1, 2, 3, 4], 0)).toThrow(RetrievalError);
    expect(() => index.query([1, 2, 3, 4], 1.5)).toThrow(/k must be a positive integer/);
  });
});

describe('HnswIndex delete and save errors', () => {
  it('deletes all-or-nothing; deleted items leave results, and stay deleted after save/load', async () => {
    const db = randomUnitVectors(200, 8, 21);
    const index = HnswIndex.build(db, { space: 'l2', dim: 8, ef: 200 });
    const firstHit = (i: number) => index.query(db.subarray(i * 8, (i + 1) * 8), 1).ids[0];
    expect(firstHit(5)).toBe(5);
    expect(() => index.delete([5, 200])).toThrow('ids[1] = 200 is not an item id (0…199)');
    expect(() => index.delete([5, 5])).toThrow(/ids\[1\] = 5 is already deleted/);
    expect(index.count).toBe(200); // neither call deleted anything
    expect(index.delete([5, 7])).toBe(2);
    expect([index.count, index.nextId, index.isDeleted(5), index.isDeleted(6)]).toEqual([
      198,
      200,
      true,
      false,
    ]);
    expect(firstHit(5)).not.toBe(5);
    expect(index.queryBatch(db, 200).k).toBe(198);
    expect(index.add(randomUnitVectors(1, 8, 22))).toBe(200); // ids are not reused
    const path = join(await tempDir(), 'deleted.mfhnsw');
    await index.save(path);
    const loaded = await HnswIndex.load(path);
    expect([loaded.count, loaded.nextId, loaded.isDeleted(7)]).toEqual([199, 201, true]);
    expect(loaded.query(db.subarray(5 * 8, 6 * 8), 1).ids[0]).not.toBe(5);
  });

  it('an empty index saves and loads (the graph walk accepts a header-only graph)', async () => {
    const path = join(await tempDir(), 'empty.mfhnsw');
    await new HnswIndex({ space: 'ip', dim: 4 }).save(path);
    const loaded = await HnswIndex.load(path, { space: 'ip' });
    expect([loaded.count, loaded.nextId, loaded.space]).toEqual([0, 0, 'ip']);
    expect(loaded.add(new Float32Array([1, 0, 0, 0]))).toBe(0);
  });

  it('a save to a path it cannot write names that path, not a temp file', async () => {
    const index = HnswIndex.build(randomUnitVectors(10, 4, 23), { space: 'l2', dim: 4 });
    await expect(index.save('/proc/x.idx')).rejects.toThrow(
      /^cannot save the index to \/proc\/x\.idx: /,
    );
    await expect(index.save('/proc/x.idx')).rejects.not.toThrow(/tmp/);
    await expect(index.save('')).rejects.toThrow(
      'cannot save the index: the path must be a non-empty string, got ""',
    );
    const dir = await tempDir();
    await expect(index.save(dir)).rejects.toThrow(`cannot save the index to ${dir}: `);
  });

  it('refuses a graph whose links point past the items (checksum recomputed)', async () => {
    const dir = await tempDir();
    const path = join(dir, 'db.mfhnsw');
    await HnswIndex.build(randomUnitVectors(50, 4, 24), { space: 'l2', dim: 4 }).save(path);
    const { header, payload, labels } = await readIndexFile(path);
    const forged = Buffer.from(payload);
    forged.writeUInt32LE(1_000_000, 96 + 4); // item 0's first level-0 link
    forged.writeUInt16LE(Math.max(1, forged.readUInt16LE(96)), 96);
    const out = join(dir, 'links.mfhnsw');
    await writeIndexFile(out, header, forged, labels);
    await expect(HnswIndex.load(out)).rejects.toThrow(
      `${out}: corrupt hnswlib graph (item 0, level 0: a link out of range); refusing to load it`,
    );
  });
});
