// @matformer/retrieval for browsers (the "browser" export condition): embeddings from any MatViT
// submodel, exact search, metrics, adaptive encoder choice and retrieval over any VectorStore
// (e.g. one a page implements). Left out: the hnswlib index (a native addon), PostgreSQL and
// PGlite stores and index files, which need Node.
export { RetrievalError, IndexFileError } from './errors';
export { spaces, normalizeRows, type Space, type KnnResult } from './vectors';
export { embedImages, type EmbedOptions, type Embeddings } from './embed';
export { exactSearch, type ExactSearchOptions } from './exact-search';
export { oneNNAccuracy, recallAtK, measureQps, timed } from './metrics';
export {
  queryEncoders,
  pickEncoder,
  measureEncoderLatency,
  encoderForBudget,
  type QueryEncoder,
  type LatencyOptions,
  type BudgetChoice,
} from './adaptive';
export {
  parseStoreSpec,
  redactUrl,
  type VectorStore,
  type StoreParams,
  type StoreSearchResult,
  type StoreSpec,
} from './vector-store';
export {
  indexDatabase,
  searchWithEncoder,
  adaptiveRetrieval,
  type EncoderSearch,
  type AdaptiveRow,
} from './adaptive-search';
