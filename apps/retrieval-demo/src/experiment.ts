import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MatViT, Widths } from '@matformer/core';
import {
  defaultHnswParams,
  embedImages,
  exactSearch,
  HnswIndex,
  HnswStore,
  indexDatabase,
  oneNNAccuracy,
  openVectorStore,
  parseStoreSpec,
  queryEncoders,
  recallAtK,
  searchWithEncoder,
  timed,
  type HnswParams,
  type QueryEncoder,
  type VectorStore,
} from '@matformer/retrieval';
import { datasetSize } from '@matformer/train';
import type { DigitSplits } from './data';

/** Mix'n'Match query encoders for a 4-layer model, by the paper's heuristic: widths that change little and grow with depth. */
export function demoMixes(granularities: number[], nLayers: number): Record<string, Widths> {
  if (nLayers !== 4 || granularities.length !== 4) return {};
  const [s, m, l, xl] = granularities;
  const mixes: Widths[] = [
    [s, s, m, m],
    [m, m, l, l],
    [l, l, xl, xl],
    [s, m, l, xl],
  ];
  return Object.fromEntries(mixes.map((w) => [`mix-${w.join('-')}`, w]));
}

export interface DatabaseIndex {
  /** hnswlib in this process (the default) or PostgreSQL + pgvector (--store). */
  store: VectorStore;
  /** Digits in the store. */
  count: number;
  /** Whether it came from disk (else it was embedded and built now). */
  loaded: boolean;
  embedMs?: number;
  buildMs?: number;
  /** The database embeddings, when built now (needed for exact search). */
  vectors?: Float32Array;
  /** The index file, or the store's location (a PGlite directory or server, and the table). */
  path: string;
}

/**
 * The train split embedded by the FULL encoder in a vector store (cosine, labels = digits):
 * an hnswlib index file in the run directory (`store` "hnsw", the default), or a pgvector
 * table (`pglite:<dir>`, `postgres://…`). Either is keyed by the model's fingerprint, so a
 * retrained model never meets a stale index.
 */
export async function databaseIndex(
  model: MatViT,
  data: DigitSplits,
  runDir: string | undefined,
  fingerprint: string,
  params: Partial<HnswParams>,
  log: (s: string) => void = () => undefined,
  store?: string,
): Promise<DatabaseIndex> {
  const n = datasetSize(data.train);
  const { M, efConstruction } = { ...defaultHnswParams, ...params };
  if (parseStoreSpec(store).kind !== 'hnsw')
    return pgDatabase(model, data, store!, fingerprint, params, log);
  // The cache key names everything the graph depends on: model, database size, build parameters.
  const path = runDir
    ? join(runDir, `database-${fingerprint}-${n}-M${M}-efc${efConstruction}.mfhnsw`)
    : '';
  const dim = model.config.dModel;
  if (path && existsSync(path)) {
    const index = await HnswIndex.load(path, { dim, space: 'cosine' });
    if (params.ef !== undefined) index.ef = params.ef;
    log(`loaded the database index from ${path} (${index.count} digits)`);
    return { store: HnswStore.wrap(index, path), count: index.count, loaded: true, path };
  }
  log(`embedding ${n} database digits with the full encoder…`);
  const { result: db, ms: embedMs } = await timed(() => embedImages(model, data.train.images));
  const { result: index, ms: buildMs } = await timed(() =>
    HnswIndex.build(db.vectors, { space: 'cosine', dim, labels: data.train.labels, ...params }),
  );
  log(`built the hnswlib index in ${(buildMs / 1000).toFixed(2)} s`);
  if (path) await index.save(path);
  return {
    store: HnswStore.wrap(index, path || undefined),
    count: index.count,
    loaded: false,
    embedMs,
    buildMs,
    vectors: db.vectors,
    path,
  };
}

