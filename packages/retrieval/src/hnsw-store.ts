import { existsSync } from 'node:fs';
import { RetrievalError } from './errors';
import { HnswIndex, type HnswOptions } from './hnsw-index';
import { checkFinite, checkK, rowCount, type Space } from './vectors';
import type { StoreParams, StoreSearchResult, VectorStore } from './vector-store';

export interface HnswStoreOptions extends Partial<StoreParams> {
  dim: number;
  space: Space;
  /** The index file: loaded if it exists, written by persist() and close(). None: in memory only. */
  path?: string;
}

/**
 * The default VectorStore: hnswlib's HNSW graph in this process (`HnswIndex`), persisted to one
 * file written atomically. Fast and simple while the database fits one process's memory.
 */
export class HnswStore implements VectorStore {
  readonly kind = 'hnsw' as const;
  private closed = false;
  private dirty = false;

  private constructor(
    readonly index: HnswIndex,
    private readonly path: string | undefined,
  ) {}

  /** Loads `opts.path` if it exists (its dimension and space must match), else a new empty index. */
  static async open(opts: HnswStoreOptions): Promise<HnswStore> {
    const { path, dim, space, ...params } = opts;
    if (path !== undefined && existsSync(path)) {
      const index = await HnswIndex.load(path, { dim, space });
      if (params.ef !== undefined) index.ef = params.ef;
      return new HnswStore(index, path);
    }
    return new HnswStore(new HnswIndex({ dim, space, ...params } as HnswOptions), path);
  }

  /** A store around an index already built or loaded; `path` is where persist() writes it. */
  static wrap(index: HnswIndex, path?: string): HnswStore {
    return new HnswStore(index, path);
  }

  get location(): string {
    return this.path ?? 'hnswlib (in memory)';
  }
  get dim(): number {
    return this.index.dim;
  }
  get space(): Space {
    return this.index.space;
  }
  get params(): StoreParams {
    const { M, efConstruction, ef } = this.index;
    return { M, efConstruction, ef };
  }

  private open(): HnswIndex {
    if (this.closed) throw new RetrievalError(`the vector store ${this.location} is closed`);
    return this.index;
  }

  async add(vectors: Float32Array, labels?: ArrayLike<number>): Promise<number> {
    const first = this.open().add(vectors, labels); // validates everything before adding
    this.dirty ||= vectors.length > 0;
    return first;
  }

  async search(
    queries: Float32Array,
    k: number,
    opts: { ef?: number } = {},
  ): Promise<StoreSearchResult> {
    const index = this.open();
    checkK(k);
    const q = rowCount(queries, this.dim, 'queries');
    checkFinite(queries, this.dim, 'queries');
    const saved = index.ef;
    if (opts.ef !== undefined) index.ef = opts.ef;
    try {
      const r = index.queryBatch(queries, k); // [Q, k'] with k' = min(k, count)
      if (!index.hasLabels) return r;
      const labels = new Int32Array(q * r.k).fill(-1);
      for (let i = 0; i < r.ids.length; i++) if (r.ids[i] >= 0) labels[i] = index.label(r.ids[i])!;
      return { ...r, labels };
    } finally {
      index.ef = saved;
    }
  }

  async delete(ids: ArrayLike<number>): Promise<number> {
    const n = this.open().delete(ids);
    this.dirty ||= n > 0;
    return n;
  }

  async count(): Promise<number> {
    return this.open().count;
  }

  async persist(): Promise<void> {
    this.open();
    if (this.path === undefined || !this.dirty) return;
    await this.index.save(this.path);
    this.dirty = false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.persist();
    this.closed = true;
  }
}
