import { describe, expect, it } from 'vitest';
import { median, percentile, timingStats } from './timing';

describe('timing statistics', () => {
  it('median of an odd count is the middle value; of an even count, the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('percentile interpolates between ranks and agrees with the median at 50', () => {
    const xs = [10, 20, 30, 40];
    expect(percentile(xs, 0)).toBe(10);
    expect(percentile(xs, 100)).toBe(40);
    expect(percentile(xs, 50)).toBe(median(xs));
    expect(percentile(xs, 90)).toBeCloseTo(37, 10);
  });

  it('does not reorder its input and fails clearly on no values or a bad percentile', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
    expect(() => median([])).toThrow(/no values/);
    expect(() => percentile([1], 101)).toThrow(/\[0, 100\]/);
  });

  it('timingStats summarises repeated timings', () => {
    const s = timingStats([4, 1, 3, 2]);
    expect({ ...s, p90: undefined }).toEqual({
      n: 4,
      min: 1,
      median: 2.5,
      p90: undefined,
      max: 4,
      mean: 2.5,
    });
    expect(s.p90).toBeCloseTo(3.7, 10);
  });
});
