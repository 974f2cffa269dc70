import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node'; // CommonJS: default-import, then destructure
import { IndexFileError, RetrievalError } from './errors';
import { checkHnswGraph, hnswGraphDim, readIndexFile, writeIndexFile } from './index-file';
import { checkDim, checkK, checkSpace, rowCount, type KnnResult, type Space } from './vectors';

const { HierarchicalNSW } = hnswlib;
type NativeIndex = InstanceType<typeof HierarchicalNSW>;

export interface HnswParams {
  /** Graph degree: links per node per layer. Higher = better recall, more memory, slower build. */
  M: number;
  /** Candidate list size while building. Higher = better graph, slower build. */
  efConstruction: number;
  /** Candidate list size while searching (raised to k for a query that asks for more). */
  ef: number;
  /** Seed of the level generator, so builds are reproducible. */
  seed: number;
}

export const defaultHnswParams: HnswParams = { M: 16, efConstruction: 200, ef: 64, seed: 100 };

export interface HnswOptions extends Partial<HnswParams> {
  space: Space;
  dim: number;
  /** Items the index has room for before its first resize (it grows on add as needed). */
  capacity?: number;
}

export interface LoadOptions {
  /** Fail unless the file holds vectors of this dimension. */
  dim?: number;
  /** Fail unless the file uses this space. */
  space?: Space;
}

