import {
  embedImages,
  pickEncoder,
  type QueryEncoder,
  type VectorStore,
} from '@matformer/retrieval';
import type { MatViT } from '@matformer/core';
import type { DigitSplits } from './data';
import type { RetrievalReport } from './experiment';

/** What the web page queries: the model, the database index, the encoders and the measured curve. */
export interface DemoState {
  model: MatViT;
  data: DigitSplits;
  /** The train split embedded by the full encoder (hnswlib or pgvector); labels are the digits. */
  store: VectorStore;
  /** Digits in the store. */
  databaseSize: number;
  /** Query encoders, cheapest first (the slider's stops). */
  encoders: QueryEncoder[];
  /** The accuracy-vs-compute table, when measured. */
  report?: RetrievalReport;
  k: number;
}

export interface SearchAnswer {
  encoder: { name: string; widths: number[]; flops: number; flopsRatio: number };
  neighbors: { id: number; label: number; distance: number }[];
  /** Wall-clock ms searching the index. */
  searchMs: number;
}

export interface QueryAnswer extends SearchAnswer {
  /** The query's unit embedding [C], as searched: the page compares its own with it. */
  embedding: number[];
  /** Wall-clock ms: embedding the query, and embedding plus search. */
  embedMs: number;
  totalMs: number;
}

/**
 * The k nearest database digits to a unit query embedding [C] made by the named encoder
 * (an unknown name throws RetrievalError).
 */
export async function searchEmbedding(
  state: DemoState,
  unit: Float32Array, // [C]
  encoderName: string,
  k: number,
): Promise<SearchAnswer> {
  const e = pickEncoder(state.encoders, encoderName);
  const t0 = performance.now();
  const r = await state.store.search(unit, k); // one query: [1, k']
  const searchMs = performance.now() - t0;
  const ids = Array.from(r.ids).filter((id) => id >= 0);
  return {
    encoder: { name: e.name, widths: e.widths, flops: e.flops, flopsRatio: e.flopsRatio },
    neighbors: ids.map((id, i) => ({ id, label: r.labels![i], distance: r.distances[i] })),
    searchMs,
  };
}

/** Embeds one query image with the chosen encoder and finds its k nearest database digits. */
export async function answerQuery(
  state: DemoState,
  pixels: Float32Array, // [H, W, C]
  encoderName: string,
  k: number,
): Promise<QueryAnswer> {
  const e = pickEncoder(state.encoders, encoderName);
  const t0 = performance.now();
  const { vectors } = await embedImages(state.model, pixels, { widths: e.widths }); // [1, C], unit
  const embedMs = performance.now() - t0;
  const found = await searchEmbedding(state, vectors, e.name, k);
  return {
    ...found,
    embedding: Array.from(vectors),
    embedMs,
    totalMs: embedMs + found.searchMs,
  };
}
