import { RetrievalError } from './errors';
import type { KnnResult, Space } from './vectors';

/** Graph parameters of a store's HNSW index (hnswlib's or pgvector's). */
export interface StoreParams {
  /** Links per node per layer. */
  M: number;
  /** Candidate list size while building. */
  efConstruction: number;
  /** Candidate list size while searching: the recall knob (raised to k per query). */
  ef: number;
}

/** Nearest neighbours of Q queries, k per query, nearest first; labels when the store has them. */
export interface StoreSearchResult extends KnnResult {
  labels?: Int32Array; // [Q, k]
}

/**
 * A database of dim-dimensional vectors with an HNSW index: hnswlib in this process
 * (`HnswStore`, the default) or PostgreSQL + pgvector (`PgVectorStore`; a server, or PGlite in a
 * directory). Items get ids 0, 1, 2… in insertion order, never reused after a delete, and an
 * optional integer label each (given on every add or on none). Distances use hnswlib's
 * definitions whatever the store: cosine = 1 − cos, l2 = squared Euclidean, ip = 1 − a·b.
 */
export interface VectorStore {
  /** 'hnsw' or 'pgvector'. */
  readonly kind: 'hnsw' | 'pgvector';
  /** Where it lives, for messages: a file, a PGlite directory, a table. */
  readonly location: string;
  readonly dim: number;
  readonly space: Space;
  readonly params: StoreParams;
  /**
   * Adds [N, dim] vectors (and N labels, when the store has labels) as one batch: all of them
   * or, on any error (a NaN, a wrong dimension, a dropped connection), none. Returns the first
   * new id; the batch holds ids first…first+N−1.
   */
  add(vectors: Float32Array, labels?: ArrayLike<number>): Promise<number>;
  /**
   * The min(k, count) nearest items of each of Q queries ([Q, dim] flat). `ef` overrides the
   * store's for this call. A query whose search finds fewer is padded with id −1, distance ∞.
   */
  search(queries: Float32Array, k: number, opts?: { ef?: number }): Promise<StoreSearchResult>;
  /** Deletes items by id, all or none (an unknown or deleted id fails); returns how many. */
  delete(ids: ArrayLike<number>): Promise<number>;
  /** Items stored now, deleted ones not counted. */
  count(): Promise<number>;
  /** Makes everything added so far durable (hnswlib: writes its file atomically). */
  persist(): Promise<void>;
  /** Persists, then frees the index or the connection; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** Where `--store` puts the database: hnswlib in this process, PGlite in a directory, a server. */
export type StoreSpec =
  { kind: 'hnsw' } | { kind: 'pglite'; dir: string } | { kind: 'postgres'; url: string };

/** Reads `hnsw` (the default), `pglite:<dir>` or a `postgres://…` / `postgresql://…` URL. */
export function parseStoreSpec(spec: string | undefined): StoreSpec {
  if (spec === undefined || spec === 'hnsw') return { kind: 'hnsw' };
  if (typeof spec === 'string' && spec.startsWith('pglite:')) {
    const dir = spec.slice('pglite:'.length);
    if (dir === '')
      throw new RetrievalError('store "pglite:" needs a directory, e.g. pglite:runs/vectors');
    return { kind: 'pglite', dir };
  }
  if (typeof spec === 'string' && /^postgres(ql)?:\/\//.test(spec))
    return { kind: 'postgres', url: spec };
  throw new RetrievalError(
    `store must be "hnsw", "pglite:<dir>" or a postgres://… URL, got ${JSON.stringify(spec)}`,
  );
}

/** A connection string with its password replaced by ***, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
