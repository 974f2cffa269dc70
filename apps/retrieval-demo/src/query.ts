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

export interface QueryAnswer {
  encoder: { name: string; widths: number[]; flops: number; flopsRatio: number };
  neighbors: { id: number; label: number; distance: number }[];
  /** Wall-clock ms: embedding the query, searching the index, both. */
  embedMs: number;
  searchMs: number;
  totalMs: number;
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
  const { vectors } = await embedImages(state.model, pixels, { widths: e.widths });
  const t1 = performance.now();
  const r = await state.store.search(vectors, k); // one query: [1, k']
  const t2 = performance.now();
  const ids = Array.from(r.ids).filter((id) => id >= 0);
  return {
    encoder: { name: e.name, widths: e.widths, flops: e.flops, flopsRatio: e.flopsRatio },
    neighbors: ids.map((id, i) => ({ id, label: r.labels![i], distance: r.distances[i] })),
    embedMs: t1 - t0,
    searchMs: t2 - t1,
    totalMs: t2 - t0,
  };
}