/** The database in a pgvector table named after the model and the build: reused when full. */
async function pgDatabase(
  model: MatViT,
  data: DigitSplits,
  spec: string,
  fingerprint: string,
  params: Partial<HnswParams>,
  log: (s: string) => void,
): Promise<DatabaseIndex> {
  const n = datasetSize(data.train);
  const { M, efConstruction, ef } = { ...defaultHnswParams, ...params };
  const table = `mnist_${fingerprint}_${n}_m${M}_efc${efConstruction}`;
  const dim = model.config.dModel;
  const store = await openVectorStore(spec, { dim, space: 'cosine', table, M, efConstruction, ef });
  try {
    const count = await store.count();
    if (count === n) {
      log(`using the database in ${store.location} (${count} digits)`);
      return { store, count, loaded: true, path: store.location };
    }
    // Every add is one transaction, so a table holds all n digits or none of them.
    if (count !== 0)
      throw new Error(
        `${store.location} holds ${count} digits, not the ${n} this run needs; drop the table or use another --store`,
      );
    log(`embedding ${n} database digits with the full encoder into ${store.location}…`);
    const r = await indexDatabase(model, store, data.train.images, data.train.labels);
    log(`inserted them (pgvector HNSW index) in ${(r.addMs / 1000).toFixed(2)} s`);
    const at = store.location;
    return {
      store,
      count: n,
      loaded: false,
      embedMs: r.embedMs,
      buildMs: r.addMs,
      vectors: r.vectors,
      path: at,
    };
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}

export interface EncoderRow {
  name: string;
  widths: Widths;
  flops: number;
  flopsRatio: number;
  /** 1-NN accuracy through the hnswlib index, and with exact search. */
  accuracy: number;
  exactAccuracy: number;
  /** recall@k of hnswlib against exact search over the same embeddings. */
  recall: number;
  /** Query images embedded per second (batched), and index searches per second. */
  embedQps: number;
  searchQps: number;
}

export interface RetrievalReport {
  fingerprint: string;
  /** Where the database lived: hnswlib in process, or pgvector. */
  store?: VectorStore['kind'];
  database: number;
  queries: number;
  k: number;
  hnsw: { M: number; efConstruction: number; ef: number };
  buildMs?: number;
  rows: EncoderRow[];
}

/**
 * Queries the database with the held-out digits embedded by each encoder: 1-NN accuracy,
 * recall@k against exact search over the same database and query embeddings, throughput.
 */
export async function evaluateEncoders(
  model: MatViT,
  data: DigitSplits,
  db: DatabaseIndex,
  opts: { k: number; fingerprint: string; encoders?: QueryEncoder[]; log?: (s: string) => void },
): Promise<RetrievalReport> {
  const log = opts.log ?? (() => undefined);
  const config = model.config;
  const encoders =
    opts.encoders ?? queryEncoders(config, demoMixes(config.granularities, config.nLayers));
  // Exact search needs the database vectors: re-embed them if the index came from disk.
  const dbVectors = db.vectors ?? (await embedImages(model, data.train.images)).vectors;
  const rows: EncoderRow[] = [];
  for (const e of encoders) {
    const search = await searchWithEncoder(model, db.store, e, data.test.images, opts.k);
    const q = search.vectors;
    const exact = exactSearch(dbVectors, q, opts.k, { space: 'cosine', dim: config.dModel });
    const row: EncoderRow = {
      name: e.name,
      widths: e.widths,
      flops: e.flops,
      flopsRatio: e.flopsRatio,
      accuracy: oneNNAccuracy(search.result, data.train.labels, data.test.labels),
      exactAccuracy: oneNNAccuracy(exact, data.train.labels, data.test.labels),
      recall: recallAtK(search.result, exact, Math.min(opts.k, exact.k)),
      embedQps: search.embedQps,
      searchQps: search.searchQps,
    };
    log(`  ${e.name}: 1-NN ${(100 * row.accuracy).toFixed(2)}%`);
    rows.push(row);
  }
  return {
    fingerprint: opts.fingerprint,
    store: db.store.kind,
    database: await db.store.count(),
    queries: datasetSize(data.test),
    k: opts.k,
    hnsw: db.store.params,
    buildMs: db.buildMs,
    rows,
  };
}
