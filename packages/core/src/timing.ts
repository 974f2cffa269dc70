// Timing statistics for benchmarks and measured-latency budgets: one implementation each, so
// every tool reports the same median of the same timings.

function sorted(xs: readonly number[], what: string): number[] {
  if (xs.length === 0) throw new RangeError(`${what} of no values`);
  return [...xs].sort((a, b) => a - b);
}

/**
 * The p-th percentile (p in [0, 100]) of `xs`, interpolated linearly between the two nearest
 * ranks (numpy's default): percentile(xs, 50) is the median, 0 the minimum, 100 the maximum.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  const s = sorted(xs, 'percentile');
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

/** The median: the middle value, or the mean of the two middle values for an even count. */
export function median(xs: readonly number[]): number {
  const s = sorted(xs, 'median');
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Summary of repeated timings (e.g. milliseconds): count, min, median, p90, max, mean. */
export interface TimingStats {
  n: number;
  min: number;
  median: number;
  p90: number;
  max: number;
  mean: number;
}

export function timingStats(xs: readonly number[]): TimingStats {
  const s = sorted(xs, 'timingStats');
  return {
    n: s.length,
    min: s[0],
    median: median(s),
    p90: percentile(s, 90),
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}
