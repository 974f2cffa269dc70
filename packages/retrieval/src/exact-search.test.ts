import { describe, expect, it } from 'vitest';
import { exactSearch } from './exact-search';
import { HnswIndex } from './hnsw-index';
import { normalizeRows } from './vectors';

describe('exactSearch', () => {
  const db = new Float32Array([1, 0, 0, 1, 2, 2, -1, 0]); // 4 points in 2-D

  it('ranks by cosine distance (1 − cos), nearest first, ties to the smaller id', () => {
    const r = exactSearch(db, new Float32Array([1, 0.1]), 4, { space: 'cosine', dim: 2 });
    expect(Array.from(r.ids)).toEqual([0, 2, 1, 3]);
    expect(r.distances[0]).toBeCloseTo(1 - 1 / Math.hypot(1, 0.1), 6);
    expect(r.distances[3]).toBeCloseTo(1 + 1 / Math.hypot(1, 0.1), 6);
    const tie = exactSearch(new Float32Array([1, 0, 2, 0]), new Float32Array([1, 0]), 2, {
      space: 'cosine',
      dim: 2,
    });
    expect(Array.from(tie.ids)).toEqual([0, 1]);
  });

  it('ranks by 1 − a·b in ip (unnormalised: longer vectors win), as hnswlib does', () => {
    const r = exactSearch(db, new Float32Array([1, 0.5]), 4, { space: 'ip', dim: 2 });
    expect(Array.from(r.ids)).toEqual([2, 0, 1, 3]); // dots 3, 1, 0.5, −1
    expect(Array.from(r.distances)).toEqual([-2, 0, 0.5, 2]);
    const h = HnswIndex.build(db, { space: 'ip', dim: 2 }).query([1, 0.5], 4);
    expect(h.ids).toEqual([2, 0, 1, 3]);
    h.distances.forEach((d, i) => expect(d).toBeCloseTo(r.distances[i], 6));
  });

  it('ranks by squared Euclidean distance in l2', () => {
    const r = exactSearch(db, new Float32Array([1.5, 1.5, -1, 0.2]), 2, { space: 'l2', dim: 2 });
    expect(r.k).toBe(2);
    expect(Array.from(r.ids)).toEqual([2, 0, 3, 1]); // ids 0 and 1 tie at 2.5 for the first query
    [0.5, 2.5, 0.04, 1.64].forEach((d, i) => expect(r.distances[i]).toBeCloseTo(d, 6));
  });

  it('clamps k to the database size and validates its input', () => {
    expect(exactSearch(db, new Float32Array([0, 1]), 99, { space: 'l2', dim: 2 }).k).toBe(4);
    expect(() => exactSearch(db, new Float32Array(3), 1, { space: 'l2', dim: 2 })).toThrow(
      /queries has 3 values, not a whole number of 2-dimensional rows/,
    );
    expect(() =>
      exactSearch(new Float32Array(0), new Float32Array(2), 1, { space: 'l2', dim: 2 }),
    ).toThrow(/non-empty database/);
    expect(() => exactSearch(db, new Float32Array(2), 0, { space: 'l2', dim: 2 })).toThrow(
      /k must be a positive integer/,
    );
  });

  it('rejects NaN and ±Infinity in queries or database, naming the row and position (as hnswlib queries do)', () => {
    for (const space of ['l2', 'cosine'] as const)
      for (const bad of [NaN, Infinity, -Infinity]) {
        expect(() =>
          exactSearch(db, new Float32Array([0, 1, 1, bad]), 1, { space, dim: 2 }),
        ).toThrow(`queries row 1 has a non-finite value (${bad}) at position 1`);
        const corrupt = db.slice();
        corrupt[4] = bad;
        expect(() => exactSearch(corrupt, new Float32Array([0, 1]), 1, { space, dim: 2 })).toThrow(
          `database row 2 has a non-finite value (${bad}) at position 0`,
        );
      }
  });

  it('normalizeRows gives unit rows and leaves zero rows at zero', () => {
    const n = normalizeRows(new Float32Array([3, 4, 0, 0]), 2);
    expect(Array.from(n)).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 0]);
  });
});
