import { describe, expect, it } from 'vitest';
import { measureQps, oneNNAccuracy, recallAtK, timed } from './metrics';
import type { KnnResult } from './vectors';

const result = (k: number, ids: number[]): KnnResult => ({
  k,
  ids: Int32Array.from(ids),
  distances: new Float32Array(ids.length),
});

describe('metrics', () => {
  it('1-NN accuracy compares the first neighbour’s label with the query’s', () => {
    const r = result(2, [0, 1, 2, 0, 1, 2]); // 3 queries
    expect(oneNNAccuracy(r, [7, 7, 8, 9], [7, 8, 9])).toBeCloseTo(2 / 3);
    expect(() => oneNNAccuracy(r, [7, 7, 8, 9], [7, 8])).toThrow(/3 queries but queryLabels has 2/);
    expect(() => oneNNAccuracy(result(1, [5]), [1], [1])).toThrow(/neighbour id 5 has no label/);
  });

  it('recall@k counts the exact top-k found, in any order', () => {
    const exact = result(3, [0, 1, 2, 5, 6, 7]);
    const approx = result(3, [2, 0, 9, 7, 6, 5]);
    expect(recallAtK(approx, exact)).toBeCloseTo(5 / 6);
    expect(recallAtK(approx, exact, 1)).toBe(0); // top-1: 2 ≠ 0, 7 ≠ 5
    expect(() => recallAtK(approx, exact, 4)).toThrow(/k must be an integer in \[1, 3\]/);
    expect(() => recallAtK(result(3, [0, 1, 2]), exact)).toThrow(
      /approximate result has 1 queries, exact has 2/,
    );
  });

  it('measures time and queries per second', async () => {
    const { ms, result: r } = await timed(() => 42);
    expect(r).toBe(42);
    expect(ms).toBeGreaterThanOrEqual(0);
    const q = await measureQps(1000, () => {
      let s = 0;
      for (let i = 0; i < 1e5; i++) s += i;
      return s;
    });
    expect(q.qps).toBeGreaterThan(0);
    expect(q.result).toBe(4999950000);
    await expect(measureQps(0, () => 0)).rejects.toThrow(/count must be a positive integer/);
  });
});