function positiveInt(field: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1)
    throw new RetrievalError(`${field} must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/**
 * An approximate nearest-neighbour index (hnswlib's HNSW graph) over dim-dimensional vectors.
 * Items get ids 0, 1, 2… in insertion order, and optionally an integer label each (e.g. a class)
 * that queries return beside the ids. Safe where raw hnswlib throws: k is clamped to the count,
 * ef is raised to k, the capacity grows on add, and saved files are validated before loading.
 * Deleted items keep their ids (never reused) and stop appearing in results.
 */
export class HnswIndex {
  readonly space: Space;
  readonly dim: number;
  readonly M: number;
  readonly efConstruction: number;
  readonly seed: number;
  private efValue: number;
  private native: NativeIndex;
  private labelStore?: Int32Array; // [capacity]; undefined when the index has no labels
  private n = 0; // ids handed out: 0…n−1, deleted ones included
  private deletedIds = new Set<number>();

  /**
   * An empty index. (`native` is internal: a graph `load` has already read; it must not be
   * initialised here, or a failed read would leave hnswlib-node a dangling graph to free twice.)
   */
  constructor(opts: HnswOptions, native?: NativeIndex) {
    if (opts === null || typeof opts !== 'object')
      throw new RetrievalError('HnswIndex needs options { space, dim }');
    this.space = checkSpace(opts.space);
    this.dim = checkDim(opts.dim);
    const p = { ...defaultHnswParams, ...stripUndefined(opts) };
    this.M = positiveInt('M', p.M);
    this.efConstruction = positiveInt('efConstruction', p.efConstruction);
    this.efValue = positiveInt('ef', p.ef);
    if (!Number.isInteger(p.seed) || p.seed < 0)
      throw new RetrievalError(
        `seed must be a non-negative integer, got ${JSON.stringify(p.seed)}`,
      );
    this.seed = p.seed;
    const capacity = positiveInt('capacity', opts.capacity ?? 1024);
    if (native) this.native = native;
    else {
      this.native = new HierarchicalNSW(this.space, this.dim);
      this.native.initIndex({
        maxElements: capacity,
        m: this.M,
        efConstruction: this.efConstruction,
        randomSeed: this.seed,
      });
    }
    this.native.setEf(this.efValue);
  }

  /** A new index holding `vectors` ([N, dim] flat), with optional per-item labels. */
  static build(
    vectors: Float32Array,
    opts: HnswOptions & { labels?: ArrayLike<number> },
  ): HnswIndex {
    const dim = checkDim(opts?.dim);
    const index = new HnswIndex({ ...opts, capacity: Math.max(1, rowCount(vectors, dim)) });
    index.add(vectors, opts.labels);
    return index;
  }

  /** Items in the index, deleted ones not counted. */
  get count(): number {
    return this.n - this.deletedIds.size;
  }

  /** The id the next added item gets (ids are never reused, even after a delete). */
  get nextId(): number {
    return this.n;
  }

  /** Whether item `id` was deleted. */
  isDeleted(id: number): boolean {
    return this.deletedIds.has(id);
  }

  /**
   * Deletes items by id: all of them, or (on an unknown, repeated or already deleted id) none.
   * They stop appearing in query results; their ids are not reused. Returns how many went.
   */
  delete(ids: ArrayLike<number>): number {
    const set = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.n)
        throw new RetrievalError(`ids[${i}] = ${id} is not an item id (0…${this.n - 1})`);
      if (this.deletedIds.has(id) || set.has(id))
        throw new RetrievalError(`ids[${i}] = ${id} is already deleted (or listed twice)`);
      set.add(id);
    }
    for (const id of set) {
      this.native.markDelete(id);
      this.deletedIds.add(id);
    }
    return set.size;
  }

  /** Items it can hold before the next (automatic) resize. */
  get capacity(): number {
    return this.native.getMaxElements();
  }

  get ef(): number {
    return this.efValue;
  }

  set ef(value: number) {
    this.efValue = positiveInt('ef', value);
    this.native.setEf(value);
  }

  get hasLabels(): boolean {
    return this.labelStore !== undefined;
  }

  /** The label of item `id` (undefined for an index without labels). */
  label(id: number): number | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.n)
      throw new RetrievalError(`item id must be an integer in [0, ${this.n}), got ${id}`);
    return this.labelStore?.[id];
  }

  /** The labels of items 0…nextId−1 (deleted ones too), or undefined for an index without labels. */
  labels(): Int32Array | undefined {
    return this.labelStore?.slice(0, this.n);
  }

  /**
   * Adds [N, dim] vectors (ids count…count+N−1), growing the index if it is full. Labels must be
   * given for every add or for none. Returns the first new id.
   */
  add(vectors: Float32Array | number[], labels?: ArrayLike<number>): number {
    const n = rowCount(vectors, this.dim, 'vectors');
    if (labels !== undefined && labels.length !== n)
      throw new RetrievalError(`labels has ${labels.length} entries for ${n} vectors`);
    if (this.n > 0 && (labels !== undefined) !== this.hasLabels)
      throw new RetrievalError(
        this.hasLabels
          ? 'this index stores a label per item: pass labels to add()'
          : 'this index was built without labels: add() cannot start adding them',
      );
    for (let i = 0; i < (labels?.length ?? 0); i++)
      if (!Number.isInteger(labels![i]) || labels![i] < -(2 ** 31) || labels![i] >= 2 ** 31)
        throw new RetrievalError(`labels[${i}] must be a 32-bit integer, got ${labels![i]}`);
    for (let i = 0; i < vectors.length; i++)
      if (!Number.isFinite(vectors[i]))
        throw new RetrievalError(
          `vectors[${Math.floor(i / this.dim)}] has a non-finite value at position ${i % this.dim}`,
        );
    if (n === 0) return this.n;
    this.ensureCapacity(this.n + n);
    if (labels !== undefined) {
      if (!this.labelStore) this.labelStore = new Int32Array(this.capacity);
      this.labelStore.set(Array.from(labels), this.n);
    }
    const first = this.n;
    for (let i = 0; i < n; i++) {
      // hnswlib-node takes number[], not a typed array.
      this.native.addPoint(Array.from(vectors.slice(i * this.dim, (i + 1) * this.dim)), first + i);
    }
    this.n += n;
    return first;
  }

  /** Doubles (at least) the capacity when `needed` items would not fit: hnswlib never grows itself. */
  private ensureCapacity(needed: number): void {
    const cap = this.capacity;
    if (needed <= cap) return;
    const next = Math.max(needed, cap * 2);
    this.native.resizeIndex(next);
    if (this.labelStore) {
      const grown = new Int32Array(next);
      grown.set(this.labelStore);
      this.labelStore = grown;
    }
  }

  /** The min(k, count) nearest items of one query, nearest first. */
  query(
    vector: Float32Array | number[],
    k: number,
  ): { ids: number[]; distances: number[]; labels?: number[] } {
    checkK(k);
    if (vector.length !== this.dim)
      throw new RetrievalError(
        `query vector has ${vector.length} values; this index holds ${this.dim}-dimensional vectors`,
      );
    // hnswlib would return NaN distances and an arbitrary order: refuse, as add() does.
    for (let i = 0; i < vector.length; i++)
      if (!Number.isFinite(vector[i]))
        throw new RetrievalError(
          `query vector has a non-finite value (${vector[i]}) at position ${i}`,
        );
    const kk = Math.min(k, this.count);
    if (kk === 0) return { ids: [], distances: [], ...(this.hasLabels ? { labels: [] } : {}) };
    const raised = kk > this.efValue;
    if (raised) this.native.setEf(kk); // hnswlib needs ef ≥ k to return k results
    try {
      const r = this.native.searchKnn(Array.from(vector), kk);
      return {
        ids: r.neighbors,
        distances: r.distances,
        ...(this.labelStore ? { labels: r.neighbors.map((id) => this.labelStore![id]) } : {}),
      };
    } finally {
      if (raised) this.native.setEf(this.efValue);
    }
  }

  /**
   * The min(k, count) nearest items of each of Q queries ([Q, dim] flat), nearest first. A query
   * whose search finds fewer (possible after deletes) is padded with id −1, distance Infinity.
   */
  queryBatch(queries: Float32Array, k: number): KnnResult {
    checkK(k);
    const q = rowCount(queries, this.dim, 'queries');
    const kk = Math.min(k, this.count);
    const ids = new Int32Array(q * kk).fill(-1);
    const distances = new Float32Array(q * kk).fill(Infinity);
    for (let i = 0; i < q; i++) {
      const r = this.query(queries.subarray(i * this.dim, (i + 1) * this.dim), kk);
      ids.set(r.ids, i * kk);
      distances.set(r.distances, i * kk);
    }
    return { k: kk, ids, distances };
  }

  /**
   * Saves to one file, atomically (temp file + rename): a header with space, dim, count and
   * parameters, hnswlib's graph, the labels, and a checksum that `load` verifies.
   */
  async save(path: string): Promise<void> {
    if (typeof path !== 'string' || path === '')
      throw new IndexFileError(
        `cannot save the index: the path must be a non-empty string, got ${JSON.stringify(path)}`,
      );
    const dir = await mkdtemp(join(tmpdir(), 'matformer-hnsw-'));
    try {
      const tmp = join(dir, 'graph.bin');
      let payload: Buffer;
      try {
        this.native.writeIndexSync(tmp);
        payload = await readFile(tmp);
      } catch (e) {
        throw new IndexFileError(
          `cannot save the index to ${path}: hnswlib could not write its graph to the temp directory (${reason(e)})`,
        );
      }
      await writeIndexFile(
        path,
        {
          space: this.space,
          dim: this.dim,
          count: this.n,
          capacity: this.capacity,
          M: this.M,
          efConstruction: this.efConstruction,
          ef: this.efValue,
          seed: this.seed,
        },
        payload,
        this.labels(),
      ).catch((e: unknown) => {
        throw new IndexFileError(`cannot save the index to ${path}: ${reason(e)}`);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Loads a file written by `save`. A missing, truncated or corrupt file, or one whose
   * dimension or space differs from `expect`, fails with an IndexFileError saying which.
   */
  static async load(path: string, expect: LoadOptions = {}): Promise<HnswIndex> {
    const { header, payload, labels } = await readIndexFile(path);
    if (expect.dim !== undefined && header.dim !== expect.dim)
      throw new IndexFileError(
        `${path} holds ${header.dim}-dimensional vectors; expected ${expect.dim} (was it built with another model?)`,
      );
    if (expect.space !== undefined && header.space !== expect.space)
      throw new IndexFileError(
        `${path} uses the "${header.space}" space; expected "${expect.space}"`,
      );
    // The checksum is no signature: a rewritten header can claim any dimension. hnswlib reads
    // vectors of the constructor's dimension from the graph's rows, so a mismatch reads out of
    // bounds (NaN distances). The graph records its own row layout: compare before loading.
    const graphDim = hnswGraphDim(payload);
    if (graphDim !== header.dim)
      throw new IndexFileError(
        `${path}: the header says ${header.dim}-dimensional vectors, the hnswlib graph holds ${graphDim ?? 'an unreadable number of'}-dimensional ones (corrupt or forged header)`,
      );
    // The whole graph is walked in JS first: hnswlib's loader must never fail (see checkHnswGraph).
    const graph = checkHnswGraph(payload, header, path);
    // A fresh native object, never initialised: if its read fails anyway there is no old graph
    // for hnswlib-node to free and leave dangling.
    const native = new HierarchicalNSW(header.space, header.dim);
    const dir = await mkdtemp(join(tmpdir(), 'matformer-hnsw-'));
    try {
      const tmp = join(dir, 'graph.bin');
      await writeFile(tmp, payload);
      try {
        native.readIndexSync(tmp);
      } catch (e) {
        throw new IndexFileError(`${path}: hnswlib could not read the graph: ${reason(e)}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const index = new HnswIndex({ ...header, capacity: 1 }, native);
    if (native.getCurrentCount() !== header.count)
      throw new IndexFileError(
        `${path}: the graph holds ${native.getCurrentCount()} items, the header says ${header.count}`,
      );
    index.n = header.count;
    for (const id of graph.deleted) index.deletedIds.add(id);
    native.setEf(header.ef);
    if (labels) {
      index.labelStore = new Int32Array(Math.max(index.capacity, labels.length));
      index.labelStore.set(labels);
    }
    return index;
  }
}

/**
 * An error's message on one line, without the file names Node appends (", open '/x.tmp-…'"):
 * the caller names the user's path, never our temp files.
 */
function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/, \w+ '[^']*'( -> '[^']*')?$/, '');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
