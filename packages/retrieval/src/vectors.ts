import { RetrievalError } from './errors';

/**
 * Distance spaces, with hnswlib's definitions: cosine = 1 − cos(a, b); l2 = squared Euclidean;
 * ip (inner product) = 1 − a·b (for unit vectors the same order as cosine).
 */
export type Space = 'cosine' | 'l2' | 'ip';
export const spaces: Space[] = ['cosine', 'l2', 'ip'];

export function checkSpace(space: unknown, field = 'space'): Space {
  if (!spaces.includes(space as Space))
    throw new RetrievalError(
      `${field} must be one of ${spaces.map((s) => `"${s}"`).join(', ')}, got ${JSON.stringify(space)}`,
    );
  return space as Space;
}

export function checkDim(dim: unknown, field = 'dim'): number {
  if (!Number.isInteger(dim) || (dim as number) < 1)
    throw new RetrievalError(`${field} must be a positive integer, got ${JSON.stringify(dim)}`);
  return dim as number;
}

/** Rows of a flat [N, dim] array; fails clearly when the length is not a multiple of dim. */
export function rowCount(vectors: ArrayLike<number>, dim: number, what = 'vectors'): number {
  if (vectors.length % dim !== 0)
    throw new RetrievalError(
      `${what} has ${vectors.length} values, not a whole number of ${dim}-dimensional rows (wrong dimension?)`,
    );
  return vectors.length / dim;
}

/**
 * Fails on the first NaN or ±Infinity of a flat [N, dim] array: every distance to such a row is
 * NaN, and a search would return an arbitrary order instead of an error.
 */
export function checkFinite(vectors: ArrayLike<number>, dim: number, what: string): void {
  for (let i = 0; i < vectors.length; i++)
    if (!Number.isFinite(vectors[i]))
      throw new RetrievalError(
        `${what} row ${Math.floor(i / dim)} has a non-finite value (${vectors[i]}) at position ${i % dim}`,
      );
}

/** Checks k: a positive integer. Callers clamp it to the count themselves. */
export function checkK(k: unknown): number {
  if (!Number.isInteger(k) || (k as number) < 1)
    throw new RetrievalError(`k must be a positive integer, got ${JSON.stringify(k)}`);
  return k as number;
}

/** L2-normalises each row of a flat [N, dim] array into a new array (zero rows stay zero). */
export function normalizeRows(vectors: Float32Array, dim: number): Float32Array {
  const n = rowCount(vectors, dim);
  const out = new Float32Array(vectors.length);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += vectors[i * dim + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[i * dim + j] = vectors[i * dim + j] * inv;
  }
  return out;
}

/** Nearest-neighbour results of Q queries, k per query, nearest first: ids and distances [Q, k]. */
export interface KnnResult {
  k: number;
  ids: Int32Array; // [Q, k]
  distances: Float32Array; // [Q, k]
}
