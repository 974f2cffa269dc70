import type { MatViT } from '@matformer/core';
import type { QueryEncoder } from './adaptive';
import { embedImages } from './embed';
import { RetrievalError } from './errors';
import { measureQps, oneNNAccuracy, timed } from './metrics';
import type { StoreSearchResult, VectorStore } from './vector-store';

/**
 * Embeds the database images with the FULL model (every layer at its widest) and adds them to
 * the store as one batch (all or nothing): the half of adaptive retrieval done once.
 */
export async function indexDatabase(
  model: MatViT,
  store: VectorStore,
  images: Float32Array, // [N, H, W, C]
  labels?: ArrayLike<number>, // [N]
): Promise<{ first: number; vectors: Float32Array; embedMs: number; addMs: number }> {
  const { result: db, ms: embedMs } = await timed(() => embedImages(model, images));
  if (db.dim !== store.dim)
    throw new RetrievalError(
      `the model embeds into ${db.dim} dimensions; ${store.location} holds ${store.dim}-dimensional vectors`,
    );
  const { result: first, ms: addMs } = await timed(() => store.add(db.vectors, labels));
  return { first, vectors: db.vectors, embedMs, addMs };
}

/** One query encoder's pass over a query set: its embeddings, the store's answers, throughput. */
export interface EncoderSearch {
  vectors: Float32Array; // [Q, dim], L2-normalised
  result: StoreSearchResult; // [Q, k]
  /** Query images embedded per second (batched), and store searches per second. */
  embedQps: number;
  searchQps: number;
}

/** Embeds the query images with `encoder` (a nested submodel) and searches the store with them. */
export async function searchWithEncoder(
  model: MatViT,
  store: VectorStore,
  encoder: QueryEncoder,
  images: Float32Array, // [Q, H, W, C]
  k: number,
  opts: { ef?: number } = {},
): Promise<EncoderSearch> {
  const { imageSize: S, channels: C } = model.config;
  const q = images.length / (S * S * C);
  if (!Number.isInteger(q) || q < 1)
    throw new RetrievalError(`images must hold whole ${S}×${S}×${C} images (at least one)`);
  const embedded = await measureQps(q, () =>
    embedImages(model, images, { widths: encoder.widths }),
  );
  const vectors = embedded.result.vectors;
  const search = await measureQps(q, () => store.search(vectors, k, opts));
  return { vectors, result: search.result, embedQps: embedded.qps, searchQps: search.qps };
}

/** One row of the adaptive-retrieval table. */
export interface AdaptiveRow extends EncoderSearch {
  encoder: QueryEncoder;
  /** 1-NN accuracy: the nearest stored item has the query's label. */
  accuracy: number;
}

/**
 * The adaptive-retrieval table on any VectorStore (hnswlib or pgvector): for each query encoder,
 * 1-NN accuracy of its query embeddings against the database the full model embedded.
 * `databaseLabels[id]` is the label of stored item `id`.
 */
export async function adaptiveRetrieval(
  model: MatViT,
  store: VectorStore,
  encoders: QueryEncoder[],
  queries: { images: Float32Array; labels: ArrayLike<number> },
  databaseLabels: ArrayLike<number>,
  opts: { k?: number; ef?: number } = {},
): Promise<AdaptiveRow[]> {
  if (encoders.length === 0) throw new RetrievalError('no query encoders to evaluate');
  const rows: AdaptiveRow[] = [];
  for (const encoder of encoders) {
    const s = await searchWithEncoder(model, store, encoder, queries.images, opts.k ?? 1, opts);
    rows.push({ encoder, ...s, accuracy: oneNNAccuracy(s.result, databaseLabels, queries.labels) });
  }
  return rows;
}
