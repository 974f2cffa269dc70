import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MatViT, Widths } from '@matformer/core';
import {
  defaultHnswParams,
  embedImages,
  exactSearch,
  HnswIndex,
  measureQps,
  oneNNAccuracy,
  queryEncoders,
  recallAtK,
  timed,
  type HnswParams,
  type QueryEncoder,
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
  index: HnswIndex;
  /** Whether it came from disk (else it was embedded and built now). */
  loaded: boolean;
  embedMs?: number;
  buildMs?: number;
  /** The database embeddings, when built now (needed for exact search). */
  vectors?: Float32Array;
  path: string;
}

/**
 * The train split embedded by the FULL encoder in an hnswlib index (cosine, labels = digits).
 * Cached in the run directory under the model's fingerprint, so a retrained model never meets
 * a stale index.
 */
export async function databaseIndex(
  model: MatViT,
  data: DigitSplits,
  runDir: string | undefined,
  fingerprint: string,
  params: Partial<HnswParams>,
  log: (s: string) => void = () => undefined,
): Promise<DatabaseIndex> {
  const n = datasetSize(data.train);
  const { M, efConstruction } = { ...defaultHnswParams, ...params };
  // The cache key names everything the graph depends on: model, database size, build parameters.
  const path = runDir
    ? join(runDir, `database-${fingerprint}-${n}-M${M}-efc${efConstruction}.mfhnsw`)
    : '';
  const dim = model.config.dModel;
  if (path && existsSync(path)) {
    const index = await HnswIndex.load(path, { dim, space: 'cosine' });
    if (params.ef !== undefined) index.ef = params.ef;
    log(`loaded the database index from ${path} (${index.count} digits)`);
    return { index, loaded: true, path };
  }
  log(`embedding ${n} database digits with the full encoder…`);
  const { result: db, ms: embedMs } = await timed(() => embedImages(model, data.train.images));
  const { result: index, ms: buildMs } = await timed(() =>
    HnswIndex.build(db.vectors, { space: 'cosine', dim, labels: data.train.labels, ...params }),
  );
  log(`built the hnswlib index in ${(buildMs / 1000).toFixed(2)} s`);
  if (path) await index.save(path);
  return { index, loaded: false, embedMs, buildMs, vectors: db.vectors, path };
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
    const embedded = await measureQps(datasetSize(data.test), () =>
      embedImages(model, data.test.images, { widths: e.widths }),
    );
    const q = embedded.result.vectors;
    const search = await measureQps(datasetSize(data.test), () => db.index.queryBatch(q, opts.k));
    const exact = exactSearch(dbVectors, q, opts.k, { space: 'cosine', dim: config.dModel });
    const row: EncoderRow = {
      name: e.name,
      widths: e.widths,
      flops: e.flops,
      flopsRatio: e.flopsRatio,
      accuracy: oneNNAccuracy(search.result, data.train.labels, data.test.labels),
      exactAccuracy: oneNNAccuracy(exact, data.train.labels, data.test.labels),
      recall: recallAtK(search.result, exact, Math.min(opts.k, exact.k)),
      embedQps: embedded.qps,
      searchQps: search.qps,
    };
    log(`  ${e.name}: 1-NN ${(100 * row.accuracy).toFixed(2)}%`);
    rows.push(row);
  }
  return {
    fingerprint: opts.fingerprint,
    database: db.index.count,
    queries: datasetSize(data.test),
    k: opts.k,
    hnsw: { M: db.index.M, efConstruction: db.index.efConstruction, ef: db.index.ef },
    buildMs: db.buildMs,
    rows,
  };
}
