import { RetrievalError } from './errors';
import type { KnnResult } from './vectors';

function queryCount(r: KnnResult, what: string): number {
  if (r.k < 1) throw new RetrievalError(`${what} has no neighbours per query (k = ${r.k})`);
  return r.ids.length / r.k;
}

/**
 * 1-NN accuracy: the fraction of queries whose nearest database item has the query's label
 * (database labels indexed by item id).
 */
export function oneNNAccuracy(
  result: KnnResult,
  databaseLabels: ArrayLike<number>,
  queryLabels: ArrayLike<number>,
): number {
  const q = queryCount(result, 'result');
  if (q !== queryLabels.length)
    throw new RetrievalError(`result has ${q} queries but queryLabels has ${queryLabels.length}`);
  if (q === 0) throw new RetrievalError('oneNNAccuracy needs at least one query');
  let correct = 0;
  for (let i = 0; i < q; i++) {
    const id = result.ids[i * result.k];
    if (id < 0 || id >= databaseLabels.length)
      throw new RetrievalError(
        `neighbour id ${id} has no label (databaseLabels has ${databaseLabels.length})`,
      );
    if (databaseLabels[id] === queryLabels[i]) correct++;
  }
  return correct / q;
}

/**
 * recall@k: the mean, over queries, of the fraction of the exact top-k that the approximate
 * top-k found. k defaults to the exact result's k (and may not exceed either result's).
 */
export function recallAtK(approx: KnnResult, exact: KnnResult, k = exact.k): number {
  const q = queryCount(exact, 'exact result');
  if (queryCount(approx, 'approximate result') !== q)
    throw new RetrievalError(
      `approximate result has ${approx.ids.length / approx.k} queries, exact has ${q}`,
    );
  if (!Number.isInteger(k) || k < 1 || k > exact.k || k > approx.k)
    throw new RetrievalError(
      `k must be an integer in [1, ${Math.min(exact.k, approx.k)}] (the results' k), got ${k}`,
    );
  if (q === 0) throw new RetrievalError('recallAtK needs at least one query');
  let hits = 0;
  for (let i = 0; i < q; i++) {
    const truth = new Set(exact.ids.subarray(i * exact.k, i * exact.k + k));
    for (let j = 0; j < k; j++) if (truth.has(approx.ids[i * approx.k + j])) hits++;
  }
  return hits / (q * k);
}

/** Wall-clock milliseconds of `fn` and its result (e.g. an index build time). */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ result: T; ms: number }> {
  const t0 = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - t0 };
}

/** Queries per second of running `search` over `count` queries, measured on this machine. */
export async function measureQps<T>(
  count: number,
  search: () => T | Promise<T>,
): Promise<{ qps: number; ms: number; result: T }> {
  if (!Number.isInteger(count) || count < 1)
    throw new RetrievalError(`count must be a positive integer, got ${count}`);
  const { result, ms } = await timed(search);
  return { qps: (count / ms) * 1000, ms, result };
}
